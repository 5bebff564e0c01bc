"""Unsupported claims in real model replies, with and without the grounding check.

1. `generate`: for each English evaluation question, the evidence agent's prompt as a turn builds it (the
   passages retrieved for the question, numbered) goes to the model; the reply and the passages shown are saved
   in data/replies.jsonl with the model's name.
2. The claim sentences of each reply (split as the SentenceGate splits, kept when `is_claim`) were labelled
   supported or unsupported by a reviewer reading the passages shown (data/reply_labels.jsonl): supported when
   the passages (or plain common knowledge that needs no source, such as "see a doctor if it gets worse") back
   every medical statement in the sentence.
3. `score`: without the check every claim reaches the patient as asserted. With it, a claim is asserted only
   when the check lets it through (supported: kept or cited); removed claims are gone and softened ones carry a
   caveat. The unsupported-claim rate is unsupported asserted claims / asserted claims, before and after.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass

from agent.evidence.corpus import Passage
from agent.evidence.eval.retrieval import DATA, questions
from agent.evidence.grounding import Grounder, is_claim
from agent.evidence.search import search_evidence

REPLIES = DATA / "replies.jsonl"
LABELS = DATA / "reply_labels.jsonl"
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|(?<=[。！？])|\n+")
_CITATION = re.compile(r"\[(?:\d{1,2}|ev-[0-9a-f]{10})\]")


def claim_sentences(reply: str) -> list[str]:
    """The reply's sentences that make a medical claim, citations removed (as the check sees them)."""
    sentences = [_CITATION.sub("", s).strip() for s in _SENTENCE_END.split(reply)]
    return [s for s in sentences if s and is_claim(s)]


def generate(complete: Callable[[list[dict]], str], model_name: str, limit: int = 40, k: int = 3) -> list[dict]:
    """The evidence agent's reply to each of the first `limit` English questions (see the module docstring)."""
    from agent.agents.evidence import AGENT, passages_note
    from agent.context import SYSTEM_PROMPT

    rows = []
    for item in questions("en")[:limit]:
        passages = [h.passage for h in search_evidence(item["question"], k=k).hits]
        system = "\n\n".join([SYSTEM_PROMPT.format(emergency_number="999", language="en"), AGENT.instructions,
                              passages_note(passages, unavailable=False)])
        reply = complete([{"role": "system", "content": system}, {"role": "user", "content": item["question"]}])
        rows.append({"qid": item["id"], "question": item["question"], "model": model_name,
                     "passages": [p.id for p in passages], "reply": reply})
    return rows


@dataclass
class ReplyScore:
    replies: int
    claims: int
    unsupported: int
    rate_without: float  # unsupported / claims: every claim asserted
    rate_with: float  # unsupported asserted / asserted, after the check
    asserted_with: int
    supported_held_back: int  # supported claims the check removed or softened (its cost)

    def __str__(self) -> str:
        return (f"{self.replies} replies, {self.claims} claims ({self.unsupported} unsupported): unsupported-claim "
                f"rate {self.rate_without:.3f} without the check, {self.rate_with:.3f} with it "
                f"({self.asserted_with} claims asserted unqualified; {self.supported_held_back} supported claims "
                "softened or removed)")


def load(path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()] if path.exists() else []


def score(get_passage: Callable[[str], Passage | None]) -> ReplyScore:
    replies = {r["qid"]: r for r in load(REPLIES)}
    labels = load(LABELS)
    claims = unsupported = asserted = asserted_unsupported = held_back = 0
    grounders: dict[str, Grounder] = {}
    for label in labels:
        reply = replies[label["qid"]]
        if label["qid"] not in grounders:
            shown = [p for p in (get_passage(pid) for pid in reply["passages"]) if p is not None]
            grounders[label["qid"]] = Grounder(passages=shown, record="", search=lambda text: [
                h.passage for h in search_evidence(text, k=3).hits])
        verdict = grounders[label["qid"]].check(label["sentence"])
        if verdict.status == "not_a_claim":
            continue
        claims += 1
        bad = label["label"] == "unsupported"
        unsupported += bad
        if verdict.status == "supported":
            asserted += 1
            asserted_unsupported += bad
        elif not bad:
            held_back += 1
    return ReplyScore(len({lbl["qid"] for lbl in labels}), claims, unsupported, unsupported / (claims or 1),
                      asserted_unsupported / (asserted or 1), asserted, held_back)
