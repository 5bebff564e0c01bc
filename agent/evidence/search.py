"""Hybrid retrieval: BM25 over stemmed terms and kNN over e5 vectors, fused by reciprocal rank (the node has no
RRF retriever, so fusion happens here, the same for both indexes), then ranked by authority: a guideline from a
recognised body before a drug label, a review or anything else, and newer before older among passages that
score alike. If Elasticsearch fails or is slow the local index answers and the failure is logged; if no index
can answer, EvidenceUnavailable tells the caller to say so rather than invent a source."""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from django.conf import settings

from agent.evidence.corpus import Passage
from agent.evidence.embed import embed_query, prefetch_query
from agent.evidence.index import EvidenceIndex, EvidenceUnavailable, Filters
from agent.evidence.text import analysed

log = logging.getLogger(__name__)

RRF_K = 60  # the constant of reciprocal rank fusion (Cormack et al. 2009)
CANDIDATES = 30  # taken from each side before fusion
MODES = ("hybrid", "lexical", "dense")
# Authority: a multiplier on the fused score. Small on purpose: relevance first, then who said it.
AUTHORITY = {"guideline": 0.10, "drug_label": 0.08, "review": 0.04, "other": 0.0}
RECENCY = 0.05  # at most, for the newest source; 0 for one from 1995 or before


@dataclass
class Hit:
    passage: Passage
    score: float  # after fusion and authority
    lexical_rank: int | None = None  # 1-based, None when that side did not find it
    dense_rank: int | None = None
    similarity: float | None = None  # cosine between the query and the passage, when the dense side found it


@dataclass
class SearchResult:
    hits: list[Hit]
    backend: str  # which index answered
    degraded: str = ""  # why the primary index did not answer, if it did not
    seconds: float = 0.0
    # Of those, waiting for the query's embedding (the dense side's model): the part of a turn's time that is
    # another model's, like the language model's own (bench/chat_roundtrip.py counts it apart).
    embedding_seconds: float = 0.0


def local_index() -> EvidenceIndex:
    from agent.evidence.index_local import LocalIndex

    return LocalIndex(Path(settings.EVIDENCE_INDEX_PATH))


def primary_index() -> EvidenceIndex:
    """Elasticsearch when ELASTICSEARCH_URL is set, else the embedded index."""
    if settings.ELASTICSEARCH_URL:
        return _elasticsearch(settings.ELASTICSEARCH_URL, settings.ELASTICSEARCH_INDEX, settings.ELASTICSEARCH_TIMEOUT)
    return local_index()


@lru_cache(maxsize=4)
def _elasticsearch(url: str, index: str, timeout: float) -> EvidenceIndex:
    """One client (and its connection pool) per configuration, not one per search."""
    from agent.evidence.index_elasticsearch import ElasticsearchIndex

    return ElasticsearchIndex(url, index, timeout)


def search_evidence(query: str, k: int = 5, filters: Filters | None = None, mode: str = "hybrid",
                    index: EvidenceIndex | None = None, authority: bool = True) -> SearchResult:
    """The k best passages for `query`. With no `index`, the configured one, falling back to the local index."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}")
    filters = filters or Filters()
    started = time.monotonic()
    query = _normalised(query)
    vector = embed_query(query) if query and mode != "lexical" else None  # once, whichever index answers
    embedded = time.monotonic() - started if vector is not None else 0.0
    if index is not None:
        hits = _search(index, query, vector, k, filters, mode, authority)
        return SearchResult(hits, index.name, seconds=time.monotonic() - started, embedding_seconds=embedded)
    (hits, backend, degraded) = _with_fallback(lambda index: _search(index, query, vector, k, filters, mode,
                                                                      authority))
    return SearchResult(hits, backend, degraded=degraded, seconds=time.monotonic() - started,
                        embedding_seconds=embedded)


def warm_up() -> None:
    """Do once what a process's first search would (load the local index's vectors and the analysers, start the
    embedding engine), so that no patient's turn pays for it: half a second here. Never fatal: a missing index
    is the first real search's to report."""
    try:
        search_evidence("sore throat", k=1)
    except Exception:
        log.warning("could not warm up the evidence search", exc_info=True)


def _with_fallback(ask):
    """`ask` of the configured index; if that is Elasticsearch and it fails, of the local index (logged).
    Returns (answer, which index answered, why the primary did not)."""
    primary = primary_index()
    try:
        return ask(primary), primary.name, ""
    except EvidenceUnavailable as exc:
        if primary.name == "local":
            raise
        log.warning("evidence search fell back to the local index: %s", exc)
        return ask(local_index()), "local", str(exc)


def _normalised(query: str) -> str:
    return query.strip()[:2000]


def prefetch(query: str) -> None:
    """Start embedding a hybrid search's query now, for a search_evidence(query) that will follow."""
    if _normalised(query):
        prefetch_query(_normalised(query))


def _search(index: EvidenceIndex, query: str, vector, k: int, filters: Filters, mode: str,
            authority: bool) -> list[Hit]:
    if not query:
        return []
    if mode == "hybrid":
        lexical, dense, passages = index.hybrid(analysed(query), vector, CANDIDATES, filters)
    else:
        lexical = index.lexical(analysed(query), CANDIDATES, filters) if mode == "lexical" else []
        dense = index.dense(vector, CANDIDATES, filters) if mode == "dense" else []
        passages = None
    fused: dict[str, float] = {}
    for ranked in (lexical, dense):
        for rank, (pid, _) in enumerate(ranked, start=1):
            fused[pid] = fused.get(pid, 0.0) + 1.0 / (RRF_K + rank)
    if not fused:
        return []
    if passages is None:
        passages = index.get(list(fused))
    lexical_rank = {pid: r for r, (pid, _) in enumerate(lexical, start=1)}
    dense_rank = {pid: r for r, (pid, _) in enumerate(dense, start=1)}
    similarity = dict(dense)
    hits = [Hit(passages[pid], score * (authority_weight(passages[pid]) if authority else 1.0),
                lexical_rank.get(pid), dense_rank.get(pid), similarity.get(pid))
            for pid, score in fused.items() if pid in passages]
    hits.sort(key=lambda h: (-h.score, h.passage.id))
    return hits[:k]


def authority_weight(passage: Passage) -> float:
    bonus = AUTHORITY.get(passage.evidence_type, 0.0) * (1.0 if passage.recognised else 0.5)
    if passage.year:
        bonus += RECENCY * min(1.0, max(0.0, (passage.year - 1995) / 30))
    return 1.0 + bonus


def get_passage(citation_id: str) -> Passage | None:
    """The passage a citation id names (the citations page), from the configured index or the local one."""
    if not re.fullmatch(r"ev-[0-9a-f]{10}", citation_id):
        return None
    try:
        return _with_fallback(lambda index: index.get([citation_id]).get(citation_id))[0]
    except EvidenceUnavailable:
        return None
