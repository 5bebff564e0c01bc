"""manage.py ingest_evidence: the evidence corpus into the local index and, when ELASTICSEARCH_URL is set,
into Elasticsearch too (the local index is the fallback when the node is down). Idempotent and incremental."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from agent.evidence.corpus import read_corpus
from agent.evidence.index import EvidenceUnavailable
from agent.evidence.ingest import ingest
from agent.evidence.search import local_index, primary_index


class Command(BaseCommand):
    help = "Ingest the evidence corpus into the evidence indexes (added, changed, skipped, removed)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--local-only", action="store_true", help="only the embedded local index")
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")

    def handle(self, *args, local_only: bool = False, no_progress: bool = False, **options) -> None:
        passages = list(read_corpus())
        targets = [local_index()]
        if settings.ELASTICSEARCH_URL and not local_only:
            targets.append(primary_index())
        cache = Path(settings.EVIDENCE_EMBEDDING_CACHE)
        for index in targets:
            with tqdm(total=len(passages), desc=f"evidence -> {index.name}", unit="passage",
                      disable=no_progress) as bar:
                try:
                    report = ingest(passages, index, cache=cache, progress=bar.update)
                except EvidenceUnavailable as exc:
                    raise CommandError(f"{index.name}: {exc}") from exc
            self.stdout.write(str(report))
