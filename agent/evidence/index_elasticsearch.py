"""The Elasticsearch evidence index (ELASTICSEARCH_URL set). The integ-test node has only the standard,
simple, whitespace, stop and keyword analyzers and no rank fusion or scripts (docs/evidence.md), so Continuum
indexes its own stemmed terms with the whitespace analyzer (the same terms the local index holds) and fuses
and ranks in search.py. Patient words only ever go into `match` values and kNN vectors, never into
query_string: query text cannot become query DSL."""

from __future__ import annotations

from typing import Any

import numpy as np

from agent.evidence.corpus import Passage
from agent.evidence.embed import DIMENSIONS
from agent.evidence.index import EvidenceUnavailable, Filters
from agent.evidence.text import analysed

MAPPING: dict[str, Any] = {
    "dynamic": "strict",
    "properties": {
        "terms": {"type": "text", "analyzer": "whitespace", "similarity": "BM25"},
        "content_hash": {"type": "keyword"},
        "language": {"type": "keyword"},
        "population": {"type": "keyword"},
        "evidence_type": {"type": "keyword"},
        "data": {"type": "object", "enabled": False},  # the passage as stored; not searched
        "vector": {"type": "dense_vector", "dims": DIMENSIONS, "index": True, "similarity": "cosine"},
    },
}
NUM_CANDIDATES = 100  # HNSW candidates per shard for kNN (recall against latency)


