"""Every reply passes the grounding check before the patient sees it: claims the guidance supports are cited,
a wrong dose is removed, an unsupported claim is softened, citations the model invents are dropped, and with no
evidence at all nothing is cited and numbers are not sent. The quality of the check itself is measured on the
labelled claims."""

from __future__ import annotations

import re

import pytest

from agent.evidence.eval.grounding import claims, evaluate
from agent.models import Trajectory
from agent.policies.advice import SentenceGate
from agent.turn import run_turn
from tests.support.scripted_model import Script
from tests.support.turns import client_for, new_turn

FULL_HISTORY = ("Headache since yesterday, throbbing, 6 out of 10, no stiff neck or vision problems, "
                "I have taken nothing for it.")
SUPPORTED = ("Non-contrast CT head within 6 hours of onset is the recommended first test for suspected "
             "subarachnoid hemorrhage.")
WRONG_DOSE = ("Non-contrast CT head within 48 hours of onset is the recommended first test for suspected "
              "subarachnoid hemorrhage.")
UNSUPPORTED = "Drinking plenty of water and resting in a dark room often helps a tension headache."
CITATION = re.compile(r"\[(ev-[0-9a-f]{10})\]")


@pytest.mark.django_db(transaction=True)
def test_a_reply_is_cited_corrected_and_softened_before_it_is_stored(cast, scripted_model, evidence_corpus):
    turn = new_turn(cast["alice"], FULL_HISTORY)
    scripted_model.queue(Script(text=f"Thank you. {SUPPORTED} [1] {WRONG_DOSE} {UNSUPPORTED} [ev-0000000000] "
                                     "Does the light bother you?"), Script(text='{"tool_calls": []}'),
                         Script(text="summary"))
    reply = run_turn(turn.id, client_for(scripted_model, max_tokens=512))
    shown = scripted_model.requests[0]["messages"]
    assert any(m["role"] == "system" and m["content"].startswith("Guidance passages") for m in shown)
    record = Trajectory.objects.get(turn=turn)
    [search] = [s for s in record.steps if s.get("tool") == "search_evidence"]
    assert search["ok"] and search["by"] == "harness" and len(search["result"]) == 3

    assert "Thank you." in reply.text and "Does the light bother you?" in reply.text
    assert "6 hours" in reply.text and "48 hours" not in reply.text  # the wrong number never reaches the patient
    assert UNSUPPORTED in reply.text and "could not check" in reply.text  # kept, but softened
    cited = CITATION.findall(reply.text)
    assert cited and "ev-0000000000" not in cited  # the invented citation is gone
    assert set(cited) <= set(search["result"]) | {s["citation"] for s in record.steps if s["kind"] == "grounding"}
    decisions = {s["action"] for s in record.steps if s["kind"] == "grounding"}
    assert decisions == {"cite", "remove", "soften"}


@pytest.mark.django_db(transaction=True)
def test_without_any_evidence_the_model_is_told_and_nothing_is_cited(cast, scripted_model, settings, tmp_path):
    settings.EVIDENCE_INDEX_PATH = str(tmp_path / "never-built.sqlite3")
    turn = new_turn(cast["alice"], FULL_HISTORY)
    scripted_model.queue(Script(text=f"{WRONG_DOSE} [1] Rest may help."), Script(text='{"tool_calls": []}'),
                         Script(text="summary"))
    reply = run_turn(turn.id, client_for(scripted_model, max_tokens=512))
    shown = scripted_model.requests[0]["messages"]
    assert any("Evidence search is unavailable" in m["content"] for m in shown if m["role"] == "system")
    assert "48 hours" not in reply.text and not CITATION.search(reply.text) and "[1]" not in reply.text
    record = Trajectory.objects.get(turn=turn)
    [search] = [s for s in record.steps if s.get("tool") == "search_evidence"]
    assert search["code"] == "evidence_unavailable"


def test_numbered_citations_become_the_ids_of_the_passages_shown(evidence_corpus):
    from agent.agents.evidence import grounder, retrieve

    passages, _ = retrieve("sudden worst headache of my life")
    gate = SentenceGate(active=False, grounder=grounder(passages, ""), sources=[p.id for p in passages])
    gate.feed(f"{SUPPORTED} [2] Where exactly is the pain? [7]")
    gate.finish()
    assert f"[{passages[1].id}]" in gate.text or CITATION.search(gate.text)
    assert "[7]" not in gate.text and "[2]" not in gate.text


def test_the_check_finds_most_unsupported_claims_without_flagging_most_supported_ones(evidence_corpus):
    sample = claims()[::2]  # half the labelled set keeps the test short; bench and docs use all of it
    score = evaluate(evidence_corpus, sample)
    assert score.claims >= 200
    assert score.precision >= 0.65 and score.recall >= 0.62, score
