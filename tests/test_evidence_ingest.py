"""Ingestion is idempotent and incremental on both indexes: a second run changes nothing, a corrected passage is
replaced, a withdrawn one removed; the command shows progress and reports what it did."""

from __future__ import annotations

import dataclasses
import io
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

from agent.evidence.corpus import read_corpus
from agent.evidence.index_elasticsearch import ElasticsearchIndex
from agent.evidence.index_local import LocalIndex
from agent.evidence.ingest import ingest

CACHE = Path(settings.EVIDENCE_EMBEDDING_CACHE)


@pytest.fixture(params=["local", "elasticsearch"])
def empty_index(request, tmp_path):
    if request.param == "local":
        yield LocalIndex(tmp_path / "index.sqlite3")
        return
    index = ElasticsearchIndex(request.getfixturevalue("elasticsearch_url"), f"test-ingest-{uuid.uuid4().hex[:8]}",
                               timeout=30)
    yield index
    index.drop()


def test_ingestion_is_idempotent_and_incremental(empty_index) -> None:
    passages = [p for p in read_corpus() if p.section_key.startswith("gina_asthma_2024/")]
    assert len(passages) > 10
    first = ingest(passages, empty_index, cache=CACHE)
    assert (first.added, first.changed, first.skipped, first.removed) == (len(passages), 0, 0, 0)
    again = ingest(passages, empty_index, cache=CACHE)
    assert (again.added, again.changed, again.skipped, again.removed) == (0, 0, len(passages), 0)

    corrected = dataclasses.replace(passages[0], text=passages[0].text + " (corrected)")
    withdrawn = passages[-1]
    third = ingest([corrected, *passages[1:-1]], empty_index, cache=CACHE)
    assert (third.added, third.changed, third.skipped, third.removed) == (0, 1, len(passages) - 2, 1)
    stored = empty_index.get([corrected.id, withdrawn.id])
    assert stored[corrected.id].text.endswith("(corrected)")
    assert withdrawn.id not in stored
    assert empty_index.count() == len(passages) - 1


def test_passage_ids_are_stable_and_unique() -> None:
    first = [p.id for p in read_corpus()]
    assert len(first) == len(set(first)) > 1000
    assert first == [p.id for p in read_corpus()]
    passage = next(iter(read_corpus()))
    assert passage.doi and passage.url.startswith("https://doi.org/") and passage.organisation and passage.year
    assert passage.licence and passage.source.startswith("open-medicine")


def test_the_command_reports_added_changed_and_skipped(evidence_corpus) -> None:
    out = io.StringIO()
    call_command("ingest_evidence", "--local-only", "--no-progress", stdout=out)
    assert "local: 0 added, 0 changed" in out.getvalue() and "unchanged (skipped)" in out.getvalue()
