"""`manage.py simulate`: the live harness plays the doctor against the simulated patient, with scripted model
sides so the plumbing is deterministic (the real CPU model runs it in test_simulation_on_the_real_model.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from agent.management.commands.export_trajectories import as_record
from agent.models import Trajectory
from agent.tools.base import PATIENT_AGENT
from agent.tools.registry import tools_for
from tests.support.scripted_model import Script
from webapp.chat.models import Conversation, Turn, TurnStatus

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.sqlite_pass]

CASES = Path(__file__).parent / "data" / "osce" / "three_cases.jsonl"
CASE_KEYS = {"index", "diagnosis", "correct_diagnosis", "correct", "inquiry_coverage", "turns", "red_flags",
             "trajectory"}
SUMMARY_KEYS = {"cases", "diagnosis_accuracy", "mean_inquiry_coverage", "mean_turns"}


def simulate(scripted_model, out: Path, *extra: str, cases: Path = CASES) -> None:
    call_command("simulate", "--cases", str(cases), "--out", str(out), "--model", scripted_model.base_url,
                 "--patient-model", "none", "--grader-model", "none", "--in-place", "--no-progress", *extra)


def offered_in_decision(request: dict) -> set[str]:
    items = request["response_format"]["schema"]["properties"]["tool_calls"]["items"]["anyOf"]
    return {item["properties"]["name"]["const"] for item in items}


def test_one_case_runs_on_the_live_harness_and_is_reported(scripted_model, tmp_path):
    scripted_model.queue(Script(text="I'm sorry to hear that. When did you first notice the lesions?"),
                         Script(text="Thank you. Do you smoke, or drink alcohol?"),
                         Script(text="Most likely diagnosis: Seborrheic keratosis. It is harmless."))
    scripted_model.decide({"tool_calls": [{"name": "request_examination",
                                           "arguments": {"kind": "examination", "name": "skin"}}]})
    out = tmp_path / "report.json"
    simulate(scripted_model, out, "--limit", "1", "--max-turns", "6")

    report = json.loads(out.read_text())
    assert set(report["summary"]) >= SUMMARY_KEYS
    assert report["summary"]["cases"] == 1 and report["summary"]["diagnosis_accuracy"] == 1.0
    [case] = report["cases"]
    assert set(case) >= CASE_KEYS
    assert case["index"] == 0 and case["correct"] and case["judged_by"] == "string"
    assert case["diagnosis"] == "Seborrheic keratosis" and case["correct_diagnosis"] == "Seborrheic keratosis"
    assert case["turns"] == 3 and case["ending"] == "concluded" and case["red_flags"] == []
    assert 0 < case["inquiry_coverage"] < 1
    assert any("alcohol" in fact for fact in case["elicited"])
    assert case["examinations"] == [{"arguments": {"kind": "examination", "name": "skin"}, "ok": True}]
    assert case["doctor_seconds"] > 0 and case["harness_seconds"] >= 0 and case["patient_seconds"] == 0
    assert 0 < report["summary"]["share_of_time_in_doctor_model"] <= 1
    # The grounding check's verdicts on the doctor's claims (none of these scripted sentences makes one).
    assert case["grounding"] == {"claims": 0, "unsupported": 0, "removed": 0, "delivered_unsupported": 0}
    assert report["summary"]["unsupported_claim_rate"] is None

    # The doctor was the live harness: its decision offered the examination tool, and the findings reached it.
    replies = scripted_model.reply_requests
    decisions = [r for r in scripted_model.requests if not r.get("stream")]
    assert "request_examination" in offered_in_decision(decisions[0])
    assert "cerebriform" in replies[1]["messages"][0]["content"]
    assert "3 of 6 replies left" not in replies[0]["messages"][0]["content"]
    assert "6 of 6 replies left" in replies[0]["messages"][0]["content"]

    # Its turns are live turns, recorded as trajectories in the live format, never queued.
    conversation = Conversation.objects.get(simulated=True)
    assert set(Turn.objects.filter(conversation=conversation).values_list("status", flat=True)) == {TurnStatus.DONE}
    lines = [json.loads(line) for line in Path(case["trajectory"]).read_text().splitlines()]
    live = [as_record(t) for t in Trajectory.objects.filter(turn__conversation=conversation).order_by("turn_id")]
    assert len(lines) == 3 and [line["id"] for line in lines] == [r["id"] for r in live]
    assert set(lines[0]) == set(live[0])

    # Beside the report: the consultation as a conversation for make_rubrics and grade.
    [talk] = [json.loads(line) for line in (tmp_path / "report.conversations.jsonl").read_text().splitlines()]
    assert talk["id"] == "case-0" and [m["role"] for m in talk["messages"]][:2] == ["user", "assistant"]

    # Resumable: a second run asks no model anything.
    asked = len(scripted_model.requests)
    simulate(scripted_model, out, "--limit", "1")
    assert len(scripted_model.requests) == asked and len(json.loads(out.read_text())["cases"]) == 1


def test_a_diagnosis_before_the_history_is_taken_is_withheld_as_in_live_care(scripted_model, tmp_path):
    scripted_model.queue(Script(text="Most likely diagnosis: Seborrheic keratosis."))
    out = tmp_path / "report.json"
    simulate(scripted_model, out, "--limit", "1", "--max-turns", "1")
    [case] = json.loads(out.read_text())["cases"]
    assert case["diagnosis"] == "" and not case["correct"]
    [doctor] = [t["text"] for t in case["transcript"] if t["role"] == "doctor"]
    assert "keratosis" not in doctor and "?" in doctor  # the sentence gate held it back and the history goes on


def test_a_doctor_that_never_concludes_hits_the_turn_limit_and_counts_as_wrong(scripted_model, tmp_path):
    scripted_model.queue(*[Script(text="Could you tell me more about it?")] * 2)
    out = tmp_path / "report.json"
    simulate(scripted_model, out, "--limit", "1", "--max-turns", "2")
    [case] = json.loads(out.read_text())["cases"]
    assert case["diagnosis"] == "" and not case["correct"] and case["turns"] == 2 and case["ending"] == "turn_limit"
    last = scripted_model.reply_requests[-1]["messages"][0]["content"]
    assert "this is your last reply" in last


def test_malformed_case_lines_are_reported_and_skipped(scripted_model, tmp_path, capsys):
    good = CASES.read_text().splitlines()[0]
    cases = tmp_path / "cases.jsonl"
    cases.write_text("{broken\n" + good + "\n")
    out = tmp_path / "report.json"
    simulate(scripted_model, out, "--max-turns", "1", cases=cases)
    report = json.loads(out.read_text())
    assert report["skipped_lines"][0]["line"] == 1 and "line 1" in capsys.readouterr().err
    assert [c["index"] for c in report["cases"]] == [1]


def test_an_unreachable_model_stops_the_run_and_keeps_finished_cases(scripted_model, tmp_path):
    scripted_model.queue(Script(text="When did it start?"), *[Script(status=503)] * 10)
    out = tmp_path / "report.json"
    with pytest.raises(CommandError, match=r"stopped at case 1: .*503.*1 finished cases"):
        simulate(scripted_model, out, "--limit", "2", "--max-turns", "1")
    assert [c["index"] for c in json.loads(out.read_text())["cases"]] == [0]
    with pytest.raises(CommandError, match="does not answer"):
        call_command("simulate", "--cases", str(CASES), "--out", str(out), "--model", "http://127.0.0.1:9/v1",
                     "--in-place", "--no-progress")
    assert len(json.loads(out.read_text())["cases"]) == 1


def test_examinations_are_never_offered_in_live_care():
    assert "request_examination" not in {t.name for t in tools_for(PATIENT_AGENT, "advice")}
    assert "request_examination" not in {t.name for t in tools_for(PATIENT_AGENT, "inquiry")}
