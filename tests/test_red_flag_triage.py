"""Deterministic triage on the labelled vignettes (tests/data/triage_vignettes.jsonl),
including hard negatives, four languages, misspellings and short answers."""

import io
import json
from collections import Counter
from pathlib import Path

import pytest
from django.core.management import call_command

from agent.safety.rules import Level
from agent.safety.triage import triage_message

DATA = Path(__file__).parent / "data"
VIGNETTES = [json.loads(line) for line in (DATA / "triage_vignettes.jsonl").open()]
# Written independently of the rules (see docs/triage.md): half used to tune them, half never looked at while tuning.
EXTERNAL = {path.stem.removeprefix("triage_"): [json.loads(line) for line in path.open()]
            for path in sorted(DATA.glob("triage_external*.jsonl"))}
# Known misses and false alarms per set (docs/triage.md): a regression may not add to them.
KNOWN = {"external_tuning": (1, 0), "external_heldout": (0, 0), "external2_tuning": (0, 0), "external2_heldout": (2, 1)}


@pytest.mark.parametrize("vignette", VIGNETTES, ids=[v["text"][:40] for v in VIGNETTES])
def test_vignette(vignette):
    result = triage_message(vignette["text"], vignette.get("previous_question", ""))
    assert result.level == vignette["level"], result.reasons


def test_every_emergency_is_caught_and_nothing_else_is_called_one():
    caught, false_alarms = Counter(), 0
    for v in VIGNETTES:
        level = triage_message(v["text"], v.get("previous_question", "")).level
        caught[v["level"]] += level == v["level"]
        false_alarms += level == Level.EMERGENCY and v["level"] != Level.EMERGENCY
    emergencies = sum(v["level"] == Level.EMERGENCY for v in VIGNETTES)
    assert caught[Level.EMERGENCY] == emergencies
    assert false_alarms == 0


@pytest.mark.parametrize("name", sorted(EXTERNAL))
def test_external_sets_lose_no_more_emergencies_than_known(name):
    missed, false_alarms = [], []
    for v in EXTERNAL[name]:
        level = triage_message(v["text"], v.get("previous_question", "")).level
        if v["level"] == Level.EMERGENCY and level != Level.EMERGENCY:
            missed.append(v["text"])
        if v["level"] != Level.EMERGENCY and level == Level.EMERGENCY:
            false_alarms.append(v["text"])
    allowed_misses, allowed_false_alarms = KNOWN[name]
    assert len(missed) <= allowed_misses, missed
    assert len(false_alarms) <= allowed_false_alarms, false_alarms


@pytest.mark.parametrize("text", ["no chest pain and no sweating", "I have never felt suicidal",
                                  "sans douleur thoracique", "sin dolor en el pecho", "没有胸痛"])
def test_negation_is_respected(text):
    assert triage_message(text).level != Level.EMERGENCY


def test_a_yes_is_judged_with_the_question_it_answers():
    question = "Are you having any chest pain with sweating?"
    assert triage_message("yes", question).level == Level.EMERGENCY
    assert triage_message("no", question).level != Level.EMERGENCY
    assert triage_message("yes", "Shall I explain how to take it?").level == Level.ROUTINE


def test_reasons_name_the_condition_and_the_words():
    result = triage_message("My face is drooping and I can't lift my arm")
    assert result.level == Level.EMERGENCY
    assert result.reasons[0].startswith("stroke signs (")


def test_the_triage_command_reads_lines_and_prints_json_lines(monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO("crushing chest pain and sweating\nI have a runny nose\n"))
    out = io.StringIO()
    call_command("triage", stdout=out)
    rows = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [r["level"] for r in rows] == ["emergency", "self-care"]
    assert rows[0]["reasons"] and set(rows[0]) == {"level", "reasons"}
