"""Grounding-check quality on labelled claims (data/claims.jsonl: supported paraphrases and unsupported claims:
dose errors, flipped contraindications, swapped drugs, fabrications). A claim counts as flagged when the check
calls it contradicted or unsupported. Precision: flagged claims that really are unsupported; recall:
unsupported claims that were flagged."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field

from agent.evidence.eval.retrieval import DATA
from agent.evidence.grounding import Grounder
from agent.evidence.index import EvidenceIndex
from agent.evidence.search import search_evidence

CLAIM_PASSAGES = 5  # passages retrieved for each claim


@dataclass
class GroundingScore:
    claims: int
    precision: float
    recall: float
    by_kind: dict[str, tuple[int, int]] = field(default_factory=dict)  # kind -> (flagged, total)
    not_claims: int = 0

    def __str__(self) -> str:
        kinds = ", ".join(f"{k} {f}/{t}" for k, (f, t) in sorted(self.by_kind.items()))
        return (f"precision {self.precision:.3f} recall {self.recall:.3f} on {self.claims} claims "
                f"(flagged/total: {kinds}; {self.not_claims} not recognised as claims)")


def claims() -> list[dict]:
    return [json.loads(line) for line in (DATA / "claims.jsonl").read_text().splitlines() if line.strip()]


def evaluate(index: EvidenceIndex, items: list[dict] | None = None) -> GroundingScore:
    items = items if items is not None else claims()
    grounder = Grounder(search=lambda text: [h.passage for h in search_evidence(
        text, k=CLAIM_PASSAGES, index=index).hits])
    tp = fp = fn = 0
    kinds: Counter = Counter()
    flagged_kinds: Counter = Counter()
    not_claims = 0
    for item in items:
        verdict = grounder.check(item["claim"])
        not_claims += verdict.status == "not_a_claim"
        unsupported = item["label"] == "unsupported"
        kinds[item["kind"]] += 1
        if verdict.flagged:
            flagged_kinds[item["kind"]] += 1
            tp += unsupported
            fp += not unsupported
        elif unsupported:
            fn += 1
    return GroundingScore(len(items), tp / ((tp + fp) or 1), tp / ((tp + fn) or 1),
                          {k: (flagged_kinds[k], n) for k, n in kinds.items()}, not_claims)
