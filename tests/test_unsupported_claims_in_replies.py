"""The unsupported-claim rate of replies, with and without the grounding check (agent/evidence/eval/replies.py):
a labelled wrong dose counts against the reply without the check and is held back with it; a supported claim is
asserted either way; sentences that are not claims do not count."""

from __future__ import annotations

import json

import pytest

from agent.evidence.eval import replies
from agent.evidence.search import get_passage, search_evidence
from tests.test_replies_are_grounded import SUPPORTED, WRONG_DOSE


@pytest.fixture
def labelled(tmp_path, monkeypatch, evidence_corpus):
    shown = [h.passage.id for h in search_evidence(SUPPORTED, k=3).hits]
    reply = f"Thank you for asking. {SUPPORTED} [1] {WRONG_DOSE} Does the light bother you?"
    (tmp_path / "replies.jsonl").write_text(json.dumps({"qid": "q1", "question": "?", "model": "test",
                                                         "passages": shown, "reply": reply}) + "\n")
    sentences = replies.claim_sentences(reply)
    labels = [{"qid": "q1", "sentence": s, "label": "supported" if s.startswith(SUPPORTED[:30]) and "6 hours" in s
               else "unsupported"} for s in sentences]
    (tmp_path / "labels.jsonl").write_text("".join(json.dumps(label) + "\n" for label in labels))
    monkeypatch.setattr(replies, "REPLIES", tmp_path / "replies.jsonl")
    monkeypatch.setattr(replies, "LABELS", tmp_path / "labels.jsonl")
    return sentences


def test_the_claims_of_a_reply_are_its_medical_statements(labelled):
    assert labelled == [SUPPORTED, WRONG_DOSE]  # not the thanks, not the question; citations removed


def test_the_check_lowers_the_unsupported_claim_rate(labelled):
    score = replies.score(get_passage)
    assert (score.claims, score.unsupported) == (2, 1)
    assert score.rate_without == 0.5
    assert score.rate_with == 0.0 and score.asserted_with == 1 and score.supported_held_back == 0
