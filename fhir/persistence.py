"""Low-level writes: one new version of one resource, its history row and its search indexes.

No access checks and no audit here: fhir.store.Repository does both before calling in, and
fhir.audit writes AuditEvents through here (auditing the audit trail would never end).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime

from django.db import connection, transaction

from fhir.definitions import FOLLOWS_TARGET, PATIENT_COMPARTMENT
from fhir.indexing import index_values, split_reference
from fhir.models import ResourceVersion, SearchIndex, StoredResource
from fhir.release import is_released

BULK_BATCH = 500  # rows per INSERT in bulk writes (SQLite allows 32,766 variables per statement)


def new_id() -> str:
    return str(uuid.uuid4())


def now() -> datetime:
    return datetime.now(UTC)


def instant(moment: datetime) -> str:
    """FHIR instant text, millisecond precision, UTC."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def compartment_patient(resource: dict, rows: list[tuple[str, dict]],
                        pending: dict[tuple[str, str], str | None] | None = None) -> str | None:
    """The Patient id whose compartment holds this resource (the first compartment parameter that names one).

    ``pending``: the compartments of resources being written in the same batch, not yet in the database."""
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
            if pending and pending.get((row.get("ref_type"), row.get("ref_id"))):
                return pending[(row["ref_type"], row["ref_id"])]
            if row.get("ref_type") and row.get("ref_id"):
                target = (StoredResource.objects.filter(resource_type=row["ref_type"], fhir_id=row["ref_id"])
                          .values_list("patient_id", flat=True).first())
                if target:
                    return target
    return None


def stamp(resource: dict, fhir_id: str, version_id: int, moment: datetime) -> dict:
    meta = {**resource.get("meta", {}), "versionId": str(version_id), "lastUpdated": instant(moment)}
    return {**resource, "id": fhir_id, "meta": meta}


def _version_fields(resource: dict, version_id: int, moment: datetime,
                    index: Callable[[dict], list[tuple[str, dict]]],
                    pending: dict[tuple[str, str], str | None] | None = None) -> tuple[dict, list[tuple[str, dict]]]:
    """A version's row fields (content stamped with version and time) and its search index rows."""
    content = stamp(resource, resource["id"], version_id, moment)
    rows = index(content)
    return {"version_id": version_id, "last_updated": moment, "deleted": False, "content": content,
            "patient_id": compartment_patient(content, rows, pending), "released": is_released(content)}, rows


@transaction.atomic
def write_version(resource: dict, *, previous: StoredResource | None, method: str,
                  index: Callable[[dict], list[tuple[str, dict]]] = index_values) -> StoredResource:
    """Store ``resource`` (already validated, id set) as the next version after ``previous``.

    ``previous`` must have been read with select_for_update by the caller, so two writers
    cannot both write version n+1.
    """
    moment = now()
    version_id = previous.version_id + 1 if previous else 1
    fields, rows = _version_fields(resource, version_id, moment, index)
    content = fields["content"]
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


def insert_new_version(resource: dict, method: str, index: Callable[[dict], list[tuple[str, dict]]]) -> None:
    """Version 1 of one resource that cannot exist yet (a fresh uuid): what ``write_version`` stores, without model
    instances and, on PostgreSQL, in one statement (data-modifying CTEs) instead of a transaction of five round
    trips. An AuditEvent is written on every read and write of clinical data. Values are adapted by the models'
    own fields, so both paths store the same values (tests/test_fhir_audit.py checks)."""
    moment = now()
    fields, rows = _version_fields(resource, 1, moment, index)
    stored = {"resource_type": resource["resourceType"], "fhir_id": resource["id"], **fields}
    version = {"version_id": 1, "last_updated": moment, "method": method}  # content and released: the row's
    index_rows = [{"param": code, **row} for code, row in rows]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(*_insert_sql(stored, version, index_rows))
            return
        with transaction.atomic():
            names, params = _columns(StoredResource, stored)
            cursor.execute(f"INSERT INTO {StoredResource._meta.db_table} ({', '.join(names)}) "
                           f"VALUES ({', '.join(['%s'] * len(names))}) RETURNING id", params)
            resource_id = cursor.fetchone()[0]
            names, params = _columns(ResourceVersion, {**version, "content": fields["content"],
                                                       "released": fields["released"]})
            cursor.execute(f"INSERT INTO {ResourceVersion._meta.db_table} (resource_id, {', '.join(names)}) "
                           f"VALUES (%s, {', '.join(['%s'] * len(names))})", [resource_id, *params])
            row_sql = f"({', '.join(['%s'] * (len(_INDEX_COLUMNS) + 1))})"
            for start in range(0, len(index_rows), BULK_BATCH):
                part = index_rows[start:start + BULK_BATCH]
                cursor.execute(f"INSERT INTO {SearchIndex._meta.db_table} (resource_id, {', '.join(_INDEX_COLUMNS)}) "
                               f"VALUES {', '.join([row_sql] * len(part))}",
                               [v for row in part for v in [resource_id, *_index_values(row)]])


