"""`manage.py evaluate_memory` (agent/simulation/memory.py): a fact given in an early visit must come back, through
the record, weeks later. Scripted model sides keep the plumbing deterministic; the real CPU model runs one
scenario at the end (plumbing only)."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from agent.models import InquiryState, Trajectory
from agent.safety.triage import triage_message
from agent.simulation.memory import SCENARIOS, found, misuses, read_scenarios
from fhir.models import StoredResource
from tests.support.scripted_model import Script
from webapp.chat.models import Author, Message

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.sqlite_pass]

FACT = "I'm allergic to penicillin, it gave me a rash."
FILLER = "I'd like to sleep better: I go to bed at very different times and scroll on my phone in bed. " * 6
PROBE = "Which antibiotics are usually given for a tooth abscess?"
RECORD_ALLERGY = {"name": "record_fact", "arguments": {"kind": "allergy", "text": "penicillin", "detail": "rash"}}
ANSWER = "As you are allergic to penicillin, do not take amoxicillin; ask the dentist about clarithromycin."


def scenario(sid: str = "penicillin", **changes) -> dict:
    return {"id": sid, "fact": "Allergic to penicillin.", "kind": "allergy",
            "visits": [{"days_ago": 42, "messages": [FACT]}, {"days_ago": 21, "messages": [FILLER]},
                       {"days_ago": 0, "messages": [PROBE]}],
            "recall_any": ["allergic to penicillin", "penicillin allergy"],
            "misuse_any": ["take amoxicillin", "amoxicillin is usually"], "record_any": ["penicillin"],
            "note": "test"} | changes


def write(path: Path, *lines) -> Path:
    path.write_text("".join((line if isinstance(line, str) else json.dumps(line)) + "\n" for line in lines))
    return path


def evaluate(scripted_model, out: Path, scenarios: Path, *extra: str) -> None:
    call_command("evaluate_memory", "--out", str(out), "--scenarios", str(scenarios), "--model",
                 scripted_model.base_url, "--in-place", "--no-progress", *extra)


# ---- scoring -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("reply", "recalled"), [
    ("Since you're **Allergic** to penicillin, tell the dentist.", True),
    ("Your penicillin-allergy matters here.", True),  # hyphens and markdown are ignored
    ("Amoxicillin is usually given.", False),
])
def test_recall_phrases_are_found_after_light_normalisation(reply, recalled):
    assert bool(found(["allergic to penicillin", "penicillin allergy"], reply)) is recalled


@pytest.mark.parametrize(("reply", "misused"), [
    ("You can take ibuprofen 400 mg three times a day.", True),
    ("Do not take ibuprofen while you are on warfarin.", False),
    ("You should avoid anti-inflammatories such as ibuprofen.", False),
    ("Never take ibuprofen with warfarin, but paracetamol is fine.", False),
    ("Paracetamol is safer than ibuprofen. Otherwise take ibuprofen with food.", True),  # one clause advises it
    ("Take paracetamol rather than take ibuprofen.", False),
    ("There is no special preparation.", True),  # the phrase itself says "no": not a negation of it
])
def test_misuse_is_a_phrase_that_is_not_negated(reply, misused):
    phrases = ["take ibuprofen", "such as ibuprofen", "no special preparation"]
    assert bool(misuses(phrases, reply)) is misused


def test_the_shipped_scenarios_are_well_formed_and_push_the_fact_out_of_the_window():
    scenarios, errors = read_scenarios(SCENARIOS)
    assert errors == [] and len(scenarios) >= 20
    assert {s.kind for s in scenarios} == {"allergy", "medication", "condition", "result", "other"}
    for s in scenarios:
        assert len(s.visits) >= 3 and s.visits[-1].days_ago == 0 and s.visits[0].days_ago >= 14, s.id
        between = sum(len(m) for v in s.visits[1:-1] for m in v.messages)
        assert between > 6000, s.id  # past the default window (MODEL_CONTEXT_CHARS) even with empty replies
        for visit in s.visits:
            for text in visit.messages:
                assert triage_message(text).level not in ("emergency", "urgent"), (s.id, text[:60])
        for visit in s.visits[1:]:  # only the first visit states the fact
            assert not found(s.record_any, " ".join(visit.messages)), s.id


def test_malformed_lines_are_reported_with_their_number_and_skipped(scripted_model, tmp_path, capsys):
    scenarios = write(tmp_path / "s.jsonl", "{not json", scenario(kind="rumour"),
                      scenario(visits=[{"days_ago": 0, "messages": [PROBE]}]),
                      scenario(visits=[{"days_ago": 3, "messages": [FACT]}, {"days_ago": 5, "messages": [PROBE]}]),
                      scenario(visits=[{"days_ago": 3, "messages": [FACT]},
                                       {"days_ago": 0, "messages": ["Am I allergic to penicillin?"]}]),
                      scenario("good"), scenario("good"))
    found_scenarios, errors = read_scenarios(scenarios)
    assert [s.id for s in found_scenarios] == ["good"]
    assert [e.line for e in errors] == [1, 2, 3, 4, 5, 7]
    assert "kind" in errors[1].error and "at least two" in errors[2].error and "decrease" in errors[3].error
    assert "probe itself" in errors[4].error and "twice" in errors[5].error

    out = tmp_path / "report.json"
    evaluate(scripted_model, out, scenarios)
    report = json.loads(out.read_text())
    assert [s["id"] for s in report["scenarios"]] == ["good"]
    assert [s["line"] for s in report["skipped_lines"]] == [1, 2, 3, 4, 5, 7]
    assert "line 1:" in capsys.readouterr().err


# ---- the live path -------------------------------------------------------------------------------------------

def test_a_fact_recorded_in_the_first_visit_reaches_the_probe_through_the_record(scripted_model, tmp_path,
                                                                                  settings):
    settings.MODEL_CONTEXT_CHARS = 700  # the filler visit fills the window: the first visit falls out
    scripted_model.queue(Script(text="Thank you, I have noted that."), Script(text="Keep a fixed wake-up time."),
                         Script(text=ANSWER))
    scripted_model.decide({"tool_calls": [RECORD_ALLERGY]})
    out = tmp_path / "report.json"
    evaluate(scripted_model, out, write(tmp_path / "s.jsonl", scenario()))

    [result] = json.loads(out.read_text())["scenarios"]
    assert result["recalled"] and not result["misused"] and result["recorded"]
    assert result["in_record_note"] and result["in_probe_context"] and not result["fact_in_window"]
    assert result["probe_reply"].startswith(ANSWER) and result["turns"] == 3
    assert [v["days_ago"] for v in result["visits"]] == [42, 21, 0]
    assert "penicillin" in result["record"]

    # The memory agent wrote the allergy in visit 1, as in live care ...
    [allergy] = [r.content for r in StoredResource.objects.filter(resource_type="AllergyIntolerance",
                                                                  deleted=False)]
    assert allergy["code"]["text"] == "penicillin"
    # ... and the probe's turn saw it in the record note, while the first visit had left the conversation window.
    probe = scripted_model.reply_requests[-1]
    system = [m["content"] for m in probe["messages"] if m["role"] == "system"]
    said = " ".join(m["content"] for m in probe["messages"] if m["role"] != "system")
    assert any(s.startswith("What the patient's record holds") and "penicillin (reaction: rash)" in s
               for s in system)
    assert FACT not in said and PROBE in said
    first_reply = scripted_model.reply_requests[0]
    assert "penicillin" not in next(m["content"] for m in first_reply["messages"]
                                    if m["content"].startswith("What the patient's record holds"))

    # Live path: one trajectory per turn (the JSON tool path: a reply then a decision).
    assert Trajectory.objects.count() == 3
    assert all(t.tool_mode == "json" and t.model_calls == 2 for t in Trajectory.objects.all())
    # Weeks apart: the visits' rows were moved back, so the probe is a new episode.
    now = timezone.now()
    first = Message.objects.filter(author=Author.PATIENT, text=FACT).get()
    assert timedelta(days=41) < now - first.created_at < timedelta(days=43)
    states = list(InquiryState.objects.order_by("turn_id"))
    assert timedelta(days=20) < now - states[1].created_at < timedelta(days=22)
    assert now - states[2].created_at < timedelta(hours=1)


def test_a_run_resumes_where_the_report_ends(scripted_model, tmp_path):
    scenarios = write(tmp_path / "s.jsonl", scenario("one"), scenario("two"))
    out = tmp_path / "report.json"
    evaluate(scripted_model, out, scenarios, "--limit", "1")
    assert [s["id"] for s in json.loads(out.read_text())["scenarios"]] == ["one"]
    before = len(scripted_model.reply_requests)
    assert before == 3
    evaluate(scripted_model, out, scenarios)
    report = json.loads(out.read_text())
    assert [s["id"] for s in report["scenarios"]] == ["one", "two"]
    assert len(scripted_model.reply_requests) == before + 3  # the first scenario was not run again
    summary = report["summary"]
    assert summary["scenarios"] == 2 and summary["recall"]["count"] == 0  # the echoing model recalls nothing
    assert summary["recall"]["ci95"][0] == 0.0 and 0 < summary["recall"]["ci95"][1] < 1
    assert set(summary) >= {"misuse", "recorded", "seconds_per_scenario", "by_kind", "model"}


def test_an_unreachable_model_stops_the_run_and_keeps_finished_scenarios(scripted_model, tmp_path):
    scenarios = write(tmp_path / "s.jsonl", scenario("one"), scenario("two"))
    scripted_model.queue(Script(), Script(), Script(), *[Script(status=503)] * 10)
    out = tmp_path / "report.json"
    with pytest.raises(CommandError, match=r"stopped at scenario two: .*1 finished scenarios"):
        evaluate(scripted_model, out, scenarios)
    assert [s["id"] for s in json.loads(out.read_text())["scenarios"]] == ["one"]
    with pytest.raises(CommandError, match="does not answer"):
        call_command("evaluate_memory", "--out", str(out), "--scenarios", str(scenarios), "--model",
                     "http://127.0.0.1:9/v1", "--in-place", "--no-progress")
    assert len(json.loads(out.read_text())["scenarios"]) == 1


@pytest.mark.e2e
def test_one_scenario_runs_on_the_real_model(real_model, tmp_path):
    """Plumbing only (a two-visit scenario, to keep it short): the small model's memory is not measured here."""
    out = tmp_path / "report.json"
    short = scenario(visits=[{"days_ago": 21, "messages": [FACT]}, {"days_ago": 0, "messages": [PROBE]}])
    call_command("evaluate_memory", "--out", str(out), "--scenarios", str(write(tmp_path / "s.jsonl", short)),
                 "--model", real_model.base_url, "--in-place", "--no-progress")
    [result] = json.loads(out.read_text())["scenarios"]
    assert result["turns"] == 2 and result["probe_reply"].strip()
    assert all(isinstance(result[k], bool) for k in ("recalled", "misused", "recorded", "fact_in_window"))
    assert Trajectory.objects.count() == 2 and result["seconds"] > 0
