"""The static medical-knowledge quiz (agent/simulation/knowledge.py, manage.py evaluate_knowledge): scoring, the
Wilson interval, resuming, malformed answers, an unreachable model; and the plumbing on the real CPU model."""

from __future__ import annotations

import json

import pytest
from django.core.management import CommandError, call_command

from agent.management.commands import evaluate_knowledge
from agent.simulation.knowledge import QuizStopped, load_items, parse_answer, run_quiz, wilson
from scripts.stack import PYTHON, Service, free_port, port_open, wait_until
from tests.support.scripted_model import ScriptedModel
from tests.support.turns import client_for


def quiz(scripted_model, report, *extra: str) -> None:
    call_command("evaluate_knowledge", "--set", "medmcqa", "--out", str(report), "--model", scripted_model.base_url,
                 "--model-name", "scripted", "--no-progress", *extra)


def test_the_sets_are_well_formed():
    for name, count, letters in (("medmcqa", 299, 4), ("dosing", 91, 11)):
        items = load_items(name)
        assert len(items) == count and len({i["id"] for i in items}) == count
        for item in items:
            assert set(item) == {"id", "source", "question", "options", "answer"} and item["source"] == name
            assert list(item["options"]) == [chr(ord("A") + k) for k in range(letters)]
            assert item["answer"] in item["options"] and item["question"].strip()
    assert len(load_items("all")) == 299 + 91


def test_wilson_interval():
    # Published values: 8/10 -> 0.4902-0.9433, 2/4 -> 0.1500-0.8500 (Wilson 1927, z = 1.96).
    assert wilson(8, 10) == pytest.approx((0.4901624715366418, 0.9433178485456248), abs=1e-12)
    assert wilson(2, 4) == pytest.approx((0.15003898915214953, 0.8499610108478505), abs=1e-12)
    assert wilson(0, 4) == pytest.approx((0.0, 0.4898908364545973), abs=1e-12)
    assert wilson(4, 4) == pytest.approx((0.5101091635454027, 1.0), abs=1e-12)
    assert wilson(0, 0) == (0.0, 1.0)


@pytest.mark.parametrize(("text", "letter"), [
    ('{"answer": "C"}', "C"), ("B", "B"), ("The answer is D.", "D"), ("c) Atrophy", "C"), ('{"answer": "Z"}', None),
    ("I am not sure.", None), ("", None), ("E", None),
])
def test_answers_are_read_as_option_letters(text, letter):
    assert parse_answer(text, "ABCD") == letter


def test_scoring_and_the_report(scripted_model, tmp_path):
    first = load_items("medmcqa")[:4]
    wrong = next(letter for letter in "ABCD" if letter != first[2]["answer"])
    scripted_model.decide({"answer": first[0]["answer"]}, f"{first[1]['answer']}) as plain text", {"answer": wrong},
                          "no letter here at all")  # right, right (plain text), wrong, malformed
    report = tmp_path / "report.json"
    quiz(scripted_model, report, "--limit", "4")
    data = json.loads(report.read_text())
    assert [(r["id"], r["answer"], r["predicted"], r["correct"]) for r in data["items"]] == [
        (first[0]["id"], first[0]["answer"], first[0]["answer"], True),
        (first[1]["id"], first[1]["answer"], first[1]["answer"], True),
        (first[2]["id"], first[2]["answer"], wrong, False),
        (first[3]["id"], first[3]["answer"], None, False),  # malformed: counted wrong
    ]
    summary = data["summary"]
    assert (summary["items"], summary["correct"], summary["accuracy"], summary["model"]) == (4, 2, 0.5, "scripted")
    assert summary["ci95"] == pytest.approx([0.15003898915214953, 0.8499610108478505], abs=1e-12)
    assert summary["seconds_per_item"] >= 0
    for request, item in zip(scripted_model.requests, first, strict=True):
        assert request["temperature"] == 0 and not request.get("stream")
        assert request["response_format"]["type"] == "json_object"
        assert request["response_format"]["schema"]["properties"]["answer"]["enum"] == ["A", "B", "C", "D"]
        assert item["question"] in request["messages"][-1]["content"]


