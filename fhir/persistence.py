"""Low-level writes: one new version of one resource, its history row and its search indexes.

No access checks and no audit here: fhir.store.Repository does both before calling in, and
fhir.audit writes AuditEvents through here (auditing the audit trail would never end).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime

from django.db import transaction

from fhir.definitions import FOLLOWS_TARGET, PATIENT_COMPARTMENT
from fhir.indexing import index_values, split_reference
from fhir.models import ResourceVersion, SearchIndex, StoredResource
from fhir.release import is_released


def new_id() -> str:
    return str(uuid.uuid4())


def now() -> datetime:
    return datetime.now(UTC)


def instant(moment: datetime) -> str:
    """FHIR instant text, millisecond precision, UTC."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def compartment_patient(resource: dict, rows: list[tuple[str, dict]]) -> str | None:
    """The Patient id whose compartment holds this resource (the first compartment parameter that names one)."""
    if resource["resourceType"] == "Patient":
        return resource["id"]
    for param in PATIENT_COMPARTMENT.get(resource["resourceType"], []):
        for code, row in rows:
            if code == param and row.get("ref_type") == "Patient" and row.get("ref_id"):
                return row["ref_id"]
    if resource["resourceType"] in FOLLOWS_TARGET:
        # A Provenance about a patient's Condition, or the Binary of their document, belongs to that
        # patient's record, as its target does.
        targets = [row for code, row in rows if code == "target"]
        if resource["resourceType"] == "Binary" and resource.get("securityContext", {}).get("reference"):
            ref_type, ref_id = split_reference(resource["securityContext"]["reference"])
            targets = [{"ref_type": ref_type, "ref_id": ref_id}]
        for row in targets:
            if row.get("ref_type") == "Patient" and row.get("ref_id"):
                return row["ref_id"]
            if row.get("ref_type") and row.get("ref_id"):
                target = (StoredResource.objects.filter(resource_type=row["ref_type"], fhir_id=row["ref_id"])
                          .values_list("patient_id", flat=True).first())
                if target:
                    return target
    return None


def stamp(resource: dict, fhir_id: str, version_id: int, moment: datetime) -> dict:
    meta = {**resource.get("meta", {}), "versionId": str(version_id), "lastUpdated": instant(moment)}
    return {**resource, "id": fhir_id, "meta": meta}


@transaction.atomic
def write_version(resource: dict, *, previous: StoredResource | None, method: str,
                  index: Callable[[dict], list[tuple[str, dict]]] = index_values) -> StoredResource:
    """Store ``resource`` (already validated, id set) as the next version after ``previous``.

    ``previous`` must have been read with select_for_update by the caller, so two writers
    cannot both write version n+1.
    """
    moment = now()
    version_id = previous.version_id + 1 if previous else 1
    content = stamp(resource, resource["id"], version_id, moment)
    rows = index(content)
    fields = {"version_id": version_id, "last_updated": moment, "deleted": False, "content": content,
              "patient_id": compartment_patient(content, rows), "released": is_released(content)}
    if previous is None:
        stored = StoredResource.objects.create(resource_type=content["resourceType"], fhir_id=content["id"], **fields)
    else:
        StoredResource.objects.filter(pk=previous.pk).update(**fields)
        stored = previous
        for name, value in fields.items():
            setattr(stored, name, value)
        SearchIndex.objects.filter(resource=stored).delete()
    SearchIndex.objects.bulk_create(SearchIndex(resource=stored, param=code, **row) for code, row in rows)
    ResourceVersion.objects.create(resource=stored, version_id=version_id, last_updated=moment, method=method,
                                   content=content, released=fields["released"])
    return stored


@transaction.atomic
def write_deletion(previous: StoredResource) -> StoredResource:
    moment = now()
    version_id = previous.version_id + 1
    StoredResource.objects.filter(pk=previous.pk).update(version_id=version_id, last_updated=moment, deleted=True,
                                                         content=None)
    SearchIndex.objects.filter(resource=previous).delete()
    ResourceVersion.objects.create(resource=previous, version_id=version_id, last_updated=moment,
                                   method=ResourceVersion.Method.DELETE, content=None, released=previous.released)
    previous.version_id, previous.last_updated, previous.deleted, previous.content = version_id, moment, True, None
    return previous
