"""The evaluation's model-facing paths on the real CPU model (Qwen2.5-Coder-0.5B): a simulated consultation where
the model is the doctor, the patient's voice and the diagnosis grader, and rubric grading. Plumbing only: the
small model's medicine is not what is measured here (docs/evaluation.md has the numbers)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.core.management import call_command

from agent.models import Trajectory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

CASES = Path(__file__).parent / "data" / "osce" / "three_cases.jsonl"


def test_a_consultation_and_its_grading_run_on_the_real_model(real_model, tmp_path):
    out = tmp_path / "report.json"
    call_command("simulate", "--cases", str(CASES), "--out", str(out), "--model", real_model.base_url,
                 "--limit", "1", "--max-turns", "2", "--in-place", "--no-progress")
    [case] = json.loads(out.read_text())["cases"]
    assert 1 <= case["turns"] <= 2 and case["ending"] in ("concluded", "turn_limit")
    assert case["judged_by"] in ("none", "string", "grader") and isinstance(case["correct"], bool)
    doctor = [t["text"] for t in case["transcript"] if t["role"] == "doctor"]
    assert doctor and all(text.strip() for text in doctor)
    patient = [t["text"] for t in case["transcript"] if t["role"] == "patient"]
    assert all("keratosis" not in text.lower() for text in patient)  # the checker kept the diagnosis secret
    assert Trajectory.objects.count() == case["turns"]

    rubrics = tmp_path / "rubrics.jsonl"
    rubric = {"id": "case-0", "version": "test", "rubrics": [
        {"criterion": "Asks the patient at least one question.", "points": 5, "tags": ["dimension:consultation_logic"]},
        {"criterion": "Prescribes a medicine with a dose.", "points": -5, "tags": ["dimension:ethics_safety"]}]}
    rubrics.write_text(json.dumps(rubric) + "\n")
    grades = tmp_path / "grades.json"
    call_command("grade", "--conversations", str(tmp_path / "report.conversations.jsonl"), "--rubrics",
                 str(rubrics), "--out", str(grades), "--model", real_model.base_url, "--no-progress")
    [result] = json.loads(grades.read_text())["results"]
    assert 0.0 <= result["score"] <= 1.0
    assert all(isinstance(c["met"], bool) and c["explanation"] for c in result["criteria"])


def test_with_no_model_answering_the_default_cpu_model_is_started_for_the_run(settings, monkeypatch, tmp_path):
    settings.MODEL_BASE_URL = "http://127.0.0.1:9/v1"  # nothing answers there
    monkeypatch.setenv("LOCAL_MODEL", "small")  # the test model; a plain run takes the default one
    out = tmp_path / "report.json"
    call_command("simulate", "--cases", str(CASES), "--out", str(out), "--limit", "1", "--max-turns", "1",
                 "--patient-model", "none", "--grader-model", "none", "--in-place", "--no-progress")
    [case] = json.loads(out.read_text())["cases"]
    assert case["turns"] == 1 and case["doctor_seconds"] > 0
    assert json.loads(out.read_text())["summary"]["model"] == "continuum-local"
