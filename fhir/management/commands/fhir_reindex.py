"""Rebuild the search index rows of every current resource: after a release indexes something new (composite
parameters), a database written before it finds only what was indexed then until this runs. Safe to run again
and while the server is up: each batch is rewritten in one transaction, with its resources locked."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from fhir.definitions import RESOURCE_TYPES
from fhir.indexing import index_values
from fhir.maintenance import refresh_statistics
from fhir.models import SearchIndex, StoredResource


def reindex(resource_types: list[str] | None = None, batch_size: int = 500) -> int:
    """Rewrite the index rows of the current resources (of these types), batch by batch; how many were done."""
    current = StoredResource.objects.filter(deleted=False)
    if resource_types:
        current = current.filter(resource_type__in=resource_types)
    done, last_pk = 0, 0
    while True:
        with transaction.atomic():
            # Locked, then read: a concurrent update either waits for this batch or is already in what we read.
            batch = list(current.select_for_update().filter(pk__gt=last_pk).order_by("pk")[:batch_size])
            if not batch:
                return done
            SearchIndex.objects.filter(resource__in=batch).delete()
            SearchIndex.objects.bulk_create(SearchIndex(resource=row, param=code, **values)
                                            for row in batch for code, values in index_values(row.content))
        done, last_pk = done + len(batch), batch[-1].pk


class Command(BaseCommand):
    help = "Rebuild the FHIR search index rows of every current resource (or of some types), in batches."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--type", action="append", dest="types", metavar="TYPE",
                            help="only this resource type (repeatable)")
        parser.add_argument("--batch-size", type=int, default=500, help="resources per transaction (default 500)")

    def handle(self, *args, types: list[str] | None, batch_size: int, **options) -> None:
        unknown = sorted(set(types or ()) - RESOURCE_TYPES)
        if unknown:
            raise CommandError(f"unknown resource types: {', '.join(unknown)}")
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1")
        done = reindex(types, batch_size)
        refresh_statistics()
        self.stdout.write(f"reindexed {done} resources")
