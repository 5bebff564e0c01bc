"""Simulated consultations on OSCE cases: the live harness plays the doctor against the patient simulator.

    python manage.py simulate --cases FILE.jsonl --out REPORT.json [--model URL] [--limit N] [--persona NAME]

Runs in a database of its own (var/simulation.sqlite3 unless --database or --in-place), so simulated patients
never enter the clinic's record. Resumable: cases already in REPORT.json are skipped.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from agent.model.client import ModelUnavailable
from agent.simulation.cases import read_cases
from agent.simulation.consultation import (
    SimulationStopped,
    examinations_requested,
    grounding_counts,
    run_consultation,
    trajectory_records,
)
from agent.simulation.judge import judge
from agent.simulation.patient import SimulatedPatient
from agent.simulation.personas import DEFAULT, PERSONAS, persona
from agent.simulation.report import Report
from agent.simulation.runs import (
    CHILD,
    ModelClients,
    add_run_arguments,
    prepare_simulation_process,
    rerun_in_own_database,
)


class Command(BaseCommand):
    help = "Run simulated consultations on AgentClinic OSCE cases with the live harness as the doctor."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--cases", required=True, help="AgentClinic-format cases, one JSON object per line")
        parser.add_argument("--out", required=True, help="the report (JSON); cases already in it are skipped")
        add_run_arguments(parser, "simulation.sqlite3")
        parser.add_argument("--patient-model", default="",
                            help="base URL for the patient simulator's phrasing (default: the doctor's); "
                                 "'none' states the facts plainly without a model")
        parser.add_argument("--grader-model", default="",
                            help="base URL of the diagnosis grader (default: the doctor's); 'none' uses the "
                                 "normalised string match alone")
        parser.add_argument("--limit", type=int, default=0, help="only the first N usable cases of the file")
        parser.add_argument("--persona", default=DEFAULT, choices=sorted(PERSONAS), help="how the patient talks")
        parser.add_argument("--max-turns", type=int, default=8, help="doctor replies before the consultation ends")

    def handle(self, *args, **options) -> None:
        if not options["in_place"] and os.environ.get(CHILD) != "1":
            self.rerun_in_own_database(options)
            return
        prepare_simulation_process()
        cases, errors = read_cases(options["cases"]) if Path(options["cases"]).exists() else ([], None)
        if errors is None:
            raise CommandError(f"no cases file at {options['cases']}")
        for error in errors:
            self.stderr.write(f"skipped {options['cases']} {error}")
        if options["limit"]:
            cases = cases[:options["limit"]]
        with ModelClients(options) as (doctor, patient_client, grader):
            try:
                who = persona(options["persona"])
            except ValueError as exc:
                raise CommandError(str(exc)) from exc
            report = Report(options["out"], {"model": doctor.config.model, "model_url": doctor.config.base_url,
                                             "persona": who.name, "max_turns": options["max_turns"]})
            report.skipped = [{"line": e.line, "error": str(e)} for e in errors]
            todo = [c for c in cases if c.index not in report.done]
            trajectories = Path(options["out"]).with_suffix("").with_name(Path(options["out"]).stem + ".trajectories")
            with tqdm(total=len(cases), initial=len(cases) - len(todo), desc="cases", unit="case",
                      disable=options["no_progress"], file=sys.stderr) as bar:
                for case in todo:
                    try:
                        entry = self.run_case(case, who, doctor, patient_client, grader, options["max_turns"],
                                              trajectories)
                    except (SimulationStopped, ModelUnavailable) as exc:
                        report.save()
                        raise CommandError(f"stopped at case {case.index}: {exc}. The {len(report.cases)} "
                                           f"finished cases are in {options['out']}; rerun to resume.") from exc
                    report.add(entry)
                    bar.update(1)
            report.save()
        summary = report.summary()
        self.stdout.write(f"{summary['cases']} cases: diagnosis accuracy {summary['diagnosis_accuracy']:.3f} "
                          f"(95% CI {summary['diagnosis_accuracy_ci95'][0]:.3f}-"
                          f"{summary['diagnosis_accuracy_ci95'][1]:.3f}), inquiry coverage "
                          f"{summary['mean_inquiry_coverage']:.3f}, {summary['mean_turns']:.1f} turns, "
                          f"{summary['seconds_per_case']:.0f} s a case -> {options['out']}")

    def run_case(self, case, who, doctor, patient_client, grader, max_turns: int, trajectories: Path) -> dict:
        patient = SimulatedPatient(case, who, patient_client)
        waited = doctor.seconds
        consultation = run_consultation(case, patient, doctor, max_turns)
        doctor_model = doctor.seconds - waited
        started = time.monotonic()
        verdict = judge(consultation.diagnosis, case.diagnosis, grader)
        grading = time.monotonic() - started
        path = trajectories / f"case-{case.index}.jsonl"
        records = trajectory_records(consultation.conversation_id)
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "w", encoding="utf-8") as stream:
            for record in records:
                stream.write(json.dumps(record, ensure_ascii=False) + "\n")
        items = case.history_items
        return {
            "index": case.index,
            "diagnosis": consultation.diagnosis,
            "correct_diagnosis": case.diagnosis,
            "correct": verdict.correct,
            "inquiry_coverage": round(len(patient.elicited) / len(items), 4) if items else 0.0,
            "turns": consultation.turns,
            "red_flags": consultation.red_flags,
            "trajectory": str(path),
            "judged_by": verdict.method,
            "judge_reason": verdict.reason,
            "ending": consultation.ending,
            "elicited": sorted(f.text for f in patient.elicited),
            "examinations": examinations_requested(records),
            "simulator_problems": [str(p) for p in patient.problems],
            "grounding": grounding_counts(records),
            "transcript": consultation.transcript,
            "seconds": round(consultation.seconds + grading, 2),
            "doctor_seconds": round(doctor_model, 2),  # waiting on the doctor's model
            "harness_seconds": round(consultation.turn_seconds - doctor_model, 2),  # the rest of its turns
            "patient_seconds": round(patient.model_seconds, 2),
            "grader_seconds": round(grading, 2),
        }

    def rerun_in_own_database(self, options: dict) -> None:
        argv = ["--cases", options["cases"], "--out", options["out"], "--persona", options["persona"],
                "--max-turns", str(options["max_turns"])]
        for flag in ("model", "model_name", "patient_model", "grader_model"):
            if options[flag]:
                argv += [f"--{flag.replace('_', '-')}", options[flag]]
        if options["limit"]:
            argv += ["--limit", str(options["limit"])]
        if options["no_progress"]:
            argv.append("--no-progress")
        rerun_in_own_database("simulate", argv, Path(options["database"] or settings.VAR_DIR / "simulation.sqlite3"),
                              self.stderr)
