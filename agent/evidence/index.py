"""What an evidence index is, whichever store holds it: the embedded SQLite index (index_local.py) or
Elasticsearch (index_elasticsearch.py). Both store the same passages, analysed text and vectors, and answer
the same two questions (lexical and dense top-k with the same filters), so search.py and the retrieval tests
treat them alike. A hybrid search asks both at once."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from agent.evidence.corpus import Passage


class EvidenceUnavailable(Exception):
    """The index cannot answer (down, slow, or never built)."""


@dataclass(frozen=True)
class Filters:
    population: str | None = None  # neonate | pediatric | pregnancy | adult: that population or general passages
    language: str | None = None  # passages written in this language
    evidence_types: tuple[str, ...] = ()  # only these evidence types; () = all


class EvidenceIndex(Protocol):
    name: str

    def count(self) -> int: ...
    def hashes(self) -> dict[str, str]: ...  # passage id -> content hash
    def upsert(self, passages: list[Passage], vectors: np.ndarray) -> None: ...
    def delete(self, ids: list[str]) -> None: ...
    def get(self, ids: list[str]) -> dict[str, Passage]: ...
    def lexical(self, analysed_query: str, k: int, filters: Filters) -> list[tuple[str, float]]: ...
    def dense(self, vector: np.ndarray, k: int, filters: Filters) -> list[tuple[str, float]]: ...
    # Both top-k lists and the passages they name, in as few round trips as the store allows (one on Elasticsearch).
    def hybrid(self, analysed_query: str, vector: np.ndarray, k: int, filters: Filters
               ) -> tuple[list[tuple[str, float]], list[tuple[str, float]], dict[str, Passage]]: ...
    def optimize(self) -> None: ...  # after a bulk ingestion: make searching fast again
