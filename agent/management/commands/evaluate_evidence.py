"""manage.py evaluate_evidence: retrieval recall@5 and MRR (lexical, dense, hybrid) on the local index and, when
ELASTICSEARCH_URL is set, on Elasticsearch; then the grounding check's precision and recall on the labelled
claims. Build the indexes first with ingest_evidence. The figures go in docs/evidence.md."""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand

from agent.evidence.eval import grounding, retrieval
from agent.evidence.search import local_index, primary_index


class Command(BaseCommand):
    help = "Evaluate evidence retrieval and the grounding check."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--skip-grounding", action="store_true")

    def handle(self, *args, skip_grounding: bool = False, **options) -> None:
        indexes = [local_index()] + ([primary_index()] if settings.ELASTICSEARCH_URL else [])
        others = [q for q in retrieval.questions() if q.get("language", "en") != "en"]
        for index in indexes:
            for mode in ("lexical", "dense", "hybrid"):
                self.stdout.write(f"{index.name:13s} all   {retrieval.evaluate(index, mode)}")
            self.stdout.write(f"{index.name:13s} all   hybrid without authority ranking: "
                              f"{retrieval.evaluate(index, 'hybrid', authority=False)}")
            for mode in ("lexical", "dense", "hybrid"):
                self.stdout.write(f"{index.name:13s} fr/es/zh {retrieval.evaluate(index, mode, others)}")
        if not skip_grounding:
            self.stdout.write(f"grounding ({indexes[0].name}): {grounding.evaluate(indexes[0])}")
