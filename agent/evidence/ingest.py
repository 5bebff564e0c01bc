"""Ingestion: the corpus into an index, incrementally. A passage whose content hash the index already holds is
skipped, a changed one is re-embedded and replaced, one no longer in the corpus is removed. Running it twice
changes nothing the second time."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from agent.evidence.corpus import Passage
from agent.evidence.embed import embed_passages
from agent.evidence.index import EvidenceIndex

UPSERT_BATCH = 256


@dataclass
class IngestReport:
    index: str
    added: int = 0
    changed: int = 0
    skipped: int = 0
    removed: int = 0

    def __str__(self) -> str:
        return (f"{self.index}: {self.added} added, {self.changed} changed, {self.skipped} unchanged (skipped), "
                f"{self.removed} removed")


def ingest(passages: Iterable[Passage], index: EvidenceIndex, cache: Path | None = None,
           progress: Callable[[int], None] | None = None, remove_missing: bool = True) -> IngestReport:
    """Bring `index` in line with `passages`. `progress` is told how many passages each step finished."""
    passages = list(passages)
    seen: set[str] = set()
    for passage in passages:
        if passage.id in seen:
            raise ValueError(f"two passages share the id {passage.id} ({passage.section_key})")
        seen.add(passage.id)
    report = IngestReport(index.name)
    known = index.hashes()
    todo = []
    for passage in passages:
        if known.get(passage.id) == passage.content_hash:
            report.skipped += 1
            if progress:
                progress(1)
            continue
        if passage.id in known:
            report.changed += 1
        else:
            report.added += 1
        todo.append(passage)
    for start in range(0, len(todo), UPSERT_BATCH):
        batch = todo[start:start + UPSERT_BATCH]
        vectors = embed_passages([p.indexed_text for p in batch], cache=cache, progress=progress)
        index.upsert(batch, vectors)
    if remove_missing:
        gone = sorted(set(known) - seen)
        index.delete(gone)
        report.removed = len(gone)
    if todo or report.removed:
        index.optimize()
    return report
