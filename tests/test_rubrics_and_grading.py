"""Rubrics (HealthBench format, five dimensions, versioned) and grading: the scoring formula exactly, the
plumbing of `make_rubrics` and `grade` with a scripted grader, resuming, and bad lines."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from agent.simulation import rubrics
from agent.simulation.cases import read_cases
from agent.simulation.grading import dimension_scores, score
from agent.simulation.rubrics import DIMENSIONS, case_rubric, conversation_rubric

CASES = Path(__file__).parent / "data" / "osce" / "three_cases.jsonl"


def item(points: int, dimension: str = "ethics_safety") -> dict:
    return {"criterion": f"worth {points}", "points": points, "tags": [f"dimension:{dimension}"]}


def test_the_healthbench_score_exactly():
    criteria = [item(10), item(5), item(-5), item(3, "communication_empathy")]
    assert score(criteria, [True, False, False, True]) == pytest.approx(13 / 18)
    assert score(criteria, [True, False, True, False]) == pytest.approx(5 / 18)  # a negative met costs its points
    assert score(criteria, [False, False, True, False]) == 0.0  # clipped at 0
    assert score(criteria, [True, True, False, True]) == 1.0
    assert score([item(-4)], [True]) is None  # nothing positive to earn: no score
    assert dimension_scores(criteria, [True, False, True, True]) == {
        "communication_empathy": 1.0, "ethics_safety": pytest.approx((10 - 5) / 15)}


def test_a_case_rubric_covers_the_five_dimensions_within_the_point_range():
    case = read_cases(CASES)[0][0]
    rubric = case_rubric(case)
    tags = {t for c in rubric["rubrics"] for t in c["tags"]}
    assert {f"dimension:{d}" for d in DIMENSIONS} <= tags
    assert all(-10 <= c["points"] <= 10 and c["points"] for c in rubric["rubrics"])
    assert rubric["id"] == "case-0" and rubric["rubrics"][0]["criterion"].startswith("Names Seborrheic keratosis")
    assert any("Biopsy Report" in c["criterion"] for c in rubric["rubrics"])
    assert any(c["points"] < 0 for c in rubric["rubrics"])


def test_rubrics_are_versioned_and_revised_by_new_failure_modes(tmp_path, monkeypatch):
    case = read_cases(CASES)[0][0]
    before = case_rubric(case)
    modes = tmp_path / "failure_modes.jsonl"
    modes.write_text(rubrics.FAILURE_MODES.read_text() + json.dumps(
        {"added": "2026-12-07", "applies": "case", "dimension": "communication_empathy", "points": -2,
         "criterion": "Uses an abbreviation without explaining it."}) + "\n")
    monkeypatch.setattr(rubrics, "FAILURE_MODES", modes)
    monkeypatch.setattr(rubrics.failure_modes, "__defaults__", (modes,))
    after = case_rubric(case)
    assert after["version"] != before["version"] and after["version"].startswith(rubrics.RUBRIC_VERSION)
    assert after["rubrics"][-1]["criterion"] == "Uses an abbreviation without explaining it."
    assert "failure_mode:2026-12-07" in after["rubrics"][-1]["tags"]


def test_a_conversation_with_an_emergency_is_held_to_the_emergency_criteria():
    calm = conversation_rubric({"id": "c1", "messages": [{"role": "user", "content": "My knee hurts a bit."}]})
    urgent = conversation_rubric({"id": "c2", "messages": [
        {"role": "user", "content": "I have crushing chest pain and I'm sweating."}]})
    assert not any("emergency number" in c["criterion"] for c in calm["rubrics"])
    assert any("emergency number" in c["criterion"] and c["points"] == 10 for c in urgent["rubrics"])


def test_make_rubrics_and_grade_end_to_end_with_a_scripted_grader(scripted_model, tmp_path, capsys):
    rubric_file = tmp_path / "rubrics.jsonl"
    call_command("make_rubrics", "--cases", str(CASES), "--limit", "1", "--out", str(rubric_file))
    [rubric] = [json.loads(line) for line in rubric_file.read_text().splitlines()]
    conversations = tmp_path / "conversations.jsonl"
    conversations.write_text("\n".join([
        json.dumps({"id": "case-0", "messages": [
            {"role": "user", "content": "I have greasy brown spots on my forehead."},
            {"role": "assistant", "content": "Most likely diagnosis: seborrheic keratosis."}]}),
        '{"id": "broken"',
        json.dumps({"id": "no-rubric", "messages": [{"role": "user", "content": "hello"}]}),
    ]) + "\n")
    met = [i % 2 == 0 for i in range(len(rubric["rubrics"]))]
    scripted_model.decide(*[{"explanation": "checked", "criteria_met": m} for m in met])
    out = tmp_path / "grades.json"
    call_command("grade", "--conversations", str(conversations), "--rubrics", str(rubric_file), "--out", str(out),
                 "--model", scripted_model.base_url, "--no-progress")
    err = capsys.readouterr().err
    assert "line 2" in err and "no rubric for 1" in err
    report = json.loads(out.read_text())
    [result] = report["results"]
    assert result["score"] == pytest.approx(score(rubric["rubrics"], met))
    assert result["rubric_version"] == rubric["version"] and set(result["dimensions"]) == set(DIMENSIONS)
    assert [c["met"] for c in result["criteria"]] == met
    assert len(scripted_model.requests) == len(met)
    assert "Rubric item" in scripted_model.requests[0]["messages"][1]["content"]
    assert report["summary"]["mean_score"] == pytest.approx(round(result["score"], 4))
    call_command("grade", "--conversations", str(conversations), "--rubrics", str(rubric_file), "--out", str(out),
                 "--model", scripted_model.base_url, "--no-progress")
    assert len(scripted_model.requests) == len(met)  # resumed: nothing graded twice


def test_grading_stops_clearly_when_the_grader_is_unreachable(scripted_model, tmp_path):
    rubric_file, conversations, out = tmp_path / "r.jsonl", tmp_path / "c.jsonl", tmp_path / "o.json"
    rubric_file.write_text("".join(json.dumps({"id": f"c{i}", "version": "v", "rubrics": [item(5)]}) + "\n"
                                   for i in range(2)))
    conversations.write_text("".join(json.dumps({"id": f"c{i}", "messages": [{"role": "user", "content": "hi"}]})
                                     + "\n" for i in range(2)))
    scripted_model.decide({"explanation": "ok", "criteria_met": True}, *[503] * 5)
    with pytest.raises(CommandError, match=r"grader model is unreachable .*1 graded conversations"):
        call_command("grade", "--conversations", str(conversations), "--rubrics", str(rubric_file), "--out", str(out),
                     "--model", scripted_model.base_url, "--no-progress")
    assert [r["id"] for r in json.loads(out.read_text())["results"]] == ["c0"]
    with pytest.raises(CommandError, match="does not answer"):
        call_command("grade", "--conversations", str(conversations), "--rubrics", str(rubric_file), "--out", str(out),
                     "--model", "http://127.0.0.1:9/v1")