_INDEX_COLUMNS = ["param", "system", "code", "value", "ref_type", "ref_id", "low", "high", "number"]
_PG_TYPES = {"CharField": "varchar", "DateTimeField": "timestamptz", "FloatField": "double precision"}


def _columns(model, values: dict) -> tuple[list[str], list]:
    """Column names and values adapted by the model's fields, as the ORM would send them."""
    fields = [model._meta.get_field(name) for name in values]
    return [f.column for f in fields], [f.get_db_prep_save(v, connection) for f, v in zip(fields, values.values(),
                                                                                         strict=True)]


def _index_values(row: dict) -> list:
    return [SearchIndex._meta.get_field(name).get_db_prep_save(row.get(name), connection) for name in _INDEX_COLUMNS]


def _insert_sql(stored: dict, version: dict, index_rows: list[dict]) -> tuple[str, list]:
    """PostgreSQL: the resource row, its version (sharing the row's encoded content) and its index rows (one array
    per column, unnested) in one INSERT with two CTEs."""
    stored_names, stored_params = _columns(StoredResource, stored)
    version_names, version_params = _columns(ResourceVersion, version)
    sql = (f"WITH s AS (INSERT INTO {StoredResource._meta.db_table} ({', '.join(stored_names)}) "
           f"VALUES ({', '.join(['%s'] * len(stored_names))}) RETURNING id, content, released), "
           f"v AS (INSERT INTO {ResourceVersion._meta.db_table} (resource_id, {', '.join(version_names)}, content, "
           f"released) SELECT id, {', '.join(['%s'] * len(version_names))}, content, released FROM s) ")
    params = [*stored_params, *version_params]
    if index_rows:
        casts = [_PG_TYPES[SearchIndex._meta.get_field(name).get_internal_type()] for name in _INDEX_COLUMNS]
        sql += (f"INSERT INTO {SearchIndex._meta.db_table} (resource_id, {', '.join(_INDEX_COLUMNS)}) "
                f"SELECT s.id, r.* FROM s, unnest({', '.join(f'%s::{cast}[]' for cast in casts)}) AS r")
        values = [_index_values(row) for row in index_rows]
        params += [list(column) for column in zip(*values, strict=True)]
    else:
        sql += "SELECT 1"
    return sql, params


@transaction.atomic
def write_new_resources(resources: list[dict]) -> list[StoredResource]:
    """Version 1 of many resources (validated, ids set, none stored yet) with set-based inserts: three
    INSERT statements per batch instead of three per resource. An import's path (fhir.store.Repository.put_many)."""
    moment = now()
    pending: dict[tuple[str, str], str | None] = {}
    prepared = []
    for resource in resources:
        fields, rows = _version_fields(resource, 1, moment, index_values, pending)
        pending[(resource["resourceType"], resource["id"])] = fields["patient_id"]
        prepared.append((StoredResource(resource_type=resource["resourceType"], fhir_id=resource["id"], **fields),
                         rows))
    # Targets first: a Provenance or Binary may come before the resource whose compartment it follows.
    for row, rows in prepared:
        if row.patient_id is None and row.resource_type in FOLLOWS_TARGET:
            row.patient_id = compartment_patient(row.content, rows, pending)
    stored = StoredResource.objects.bulk_create([row for row, _ in prepared], batch_size=BULK_BATCH)
    if any(row.pk is None for row in stored):  # the backend returned no ids (never on PostgreSQL or SQLite >= 3.35)
        raise RuntimeError("bulk insert returned no primary keys")
    ResourceVersion.objects.bulk_create(
        (ResourceVersion(resource=row, version_id=1, last_updated=moment, method=ResourceVersion.Method.CREATE,
                         content=row.content, released=row.released) for row in stored), batch_size=BULK_BATCH)
    SearchIndex.objects.bulk_create(
        (SearchIndex(resource=row, param=code, **values) for row, (_, rows) in zip(stored, prepared, strict=True)
         for code, values in rows), batch_size=BULK_BATCH)
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
