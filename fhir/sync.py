"""Bringing records in from elsewhere: Synthea and EHR transaction bundles, idempotently.

Entries whose fullUrl is ``urn:uuid:<uuid>`` are stored under that uuid as their id (an update
that creates), and references between them are rewritten to ``Type/<uuid>``. Importing the same
bundle again changes nothing; a changed resource gets a new version. One bundle, one transaction.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from fhir.errors import FhirError
from fhir.references import rewrite_references
from fhir.store import Repository

_UUID_URL = re.compile(r"^urn:uuid:([0-9a-fA-F-]{36})$")


@dataclass
class ImportReport:
    created: Counter = field(default_factory=Counter)
    updated: Counter = field(default_factory=Counter)
    unchanged: Counter = field(default_factory=Counter)
    skipped: list[str] = field(default_factory=list)

    def add(self, other: ImportReport) -> None:
        self.created.update(other.created)
        self.updated.update(other.updated)
        self.unchanged.update(other.unchanged)
        self.skipped += other.skipped

    def summary(self) -> str:
        return (f"{sum(self.created.values())} created, {sum(self.updated.values())} updated, "
                f"{sum(self.unchanged.values())} unchanged, {len(self.skipped)} skipped")


def _entry_id(entry: dict) -> str | None:
    match = _UUID_URL.match(entry.get("fullUrl", ""))
    if match:
        return match.group(1).lower()
    return entry.get("resource", {}).get("id")


def import_bundle(repo: Repository, bundle: Any) -> ImportReport:
    """Import a transaction, batch or collection bundle; all of it or none of it."""
    if not isinstance(bundle, dict) or bundle.get("resourceType") != "Bundle":
        raise FhirError("invalid", "not a FHIR Bundle")
    entries = [e for e in bundle.get("entry", []) if isinstance(e, dict) and isinstance(e.get("resource"), dict)]
    report = ImportReport()
    ids: dict[str, str] = {}
    for entry in entries:
        fhir_id = _entry_id(entry)
        if fhir_id and entry.get("fullUrl"):
            ids[entry["fullUrl"]] = f"{entry['resource'].get('resourceType')}/{fhir_id}"
    prepared = []
    for entry in entries:
        resource = rewrite_references(entry["resource"], ids.get)
        fhir_id = _entry_id(entry)
        if not fhir_id:
            report.skipped.append(f"{resource.get('resourceType')} without a uuid fullUrl or an id")
            continue
        prepared.append({**resource, "id": fhir_id})
    for result in repo.put_many(prepared):
        bucket = report.created if result.created else report.updated if result.changed else report.unchanged
        bucket[result.resource["resourceType"]] += 1
    return report
