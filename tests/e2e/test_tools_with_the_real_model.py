"""The JSON tool path against the real CPU model server (llama.cpp, Qwen2.5-Coder-0.5B): the decision is
grammar-constrained JSON, calls go through the policies, and the turn ends with a reply in two model calls."""

from __future__ import annotations

import json

import pytest

from agent.models import Trajectory
from agent.turn import run_turn
from tests.support.turns import client_for, new_turn

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_turn_with_tools_on_the_real_model(cast, real_model, settings):
    settings.MODEL_TOOL_CALLING = "json"
    alice = cast["alice"]
    turn = new_turn(alice, "I am allergic to penicillin, it gives me a rash. Please note that.")
    reply = run_turn(turn.id, client_for(real_model, max_tokens=96, timeout=300))
    assert reply is not None and reply.text.strip()
    trajectory = Trajectory.objects.get(turn=turn)
    assert trajectory.model_calls == 2 and trajectory.tool_mode == "json", trajectory.steps
    decision = next(s for s in trajectory.steps if s["kind"] == "model_call" and not s["streamed"])
    assert decision["error"] is None
    calls = json.loads(decision["decision"])["tool_calls"]
    assert isinstance(calls, list)
    for step in (s for s in trajectory.steps if s["kind"] == "tool_call"):
        assert step["code"] in ("ok", "invalid_arguments", "budget"), step  # the grammar allows only offered tools


def test_replay_against_the_real_model(cast, real_model, settings, tmp_path):
    from django.core.management import call_command

    from tests.support.scripted_model import Script, ScriptedModel

    settings.MODEL_TOOL_CALLING = "json"
    recorded = ScriptedModel().start()  # record a turn quickly, then replay it on the real model
    try:
        recorded.queue(Script(text="How long have you had the cough?"))
        run_turn(new_turn(cast["alice"], "I have a cough").id, client_for(recorded))
    finally:
        recorded.stop()
    report = tmp_path / "replay.json"
    call_command("replay", "--model", real_model.base_url, "--max-tokens", "32", "--report", str(report))
    [result] = json.loads(report.read_text())
    assert result["replayed_reply"].strip() and 0 <= result["reply_similarity"] <= 1
    assert isinstance(result["replayed_tools"], list)


def test_the_real_model_takes_a_history_before_advising(cast, real_model, settings):
    from agent.models import InquiryState

    settings.MODEL_TOOL_CALLING = "json"
    turn = new_turn(cast["alice"], "I have a headache. What should I take for it?")
    reply = run_turn(turn.id, client_for(real_model, max_tokens=96, timeout=300))
    state = InquiryState.objects.get(turn=turn)
    assert state.complaint == "headache" and state.phase == "inquiry" and state.asked
    assert "?" in reply.text  # the model asked, or the harness added the inquiry agent's question
    trajectory = Trajectory.objects.get(turn=turn)
    assert trajectory.model_calls == 2, trajectory.steps
    withheld = [s for s in trajectory.steps if s["kind"] == "policy" and not s["ok"]]
    for step in withheld:  # whatever advice the model gave was kept from the patient
        assert step["sentence"] not in reply.text
