"""Retrieval quality: for each question, the sections that answer it (data/questions.jsonl, written by reading
the corpus). A passage is relevant when it belongs to one of those sections. recall@5: the share of questions
with a relevant passage in the top 5; MRR: the mean of 1/rank of the first relevant passage (0 past rank 10)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from agent.evidence.index import EvidenceIndex
from agent.evidence.search import search_evidence

DATA = Path(__file__).parent / "data"
DEPTH = 10


@dataclass
class RetrievalScore:
    mode: str
    questions: int
    recall_at_5: float
    mrr: float
    misses: list[str]  # ids of questions with nothing relevant in the top 5

    def __str__(self) -> str:
        return f"{self.mode:8s} recall@5 {self.recall_at_5:.3f}  MRR {self.mrr:.3f}  ({self.questions} questions)"


def questions(language: str | None = None) -> list[dict]:
    rows = [json.loads(line) for line in (DATA / "questions.jsonl").read_text().splitlines() if line.strip()]
    return [q for q in rows if language is None or q.get("language", "en") == language]


def evaluate(index: EvidenceIndex, mode: str, items: list[dict] | None = None, authority: bool = True
             ) -> RetrievalScore:
    items = items if items is not None else questions()
    found = reciprocal = 0.0
    misses = []
    for item in items:
        hits = search_evidence(item["question"], k=DEPTH, mode=mode, index=index, authority=authority).hits
        ranks = [rank for rank, hit in enumerate(hits, start=1) if hit.passage.section_key in item["sections"]]
        first = ranks[0] if ranks else None
        if first is not None and first <= 5:
            found += 1
        else:
            misses.append(item["id"])
        reciprocal += 1.0 / first if first else 0.0
    n = len(items) or 1
    return RetrievalScore(mode, len(items), found / n, reciprocal / n, misses)
