"""Simulated consultations: the live harness plays the doctor against a simulated patient.

cases.py        AgentClinic OSCE cases -> facts, examinations, tests, diagnosis
facts.py        the fact unit: which facts answer the doctor's question, and the checker of what the patient said
personas.py     the affective unit: how the patient talks (never what is true)
patient.py      the simulated patient: the two units plus a model that phrases the answer
measurement.py  the measurement role: examination findings and test results on request (a tool)
termination.py  the termination gate: when the consultation is over, and the diagnosis the doctor gave
judge.py        whether a diagnosis is the correct one (normalised match, then a grader model)
consultation.py one case through the live harness (agent/turn.py), exactly as a patient's chat runs
report.py       resumable reports (simulate's; memory's builds on it)
runs.py         how an evaluation command runs: its model clients and a database of its own
rubrics.py      HealthBench-format rubrics per case or conversation (versioned)
grading.py      a grader model judges each criterion; HealthBench scoring
memory.py       multi-visit scenarios: a fact from weeks ago, recalled and used (or not)
knowledge.py    the medical multiple-choice quiz
Commands: simulate, make_rubrics, grade, evaluate_memory, evaluate_knowledge (docs/evaluation.md).
"""
