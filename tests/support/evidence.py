"""Evidence indexes for the tests: the whole corpus, ingested once per session into a local index and into the
real Elasticsearch node (embeddings come from the shared cache, so only a cold machine pays for them)."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings

from agent.evidence.corpus import read_corpus
from agent.evidence.index_elasticsearch import ElasticsearchIndex
from agent.evidence.index_local import LocalIndex
from agent.evidence.ingest import ingest

ES_INDEX = "continuum-evidence-test"


def build_local(path: Path) -> LocalIndex:
    index = LocalIndex(path)
    ingest(read_corpus(), index, cache=Path(settings.EVIDENCE_EMBEDDING_CACHE))
    return index


def build_elasticsearch(url: str, name: str = ES_INDEX) -> ElasticsearchIndex:
    index = ElasticsearchIndex(url, name, timeout=30)
    index.drop()
    ingest(read_corpus(), index, cache=Path(settings.EVIDENCE_EMBEDDING_CACHE))
    return index
