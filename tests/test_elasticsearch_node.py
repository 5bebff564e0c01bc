"""The test services' Elasticsearch node is real and does what evidence retrieval will ask of it: BM25 over a
standard-analysed text field, kNN over a dense_vector field, and query text that stays text (match queries,
never query_string), whatever query-DSL characters it holds."""

from __future__ import annotations

import uuid

import elasticsearch
import pytest

DIMS = 4
PASSAGES = {
    "metformin": ("Metformin in renal impairment: reduce the dose when eGFR is below 45 and stop it below 30.",
                  [0.9, 0.1, 0.0, 0.0]),
    "asthma": ("Check inhaler technique before stepping up asthma treatment.", [0.0, 0.9, 0.1, 0.0]),
    "warfarin": ("Warfarin interacts with many antibiotics; check the INR within a week.", [0.0, 0.0, 0.9, 0.1]),
    "fever": ("Fever in a child under three months needs same-day assessment.", [0.1, 0.0, 0.0, 0.9]),
}


@pytest.fixture
def passages(elasticsearch_client) -> str:
    """A fresh index holding PASSAGES; its name."""
    index = f"test-passages-{uuid.uuid4().hex[:8]}"
    elasticsearch_client.indices.create(index=index, settings={"number_of_shards": 1, "number_of_replicas": 0},
                                        mappings={"properties": {
                                            "text": {"type": "text", "analyzer": "standard"},
                                            "embedding": {"type": "dense_vector", "dims": DIMS, "index": True,
                                                          "similarity": "cosine"}}})
    for doc_id, (text, vector) in PASSAGES.items():
        elasticsearch_client.index(index=index, id=doc_id, document={"text": text, "embedding": vector})
    elasticsearch_client.indices.refresh(index=index)
    yield index
    elasticsearch_client.indices.delete(index=index)


def lexical(client, index: str, text: str) -> list[str]:
    """Ids of a BM25 search for ``text``; the text only ever goes in as a match query's value."""
    response = client.search(index=index, query={"multi_match": {"query": text, "fields": ["text"]}}, size=10)
    return [hit["_id"] for hit in response["hits"]["hits"]]


def test_client_and_server_share_a_major_version(elasticsearch_client):
    (node,) = elasticsearch_client.nodes.info(node_id="_local")["nodes"].values()
    assert node["version"].split(".")[0] == elasticsearch.__versionstr__.split(".")[0]
    assert elasticsearch_client.cluster.health()["status"] == "green"


def test_the_node_has_the_standard_analyzer_and_no_english_one(elasticsearch_client):
    """What docs/evidence.md says about the integ-test distribution: core analyzers only, no stemming."""
    tokens = elasticsearch_client.indices.analyze(analyzer="standard", text="Patients' kidneys (eGFR<30)")["tokens"]
    assert [t["token"] for t in tokens] == ["patients", "kidneys", "egfr", "30"]
    with pytest.raises(elasticsearch.BadRequestError, match="english"):
        elasticsearch_client.indices.analyze(analyzer="english", text="kidneys")


def test_bm25_finds_the_passage_with_the_words(elasticsearch_client, passages):
    assert lexical(elasticsearch_client, passages, "metformin dose in renal impairment")[0] == "metformin"
    assert lexical(elasticsearch_client, passages, "INR antibiotics") == ["warfarin"]


def test_knn_finds_the_nearest_vector(elasticsearch_client, passages):
    knn = {"field": "embedding", "query_vector": [0.0, 0.2, 1.0, 0.0], "k": 2, "num_candidates": 10}
    response = elasticsearch_client.search(index=passages, knn=knn, size=2)
    assert [hit["_id"] for hit in response["hits"]["hits"]] == ["warfarin", "asthma"]


@pytest.mark.parametrize("text", ["*:*", '{"match_all": {}}', "_id:* OR text:?*", "/.*/"])
def test_query_syntax_in_the_text_matches_nothing(elasticsearch_client, passages, text):
    """As query_string each of these would match every passage (or fail to parse); as text they share no word."""
    assert lexical(elasticsearch_client, passages, text) == []


def test_unbalanced_query_syntax_is_searched_as_words(elasticsearch_client, passages):
    # query_string would reject this outright (unclosed quote, bracket and parenthesis) or apply NOT.
    assert lexical(elasticsearch_client, passages, 'metformin" (eGFR < 30 [renal AND NOT metformin')[0] == "metformin"