class ElasticsearchIndex:
    name = "elasticsearch"

    def __init__(self, url: str, index: str, timeout: float = 2.0) -> None:
        from elasticsearch import Elasticsearch

        self.index = index
        # No retries on a search: a slow node is answered by the fallback, not by waiting longer.
        self.client = Elasticsearch(url, request_timeout=timeout, max_retries=0, retry_on_timeout=False)

    def _call(self, fn, *args, **kwargs):
        from elastic_transport import TransportError
        from elasticsearch import ApiError

        try:
            return fn(*args, **kwargs)
        except (ApiError, TransportError) as exc:
            raise EvidenceUnavailable(f"Elasticsearch: {type(exc).__name__}: {str(exc)[:300]}") from exc

    def ensure(self) -> None:
        """Create the index with Continuum's mapping if it does not exist."""
        client = self.client.options(request_timeout=60)
        if not self._call(client.indices.exists, index=self.index):
            self._call(client.indices.create, index=self.index, mappings=MAPPING,
                       settings={"number_of_shards": 1, "number_of_replicas": 0})

    def count(self) -> int:
        self.ensure()
        return int(self._call(self.client.count, index=self.index)["count"])

    def hashes(self) -> dict[str, str]:
        from elasticsearch.helpers import scan

        self.ensure()
        client = self.client.options(request_timeout=60)
        return self._call(lambda: {hit["_id"]: hit["_source"]["content_hash"] for hit in scan(
            client, index=self.index, query={"query": {"match_all": {}}}, _source=["content_hash"], size=2000)})

    def upsert(self, passages: list[Passage], vectors: np.ndarray) -> None:
        from elasticsearch.helpers import bulk

        if not passages:
            return
        self.ensure()
        actions = ({"_op_type": "index", "_index": self.index, "_id": p.id, "_source": {
            "terms": analysed(p.indexed_text), "content_hash": p.content_hash, "language": p.language,
            "population": p.population, "evidence_type": p.evidence_type, "data": p.to_dict(),
            "vector": [float(x) for x in v]}} for p, v in zip(passages, vectors, strict=True))
        client = self.client.options(request_timeout=120)
        self._call(bulk, client, actions, chunk_size=500)
        self._call(client.indices.refresh, index=self.index)

    def delete(self, ids: list[str]) -> None:
        from elasticsearch.helpers import bulk

        if not ids:
            return
        client = self.client.options(request_timeout=120)
        self._call(bulk, client, ({"_op_type": "delete", "_index": self.index, "_id": i} for i in ids),
                   raise_on_error=False)
        self._call(client.indices.refresh, index=self.index)

    def get(self, ids: list[str]) -> dict[str, Passage]:
        if not ids:
            return {}
        found = self._call(self.client.mget, index=self.index, ids=ids, source=["data"])
        return {d["_id"]: Passage.from_dict(d["_source"]["data"]) for d in found["docs"] if d.get("found")}

    def lexical(self, analysed_query: str, k: int, filters: Filters) -> list[tuple[str, float]]:
        if not analysed_query.strip():
            return []
        query = {"bool": {"must": [{"match": {"terms": {"query": analysed_query}}}], "filter": _filter(filters)}}
        found = self._call(self.client.search, index=self.index, query=query, size=k, source=False)
        return [(hit["_id"], float(hit["_score"])) for hit in found["hits"]["hits"]]

    def hybrid(self, analysed_query: str, vector: np.ndarray, k: int, filters: Filters
               ) -> tuple[list[tuple[str, float]], list[tuple[str, float]], dict[str, Passage]]:
        """The lexical and the kNN search as one _msearch: one round trip, run side by side on the node, each hit
        with its passage (no mget after)."""
        if not analysed_query.strip():
            dense = self.dense(vector, k, filters)
            return [], dense, self.get([pid for pid, _ in dense])
        lexical = {"query": {"bool": {"must": [{"match": {"terms": {"query": analysed_query}}}],
                                      "filter": _filter(filters)}}, "size": k, "_source": ["data"]}
        dense = {"knn": {"field": "vector", "query_vector": [float(x) for x in vector], "k": k,
                         "num_candidates": max(NUM_CANDIDATES, k), "filter": _filter(filters)},
                 "size": k, "_source": ["data"]}
        found = self._call(self.client.msearch, index=self.index, searches=[{}, lexical, {}, dense])
        answers = found["responses"]
        for answer in answers:
            if "error" in answer:
                raise EvidenceUnavailable(f"Elasticsearch: {str(answer['error'])[:300]}")
        passages = {hit["_id"]: Passage.from_dict(hit["_source"]["data"])
                    for answer in answers for hit in answer["hits"]["hits"]}
        return ([(hit["_id"], float(hit["_score"])) for hit in answers[0]["hits"]["hits"]],
                [(hit["_id"], 2 * float(hit["_score"]) - 1) for hit in answers[1]["hits"]["hits"]], passages)

    def optimize(self) -> None:
        """One segment: kNN searches each segment's HNSW graph, so a freshly bulk-loaded index of many small
        segments answers several times slower than a merged one."""
        client = self.client.options(request_timeout=600)
        self._call(client.indices.forcemerge, index=self.index, max_num_segments=1)
        self._call(client.indices.refresh, index=self.index)

    def dense(self, vector: np.ndarray, k: int, filters: Filters) -> list[tuple[str, float]]:
        knn = {"field": "vector", "query_vector": [float(x) for x in vector], "k": k,
               "num_candidates": max(NUM_CANDIDATES, k), "filter": _filter(filters)}
        found = self._call(self.client.search, index=self.index, knn=knn, size=k, source=False)
        # Elasticsearch reports cosine as (1 + cos) / 2; give back the cosine, as the local index does.
        return [(hit["_id"], 2 * float(hit["_score"]) - 1) for hit in found["hits"]["hits"]]

    def drop(self) -> None:
        self._call(self.client.options(ignore_status=404, request_timeout=60).indices.delete, index=self.index)


def _filter(filters: Filters) -> list[dict]:
    out: list[dict] = []
    if filters.language:
        out.append({"term": {"language": filters.language}})
    if filters.population:
        out.append({"bool": {"should": [{"term": {"population": filters.population}},
                                        {"bool": {"must_not": {"exists": {"field": "population"}}}}],
                             "minimum_should_match": 1}})
    if filters.evidence_types:
        out.append({"terms": {"evidence_type": list(filters.evidence_types)}})
    return out