def test_a_run_resumes_where_the_report_ends(scripted_model, tmp_path):
    items = load_items("medmcqa")
    report = tmp_path / "report.json"
    scripted_model.decide(*({"answer": i["answer"]} for i in items[:2]))
    quiz(scripted_model, report, "--limit", "2")
    assert len(scripted_model.requests) == 2
    scripted_model.decide(*({"answer": i["answer"]} for i in items[2:5]))
    quiz(scripted_model, report, "--limit", "5")
    assert len(scripted_model.requests) == 5  # the first two were not asked again
    asked = [r["messages"][-1]["content"] for r in scripted_model.requests[2:]]
    assert all(i["question"] in text for i, text in zip(items[2:5], asked, strict=True))
    data = json.loads(report.read_text())
    assert [r["id"] for r in data["items"]] == [i["id"] for i in items[:5]]
    assert data["summary"]["items"] == data["summary"]["correct"] == 5
    quiz(scripted_model, report, "--limit", "5")
    assert len(scripted_model.requests) == 5  # nothing left to ask


@pytest.fixture
def mortal_model(tmp_path):
    """A scripted model server in its own process, to be killed mid-run: stopping the in-process one would leave
    its kept-alive connections answering. With nothing queued it answers every question wrongly."""
    port = free_port()
    service = Service("scripted-model", [PYTHON, "-m", "tests.support.scripted_model", "--port", str(port)],
                      log_path=tmp_path / "scripted-model.log").start()
    wait_until(lambda: port_open(port), 30, "scripted model", service)
    service.base_url = f"http://127.0.0.1:{port}/v1"
    yield service
    service.stop()


def test_an_unreachable_model_stops_the_run_and_keeps_the_finished_items(mortal_model, tmp_path, monkeypatch):
    items = load_items("medmcqa")
    report = tmp_path / "report.json"
    write = evaluate_knowledge.write_json

    def write_then_die_after_two(path, data):  # the server dies once two answers are saved
        write(path, data)
        if len(data["items"]) == 2:
            mortal_model.kill()

    monkeypatch.setattr(evaluate_knowledge, "write_json", write_then_die_after_two)
    with pytest.raises(CommandError, match=r"unreachable.*The 2 finished items are kept in .*report\.json"):
        quiz(mortal_model, report, "--limit", "4")
    data = json.loads(report.read_text())
    assert [r["id"] for r in data["items"]] == [i["id"] for i in items[:2]]
    assert data["summary"]["items"] == 2 and data["summary"]["correct"] == 0

    monkeypatch.undo()
    server = ScriptedModel().start()  # a model again: the run goes on from the third item
    try:
        server.decide(*({"answer": i["answer"]} for i in items[2:4]))
        quiz(server, report, "--limit", "4")
        assert len(server.requests) == 2
    finally:
        server.stop()
    data = json.loads(report.read_text())
    assert [r["id"] for r in data["items"]] == [i["id"] for i in items[:4]]
    assert (data["summary"]["items"], data["summary"]["correct"]) == (4, 2)


def test_a_model_that_never_answers_is_a_clear_error(tmp_path):
    report = tmp_path / "report.json"
    with pytest.raises(CommandError, match="unreachable"):
        call_command("evaluate_knowledge", "--set", "dosing", "--out", str(report), "--limit", "1", "--no-progress",
                     "--model", f"http://127.0.0.1:{free_port()}/v1", "--model-name", "scripted")
    assert json.loads(report.read_text())["items"] == []


def test_run_quiz_hands_back_the_finished_items_when_the_model_goes(mortal_model):
    items = load_items("dosing")[:3]
    seen = []

    def die_after_first(result):
        seen.append(result)
        mortal_model.kill()

    with pytest.raises(QuizStopped) as stopped:
        run_quiz(items, client_for(mortal_model), on_result=die_after_first)
    assert [r["id"] for r in stopped.value.results] == [items[0]["id"]] == [r["id"] for r in seen]
    assert stopped.value.results[0]["predicted"] is None  # the server's default answer names no option


@pytest.mark.e2e
def test_the_real_model_answers_with_option_letters(real_model):
    items = load_items("medmcqa")[:1] + load_items("dosing")[:1]
    results = run_quiz(items, client_for(real_model, max_tokens=16, timeout=300))
    assert [r["id"] for r in results] == [i["id"] for i in items]
    for result, item in zip(results, items, strict=True):
        assert result["predicted"] in item["options"], result  # plumbing only: a letter came back
