"""Retrieval quality and behaviour, the same tests on both indexes: the embedded local index and the real
Elasticsearch node, each holding the whole corpus. The floors sit a little under the measured figures
(docs/evidence.md), so a regression in analysis, fusion or either index fails here."""

from __future__ import annotations

import logging

import pytest

from agent.evidence.eval.retrieval import evaluate, questions
from agent.evidence.index import EvidenceUnavailable, Filters
from agent.evidence.search import search_evidence


@pytest.fixture(params=["local", "elasticsearch"])
def index(request):
    return request.getfixturevalue("evidence_corpus" if request.param == "local" else "evidence_elasticsearch")


def test_hybrid_retrieval_finds_the_answering_section(index) -> None:
    hybrid = evaluate(index, "hybrid")
    lexical = evaluate(index, "lexical")
    assert hybrid.questions >= 60
    assert hybrid.recall_at_5 >= 0.85, hybrid
    assert hybrid.mrr >= 0.65, hybrid
    assert hybrid.recall_at_5 >= lexical.recall_at_5, (hybrid, lexical)


def test_questions_in_other_languages_reach_english_guidance_through_the_dense_side(index) -> None:
    others = [q for q in questions() if q["language"] != "en"]
    assert len(others) >= 6
    dense = evaluate(index, "dense", others)
    lexical = evaluate(index, "lexical", others)
    assert dense.recall_at_5 >= 0.7, dense
    assert dense.recall_at_5 > lexical.recall_at_5


def test_both_indexes_rank_alike(evidence_corpus, evidence_elasticsearch) -> None:
    """Same terms, same vectors: the lexical top 5 agree; the dense side (HNSW against exact) mostly agrees."""
    for item in questions()[:20]:
        local = [h.passage.id for h in search_evidence(item["question"], k=5, mode="lexical",
                                                       index=evidence_corpus).hits]
        remote = [h.passage.id for h in search_evidence(item["question"], k=5, mode="lexical",
                                                        index=evidence_elasticsearch).hits]
        assert len(set(local) & set(remote)) >= 3, item["question"]


def test_filters_keep_only_the_population_and_evidence_type_asked_for(index) -> None:
    hits = search_evidence("treatment of depression", k=10, index=index,
                           filters=Filters(population="pregnancy")).hits
    assert hits
    assert all(not h.passage.population or "pregnancy" in h.passage.population for h in hits)
    assert any("pregnancy" in h.passage.population for h in hits)
    hits = search_evidence("metformin kidney function dose", k=5, index=index,
                           filters=Filters(evidence_types=("guideline",))).hits
    assert hits and all(h.passage.evidence_type == "guideline" for h in hits)
    assert search_evidence("asthma inhaler", k=5, index=index, filters=Filters(language="fr")).hits == []


def test_authority_puts_a_recognised_guideline_before_other_evidence(index) -> None:
    plain = search_evidence("acute monoarthritis causes gout septic arthritis", k=10, index=index, authority=False)
    ranked = search_evidence("acute monoarthritis causes gout septic arthritis", k=10, index=index)
    def first_guideline(hits):
        return next(i for i, h in enumerate(hits) if h.passage.evidence_type == "guideline" and h.passage.recognised)
    assert first_guideline(ranked.hits) <= first_guideline(plain.hits)
    assert all(h.score > 0 for h in ranked.hits)


@pytest.mark.parametrize("text", ['*:* OR {"match_all": {}}', 'text:(renal AND', '"NEAR(a b)" -x ^2 AND OR NOT',
                                  "'; DROP TABLE passages; --", "/.*/", ""])
def test_query_text_is_never_query_syntax(index, text) -> None:
    result = search_evidence(text, k=5, index=index, mode="lexical")
    assert len(result.hits) <= 5  # answered as words (or nothing), never an error, never everything


def test_a_node_that_is_down_falls_back_to_the_local_index(evidence_corpus, settings, caplog) -> None:
    settings.ELASTICSEARCH_URL = "http://127.0.0.1:9"  # nothing listens there
    with caplog.at_level(logging.WARNING, logger="agent.evidence.search"):
        result = search_evidence("asthma reliever inhaler", k=3)
    assert result.backend == "local" and result.degraded
    assert result.hits
    assert "fell back to the local index" in caplog.text


def test_no_index_at_all_is_reported_not_invented(settings, tmp_path) -> None:
    settings.ELASTICSEARCH_URL = "http://127.0.0.1:9"
    settings.EVIDENCE_INDEX_PATH = str(tmp_path / "never-built.sqlite3")
    with pytest.raises(EvidenceUnavailable):
        search_evidence("asthma reliever inhaler")
    settings.ELASTICSEARCH_URL = ""
    with pytest.raises(EvidenceUnavailable):
        search_evidence("asthma reliever inhaler")


def test_the_query_is_embedded_once_and_its_time_reported(evidence_corpus, settings, monkeypatch) -> None:
    """The dense side's model time is reported apart (the chat benchmark counts it as a model's, not Continuum's),
    and a fallback to the local index reuses the vector rather than embedding the query again."""
    import agent.evidence.search as search

    embedded = []
    real = search.embed_query
    monkeypatch.setattr(search, "embed_query", lambda text: embedded.append(text) or real(text))
    settings.ELASTICSEARCH_URL = "http://127.0.0.1:9"  # the fallback path: two indexes asked, one embedding
    result = search_evidence("  asthma reliever inhaler ", k=3)
    assert result.backend == "local" and result.hits
    assert embedded == ["asthma reliever inhaler"]
    assert 0 < result.embedding_seconds < result.seconds
    lexical = search_evidence("asthma reliever inhaler", k=3, mode="lexical")
    assert lexical.embedding_seconds == 0 and embedded == ["asthma reliever inhaler"]
