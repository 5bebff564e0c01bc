"""The patient simulator's units: cases read from AgentClinic lines, the fact unit (answers only what is asked,
checker catches leaks and inventions), the affective unit (personas change the words, not the facts), the
measurement role, the termination gate and the diagnosis judge."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agent.simulation.cases import read_cases
from agent.simulation.facts import answerable, check
from agent.simulation.judge import judge, string_match
from agent.simulation.measurement import Measurement
from agent.simulation.patient import NO_QUESTION, SimulatedPatient
from agent.simulation.personas import PERSONAS, persona
from agent.simulation.termination import diagnosis_in, ending
from tests.support.scripted_model import Script
from tests.support.turns import client_for

CASES = Path(__file__).parent / "data" / "osce" / "three_cases.jsonl"


@pytest.fixture
def keratosis():
    return read_cases(CASES)[0][0]  # a 77-year-old man with greasy forehead lesions: seborrheic keratosis


@pytest.fixture
def silicosis():
    return read_cases(CASES)[0][1]  # breathless glass worker: silicosis


def test_cases_are_read_and_bad_lines_are_reported_with_their_line_number(tmp_path):
    good = CASES.read_text().splitlines()[0]
    no_diagnosis = json.loads(good)
    del no_diagnosis["OSCE_Examination"]["Correct_Diagnosis"]
    path = tmp_path / "cases.jsonl"
    path.write_text("\n".join(["{not json", json.dumps(no_diagnosis), "", good, '["a list"]']) + "\n")
    cases, errors = read_cases(path)
    assert [c.index for c in cases] == [3]
    assert [e.line for e in errors] == [1, 2, 5]
    assert "not valid JSON" in str(errors[0]) and "Correct_Diagnosis" in str(errors[1])
    case = cases[0]
    assert case.diagnosis == "Seborrheic keratosis" and case.demographics == "77-year-old male"
    assert any(f.text == "no fever" and f.negative for f in case.facts)
    assert all(f.text != case.complaint for f in case.history_items)


def test_an_asymptomatic_case_opens_with_its_reason_for_the_visit():
    shared = Path(__file__).resolve().parents[2] / "shared" / "data" / "osce" / "osce_cases_dev.jsonl"
    if not shared.exists():
        pytest.skip("the shared OSCE cases are not on this machine")
    cases, errors = read_cases(shared)
    assert not errors and len(cases) == 105
    screening = next(c for c in cases if "occult blood" in c.complaint)
    assert screening.complaint.startswith("The patient presents for a follow-up visit")


def test_the_patient_answers_only_what_is_asked(keratosis):
    patient = SimulatedPatient(keratosis, persona("plain"))
    opening = patient.opening()
    assert "77-year-old" in opening and "greasy" in opening and "keratosis" not in opening.lower()
    smoke = patient.answer("Do you smoke or drink alcohol?")
    assert "non-smoker" in smoke.text and "alcohol" in smoke.text and "fever" not in smoke.text
    fever = patient.answer("Any fever or weight loss?")
    assert fever.text == "No weight loss. No fever."
    itch = patient.answer("Are they itchy or painful?")
    assert "itchiness" in itch.text.lower() and "pain" in itch.text.lower()
    assert patient.answer("I see, thank you.").text == NO_QUESTION  # no question, nothing revealed
    told = {f.text for f in patient.elicited}
    assert {"no fever", "no weight loss", "no itchiness", "no pain"} <= told
    assert keratosis.complaint not in told  # volunteered in the opening: not elicited
    assert all("biopsy" not in a.lower() for a in (smoke.text, fever.text, itch.text))


def test_facts_follow_the_words_of_the_question(silicosis):
    job = answerable("What do you do for work?", silicosis, set())
    assert any("glass" in f.text for f in job)
    onset = answerable("When did the breathlessness start?", silicosis, set())
    assert any("a year ago" in f.text for f in onset)


def test_the_checker_catches_leaks_inventions_and_contradictions(keratosis):
    kinds = {p.kind for p in check("The biopsy showed seborrheic keratosis with horn cysts.", keratosis)}
    assert {"diagnosis_leak", "result_leak"} <= kinds
    assert {p.kind for p in check("I've had it for 3 weeks.", keratosis)} == {"invented_number"}
    assert {p.kind for p in check("Yes, I had a fever last week.", keratosis)} == {"contradiction"}
    assert check("No fever, and I don't smoke.", keratosis) == []
    invented = check("Yes, I have a mild allergy to penicillin.", keratosis, "Any allergies?")
    assert {p.kind for p in invented} == {"invented_fact"} and len(invented) == 2
    assert check("No allergies that I know of.", keratosis, "Any allergies?") == []
    # The patient may repeat the doctor's own words without leaking anything.
    assert check("I don't know if it is seborrheic keratosis.", keratosis,
                 "Could this be seborrheic keratosis?") == []


def test_a_model_answer_that_fails_the_check_is_regenerated_then_replaced(keratosis, scripted_model):
    scripted_model.queue(Script(text="My biopsy said seborrheic keratosis."),
                         Script(text="I had a fever of 39 degrees."))
    patient = SimulatedPatient(keratosis, persona("plain"), client_for(scripted_model, timeout=5))
    answer = patient.answer("Have you had any fever?")
    assert answer.fallback and answer.text == "No fever."
    assert {p.kind for p in answer.problems} >= {"diagnosis_leak", "invented_number", "contradiction"}
    assert len(scripted_model.requests) == 2
    retry = scripted_model.requests[1]["messages"][0]["content"]
    assert "previous answer was rejected" in retry
    scripted_model.queue(Script(text="Nope, I don't smoke."))
    assert patient.answer("Do you smoke?").text == "Nope, I don't smoke."
    # What the case says nothing about is answered plainly, without asking the model (which would invent).
    asked = len(scripted_model.requests)
    assert patient.answer("Do you have any allergies?").text == "No, not that I know of."
    assert len(scripted_model.requests) == asked


def test_personas_change_how_the_patient_talks_not_what_is_true(keratosis, scripted_model):
    prompts = []
    for name in ("anxious", "stoic"):
        scripted_model.queue(Script(text="No fever."))
        SimulatedPatient(keratosis, PERSONAS[name], client_for(scripted_model)).answer("Any fever?")
        prompts.append(scripted_model.requests[-1]["messages"][0]["content"])
    facts = [p.split("Facts you may use now:")[1] for p in prompts]
    assert facts[0] == facts[1] and "- no fever" in facts[0]
    assert PERSONAS["anxious"].describe() in prompts[0] and PERSONAS["stoic"].describe() in prompts[1]
    with pytest.raises(ValueError, match="anxious"):
        persona("grumpy")


def test_the_measurement_role_gives_findings_and_never_invents(keratosis):
    measurement = Measurement(keratosis)
    skin = measurement.examine("examination", "skin")
    assert "cerebriform" in skin
    assert "Heart Rate: 72 bpm" in measurement.examine("examination", "vital signs")
    assert "horn cysts" in measurement.examine("test", "biopsy of the lesion")
    missing = measurement.examine("test", "chest x-ray")
    assert "not available" in missing
    assert len(measurement.findings_so_far()) == 3 and len(measurement.requests) == 4


def test_the_termination_gate():
    assert diagnosis_in("Thanks.\nMost likely diagnosis: Seborrheic keratosis.") == "Seborrheic keratosis"
    assert diagnosis_in("My working diagnosis is **silicosis**; we should confirm it.") == "silicosis"
    assert diagnosis_in("How long has it been going on?") == ""
    assert ending(2, 8, "Most likely diagnosis: X.", True, False).reason == "concluded"
    assert ending(2, 8, "Most likely diagnosis: X. Any questions?", True, False) is None
    assert ending(2, 8, "Most likely diagnosis: X.", True, True) is None  # the patient still has a question
    assert ending(8, 8, "Any fever?", False, False).reason == "turn_limit"


def test_the_diagnosis_judge(scripted_model):
    assert string_match("Seborrheic keratoses", "Seborrheic keratosis")
    assert string_match("Lichen sclerosus (vulvar)", "Lichen Sclerosus")
    assert not string_match("Acute myeloid leukemia", "Chronic myeloid leukemia")
    assert not string_match("keratosis", "Seborrheic keratosis")
    assert judge("", "Silicosis", None).method == "none"
    assert judge("Silicosis", "Silicosis", None).method == "string"
    scripted_model.decide({"same": True, "reason": "a synonym"})
    verdict = judge("Basal cell papilloma", "Seborrheic keratosis", client_for(scripted_model))
    assert verdict.correct and verdict.method == "grader"
    scripted_model.decide("not json")
    assert not judge("Eczema", "Seborrheic keratosis", client_for(scripted_model)).correct
