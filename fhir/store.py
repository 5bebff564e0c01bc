"""The FHIR record's Python API: one Repository per requester, every interaction checked and audited.

    repo = Repository(requester_for_user(request.user), channel="dashboard")
    observation = repo.read("Observation", "123")
    bundle_page = repo.search("Observation", [("patient", "Patient/1"), ("_sort", "-date")])

The REST API (fhir/views.py), the agent (agent/memory) and the dashboard all go through here,
so access control and AuditEvents live in one place.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import Count, Q, QuerySet

from fhir.access import Requester
from fhir.audit import AUDIT_ENTITIES, AuditRecord, write_audit_event
from fhir.definitions import APPEND_ONLY, RESOURCE_TYPES, is_patient_specific
from fhir.errors import FhirError, forbidden, not_found
from fhir.hooks import run_after_create, run_before_write
from fhir.jsonnum import same
from fhir.models import ResourceVersion, SearchIndex, StoredResource
from fhir.persistence import instant, new_id, now, write_deletion, write_new_resources, write_version
from fhir.references import local_references
from fhir.release import (
    CLINICIAN_VERIFIED,
    CONFIRMATION_LEVELS,
    PATIENT_CONFIRMED,
    REJECTED,
    UNCONFIRMED,
    confirmation_of,
    with_confirmation,
)
from fhir.search.includes import included as included_by
from fhir.search.parse import SearchRequest, parse_search
from fhir.search.query import apply_sort, criterion_filter
from fhir.validation import check_id, check_type, validate_resource


@dataclass
class WriteResult:
    resource: dict
    created: bool
    changed: bool = True  # False when an update carried the content already stored (no new version)


@dataclass
class SearchResult:
    request: SearchRequest
    matches: list[dict]
    included: list[dict] = field(default_factory=list)
    total: int | None = None


@dataclass
class HistoryResult:
    versions: list[ResourceVersion]
    total: int


def dangling_references(resources: list[dict]) -> list[str]:
    """Relative references that point at nothing stored (types we do not store cannot resolve either)."""
    wanted: dict[str, set[str]] = {}
    bad: list[str] = []
    for resource in resources:
        for reference in local_references(resource):
            parts = reference.split("/")
            if len(parts) == 4 and parts[2] == "_history":
                parts = parts[:2]
            if len(parts) != 2 or parts[0] not in RESOURCE_TYPES:
                bad.append(reference)
            else:
                wanted.setdefault(parts[0], set()).add(parts[1])
    for resource_type, ids in wanted.items():
        found = set(StoredResource.objects.filter(resource_type=resource_type, fhir_id__in=ids, deleted=False)
                    .values_list("fhir_id", flat=True))
        bad += [f"{resource_type}/{i}" for i in sorted(ids - found)]
    return bad


def _query_text(resource_type: str, query: list[tuple[str, str]]) -> str:
    return f"{resource_type}?" + "&".join(f"{k}={v}" for k, v in query)


def parse_etag(if_match: str) -> int:
    text = if_match.strip()
    text = text[2:] if text.startswith("W/") else text
    text = text.strip('"')
    if not text.isdigit():
        raise FhirError("invalid", f"If-Match {if_match!r} is not a version ETag like W/\"3\"")
    return int(text)


class Repository:
    def __init__(self, requester: Requester, channel: str = "rest") -> None:
        self.requester = requester
        self.channel = channel  # where the request came from: rest, dashboard, agent, app: recorded in the audit

    # ---- access -------------------------------------------------------------------------------------------

    def _require_read(self, resource_type: str) -> None:
        if not self.requester.may_read_type(resource_type):
            raise forbidden(f"reading {resource_type}")

    def _require_write(self, resource_type: str) -> None:
        if not self.requester.may_write_type(resource_type):
            raise forbidden(f"writing {resource_type}")

    def visible(self, resource_type: str) -> QuerySet[StoredResource]:
        """Current resources of one type that this requester may see."""
        self._require_read(resource_type)
        return self._within_reach(StoredResource.objects.filter(resource_type=resource_type),
                                  is_patient_specific(resource_type))

    def _within_reach(self, queryset: QuerySet[StoredResource], patient_specific: bool) -> QuerySet[StoredResource]:
        if self.requester.patient_ids is not None and patient_specific:
            queryset = queryset.filter(patient_id__in=self.requester.patient_ids)
        if self.requester.released_only:
            queryset = queryset.filter(released=True)
        return queryset

    def _chain_visible(self, resource_type: str) -> QuerySet[StoredResource]:
        """What a chained search may look through: visible rows of a readable type, nothing otherwise."""
        if not self.requester.may_read_type(resource_type):
            return StoredResource.objects.none()
        return self.visible(resource_type)

    def _visible_row(self, resource_type: str, fhir_id: str) -> StoredResource:
        """The row, if visible; outsiders get 404 whether it exists or not (existence is not disclosed)."""
        check_type(resource_type)
        check_id(fhir_id)
        row = self.visible(resource_type).filter(fhir_id=fhir_id).first()
        if row is None:
            raise not_found(resource_type, fhir_id)
        return row

    def _check_compartment(self, stored: StoredResource) -> None:
        if not self.requester.may_touch_patient(stored.resource_type, stored.patient_id):
            raise forbidden(f"writing {stored.resource_type} outside your patients' records")

    # ---- audit --------------------------------------------------------------------------------------------

    def _audited(self, record: AuditRecord, action: Callable[[], Any]) -> Any:
        """Run an interaction; write its AuditEvent whatever the outcome (writes: in the same transaction)."""
        try:
            result = action()
        except FhirError as error:
            record.outcome = "minor" if error.status < 500 else "serious"
            record.description = error.diagnostics
            write_audit_event(self.requester, record, self.channel)
            raise
        write_audit_event(self.requester, record, self.channel)
        return result

    @staticmethod
    def _touch(record: AuditRecord, row: StoredResource) -> None:
        record.entities.append(f"{row.resource_type}/{row.fhir_id}/_history/{row.version_id}")
        if row.patient_id:
            record.patients.add(row.patient_id)

    # ---- read ---------------------------------------------------------------------------------------------

    def read(self, resource_type: str, fhir_id: str) -> dict:
        record = AuditRecord("read", entities=[f"{resource_type}/{fhir_id}"])

        def action() -> dict:
            row = self._visible_row(resource_type, fhir_id)
            self._touch(record, row)
            if row.deleted:
                raise FhirError("deleted", f"{resource_type}/{fhir_id} was deleted (version {row.version_id})")
            return row.content

        return self._audited(record, action)

    def vread(self, resource_type: str, fhir_id: str, version_id: str) -> dict:
        record = AuditRecord("vread", entities=[f"{resource_type}/{fhir_id}/_history/{version_id}"])

        def action() -> dict:
            row = self._visible_row(resource_type, fhir_id)
            if row.patient_id:
                record.patients.add(row.patient_id)
            version = row.versions.filter(version_id=int(version_id) if version_id.isdigit() else -1).first()
            if version is None or (self.requester.released_only and not version.released):
                raise FhirError("not-found", f"{resource_type}/{fhir_id} has no version {version_id!r}")
            if version.content is None:
                raise FhirError("deleted", f"version {version_id} of {resource_type}/{fhir_id} is a deletion")
            return version.content

        return self._audited(record, action)

    def history(self, resource_type: str | None = None, fhir_id: str | None = None, *, count: int = 20,
                offset: int = 0, since: Any = None) -> HistoryResult:
        record = AuditRecord("history-instance" if fhir_id else "history-type",
                             entities=[f"{resource_type}/{fhir_id}" if fhir_id else f"{resource_type}"])

        def action() -> HistoryResult:
            if resource_type is None:
                raise FhirError("not-supported", "system-level history is not supported: name a resource type",
                                status=405)
            check_type(resource_type)
            versions = ResourceVersion.objects.select_related("resource").filter(
                resource__in=self.visible(resource_type) if fhir_id is None else
                [self._visible_row(resource_type, fhir_id)])
            if self.requester.released_only:
                versions = versions.filter(released=True)
            if since is not None:
                versions = versions.filter(last_updated__gte=since)
            versions = versions.order_by("-last_updated", "-pk")
            page = list(versions[offset:offset + count])
            for version in page:
                if version.resource.patient_id:
                    record.patients.add(version.resource.patient_id)
            return HistoryResult(page, versions.count())

        return self._audited(record, action)

    # ---- search -------------------------------------------------------------------------------------------

    def search(self, resource_type: str, query: list[tuple[str, str]], *, strict: bool = False) -> SearchResult:
        record = AuditRecord("search-type", entities=[resource_type], query=_query_text(resource_type, query))
        return self._audited(record, lambda: self._search(record, resource_type, query, strict))

    def search_many(self, searches: list[tuple[str, list[tuple[str, str]]]]) -> list[SearchResult]:
        """Several searches, each with the same checks and results as ``search``, audited by one AuditEvent that
        names every type and query and every patient whose data came back (a summary of a record reads
        several types at once: one event instead of one per type). Any refused search refuses the whole batch."""
        if not searches:
            return []
        texts = [_query_text(resource_type, query) for resource_type, query in searches]
        record = AuditRecord("search-type", entities=list(dict.fromkeys(t for t, _ in searches)), query=texts[0],
                             more_queries=texts[1:])

        def action() -> list[SearchResult]:
            present = self._compartment_types([t for t, _ in searches])
            return [self._search(record, t, q, False, known_empty=present is not None and t not in present)
                    for t, q in searches]

        return self._audited(record, action)

    def count_by_patient(self, searches: list[tuple[str, list[tuple[str, str]]]]) -> list[dict[str, int]]:
        """For each search, how many matches each patient has: {patient id: count} (patients with none left out).
        The same checks and visibility as ``search`` and one AuditEvent for the batch, naming every patient
        counted; a dashboard ranks a thousand patients by what waits for them in one query per search."""
        if not searches:
            return []
        texts = [_query_text(resource_type, query) for resource_type, query in searches]
        record = AuditRecord("search-type", entities=list(dict.fromkeys(t for t, _ in searches)), query=texts[0],
                             more_queries=texts[1:], description="counts per patient")

        def action() -> list[dict[str, int]]:
            counts = []
            for resource_type, query in searches:
                check_type(resource_type)
                request = parse_search(resource_type, query, strict=False)
                queryset = self.visible(resource_type).filter(deleted=False, patient_id__isnull=False)
                for criterion in request.criteria:
                    queryset = queryset.filter(criterion_filter(criterion, visible=self._chain_visible))
                found = dict(queryset.order_by().values_list("patient_id").annotate(n=Count("pk")))
                record.patients.update(found)
                counts.append(found)
            return counts

        return self._audited(record, action)

    def _compartment_types(self, types: list[str]) -> set[str] | None:
        """For a requester bound to some patients' records (the agent, a patient): which of these types hold any
        row it may see, in one query; a search of a type with none can only come back empty. Types outside the
        patient compartment count as present. None for other requesters, whose reach is too wide to gain."""
        if self.requester.patient_ids is None:
            return None
        specific = [t for t in types if is_patient_specific(t) and self.requester.may_read_type(t)]
        rows = self._within_reach(StoredResource.objects.filter(resource_type__in=specific, deleted=False), True)
        present = set(rows.values_list("resource_type", flat=True).distinct()) if specific else set()
        return present | {t for t in types if t not in specific}

    def _search(self, record: AuditRecord, resource_type: str, query: list[tuple[str, str]],
                strict: bool, known_empty: bool = False) -> SearchResult:
        check_type(resource_type)
        request = parse_search(resource_type, query, strict=strict)
        queryset = self.visible(resource_type).filter(deleted=False)
        if known_empty:  # the same answer as running it, after the same checks
            return SearchResult(request, [], total=0 if request.total != "none" or request.summary == "count"
                                else None)
        for criterion in request.criteria:
            queryset = queryset.filter(criterion_filter(criterion, visible=self._chain_visible))
        total = queryset.count() if request.total != "none" or request.summary == "count" else None
        if request.summary == "count":
            return SearchResult(request, [], total=total)
        queryset = apply_sort(queryset, resource_type, request.sort or [("_lastUpdated", True)])
        # Page by key first, then read the page's content: sorting whole rows would drag every matching resource's
        # JSON through the sorter (a patient with 10,000 observations: seconds instead of milliseconds).
        page = list(queryset.values_list("pk", flat=True)[request.offset:request.offset + request.count])
        by_pk = StoredResource.objects.in_bulk(page)
        rows = [by_pk[pk] for pk in page]
        for row in rows:
            if row.patient_id:
                record.patients.add(row.patient_id)
        included = included_by(request, rows, self._chain_visible)
        for row in included:
            if row.patient_id:
                record.patients.add(row.patient_id)
        return SearchResult(request, [r.content for r in rows], [r.content for r in included], total)

    def everything(self, patient_id: str, *, count: int = 100, offset: int = 0, types: list[str] | None = None,
                   since: Any = None) -> SearchResult:
        """Patient/$everything: the patient and every resource in their compartment that the requester may see."""
        record = AuditRecord("operation", entities=[f"Patient/{patient_id}"], patients={patient_id},
                             query=f"Patient/{patient_id}/$everything")

        def action() -> SearchResult:
            self._visible_row("Patient", patient_id)
            wanted = [t for t in (types or sorted(RESOURCE_TYPES)) if t != "AuditEvent"
                      and self.requester.may_read_type(t)]
            query = Q()
            for resource_type in wanted:
                type_rows = self.visible(resource_type).filter(deleted=False)
                type_filter = Q(fhir_id=patient_id) if resource_type == "Patient" else Q(patient_id=patient_id)
                query |= Q(pk__in=type_rows.filter(type_filter).values("pk"))
            queryset = StoredResource.objects.filter(query) if wanted else StoredResource.objects.none()
            if since is not None:
                queryset = queryset.filter(last_updated__gte=since)
            queryset = queryset.order_by("resource_type", "pk")
            rows = list(queryset[offset:offset + count])
            request = SearchRequest("Patient", count=count, offset=offset)
            return SearchResult(request, [r.content for r in rows], total=queryset.count())

        return self._audited(record, action)

    # ---- write --------------------------------------------------------------------------------------------

    def create(self, data: Any, *, if_none_exist: str | None = None, resource_type: str | None = None,
               assigned_id: str | None = None, check_references: bool = True) -> WriteResult:
        """Create (the server assigns the id; a transaction bundle passes the one it already handed out).

        check_references=False leaves the dangling-reference check to the caller (a transaction checks
        once after all its entries are written, so entries may point at each other).
        """
        record = AuditRecord("create")

        def action() -> WriteResult:
            resource = validate_resource(data, resource_type)
            self._require_write(resource["resourceType"])
            resource = run_before_write(resource, self.requester)
            if if_none_exist is not None:
                existing = self._conditional_match(resource["resourceType"], if_none_exist)
                if existing is not None:
                    self._touch(record, existing)
                    return WriteResult(existing.content, created=False, changed=False)
            resource["id"] = assigned_id or new_id()  # a client-sent id is ignored on create
            with transaction.atomic():
                stored = self._write_new(resource)
                if check_references:
                    self.check_references([stored.content])
                self._touch(record, stored)
                write_audit_event(self.requester, record, self.channel)
                run_after_create(stored.content, self.requester)
            return WriteResult(stored.content, created=True)

        return self._write_audited(record, action)

    def create_many(self, resources: list[tuple[Any, str]]) -> list[WriteResult]:
        """Create several resources as one interaction, in one transaction: each is validated, checked and
        written as ``create`` does, with the id its caller assigned (new_id), so they may point at each other
        as a transaction bundle's entries do; references are checked once all are written, and one AuditEvent
        names every version written (a fact and its Provenance: one event, not two)."""
        record = AuditRecord("create")

        def action() -> list[WriteResult]:
            prepared = []
            for data, assigned_id in resources:
                resource = validate_resource(data)
                self._require_write(resource["resourceType"])
                resource = run_before_write(resource, self.requester)
                prepared.append(resource | {"id": check_id(assigned_id)})
            with transaction.atomic():
                stored = [self._write_new(resource) for resource in prepared]
                self.check_references([row.content for row in stored])
                for row in stored:
                    self._touch(record, row)
                write_audit_event(self.requester, record, self.channel)
                for row in stored:
                    run_after_create(row.content, self.requester)
            return [WriteResult(row.content, created=True) for row in stored]

        return self._write_audited(record, action)

    def put_many(self, resources: list[dict]) -> list[WriteResult]:
        """Store many resources under their own ids (update-as-create) in one transaction: what an import does.

        Each is validated and checked as ``update`` does; new ones are inserted set-wise, changed ones get a new
        version, unchanged ones none. References are checked once all are written, so entries may point at each
        other in any order. The interaction is audited in AuditEvents of at most AUDIT_ENTITIES versions each
        (one event per resource made a 3,000-resource Synthea bundle write 3,000 more)."""
        records: list[AuditRecord] = []

        def action() -> list[WriteResult]:
            prepared = []
            for data in resources:
                resource = validate_resource(data)
                check_id(str(resource.get("id", "")))
                self._require_write(resource["resourceType"])
                prepared.append(run_before_write(resource, self.requester))
            keys = [(r["resourceType"], r["id"]) for r in prepared]
            if len(set(keys)) < len(keys):
                twice = sorted({f"{t}/{i}" for t, i in keys if keys.count((t, i)) > 1})
                raise FhirError("invalid", f"the same resource appears more than once: {', '.join(twice[:10])}")
            with transaction.atomic():
                previous: dict[tuple[str, str], StoredResource] = {}
                for resource_type in {r["resourceType"] for r in prepared}:
                    ids = [r["id"] for r in prepared if r["resourceType"] == resource_type]
                    for row in StoredResource.objects.select_for_update().filter(resource_type=resource_type,
                                                                                fhir_id__in=ids):
                        previous[(resource_type, row.fhir_id)] = row
                results: dict[int, WriteResult] = {}
                touched: list[StoredResource] = []
                new: list[tuple[int, dict]] = []
                for i, resource in enumerate(prepared):
                    before = previous.get((resource["resourceType"], resource["id"]))
                    if before is None:
                        new.append((i, resource))
                        continue
                    if not self.requester.may_touch_patient(before.resource_type, before.patient_id):
                        raise not_found(before.resource_type, before.fhir_id)
                    if not before.deleted and _same_content(before.content, resource):
                        results[i] = WriteResult(before.content, created=False, changed=False)
                        touched.append(before)
                        continue
                    stored = write_version(resource, previous=before, method=ResourceVersion.Method.UPDATE)
                    self._check_compartment(stored)
                    results[i] = WriteResult(stored.content, created=False)
                    touched.append(stored)
                created = write_new_resources([resource for _, resource in new])
                for (i, _), stored in zip(new, created, strict=True):
                    self._check_compartment(stored)
                    results[i] = WriteResult(stored.content, created=True)
                    touched.append(stored)
                self.check_references([results[i].resource for i in range(len(prepared)) if results[i].changed])
                for start in range(0, len(touched), AUDIT_ENTITIES):
                    records.append(AuditRecord("update"))
                    for row in touched[start:start + AUDIT_ENTITIES]:
                        self._touch(records[-1], row)
                    write_audit_event(self.requester, records[-1], self.channel)
                for stored in created:
                    run_after_create(stored.content, self.requester)
            return [results[i] for i in range(len(prepared))]

        try:
            return action()
        except FhirError as error:  # refused or invalid: rolled back, audited once on its own
            record = AuditRecord("update", outcome="minor" if error.status < 500 else "serious",
                                 description=error.diagnostics,
                                 entities=[f"{r.get('resourceType')}/{r.get('id')}" for r in resources
                                           if isinstance(r, dict)][:AUDIT_ENTITIES])
            write_audit_event(self.requester, record, self.channel)
            raise

    def _write_new(self, resource: dict) -> StoredResource:
        """Version 1 of a validated resource with its id set, refused outside the requester's compartments."""
        stored = write_version(resource, previous=None, method=ResourceVersion.Method.CREATE)
        self._check_compartment(stored)
        return stored

    def update(self, resource_type: str, fhir_id: str, data: Any, *, if_match: str | None = None,
               check_references: bool = True) -> WriteResult:
        record = AuditRecord("update", entities=[f"{resource_type}/{fhir_id}"])

        def action() -> WriteResult:
            check_type(resource_type)
            check_id(fhir_id)
            resource = validate_resource(data, resource_type)
            if resource.get("id") != fhir_id:
                raise FhirError("invalid", f"the resource's id ({resource.get('id')!r}) must equal the URL's "
                                           f"({fhir_id!r})")
            self._require_write(resource_type)
            resource = run_before_write(resource, self.requester)
            with transaction.atomic():
                previous = (StoredResource.objects.select_for_update()
                            .filter(resource_type=resource_type, fhir_id=fhir_id).first())
                if previous is not None and not self.requester.may_touch_patient(resource_type, previous.patient_id):
                    raise not_found(resource_type, fhir_id)
                if if_match is not None:
                    expected = parse_etag(if_match)
                    if previous is None or previous.version_id != expected:
                        current = previous.version_id if previous else "none"
                        raise FhirError("conflict", f"{resource_type}/{fhir_id} is at version {current}, "
                                                    f"not {expected}", status=412)
                if previous is not None and not previous.deleted and _same_content(previous.content, resource):
                    self._touch(record, previous)  # nothing changed: no new version (as HAPI does)
                    write_audit_event(self.requester, record, self.channel)
                    return WriteResult(previous.content, created=False, changed=False)
                method = ResourceVersion.Method.UPDATE if previous else ResourceVersion.Method.CREATE
                stored = write_version(resource, previous=previous, method=method)
                self._check_compartment(stored)
                if check_references:
                    self.check_references([stored.content])
                self._touch(record, stored)
                write_audit_event(self.requester, record, self.channel)
            return WriteResult(stored.content, created=previous is None)

        return self._write_audited(record, action)

    def delete(self, resource_type: str, fhir_id: str) -> None:
        record = AuditRecord("delete", entities=[f"{resource_type}/{fhir_id}"])

        def action() -> None:
            check_type(resource_type)
            check_id(fhir_id)
            self._require_write(resource_type)
            with transaction.atomic():
                previous = (self.visible(resource_type).select_for_update().filter(fhir_id=fhir_id).first())
                if previous is None:
                    raise not_found(resource_type, fhir_id)
                if previous.deleted:
                    self._touch(record, previous)
                    write_audit_event(self.requester, record, self.channel)
                    return  # deleting twice is not an error (the spec allows 200/204)
                # The audit trail may point at anything, deleted or not; other resources keep integrity.
                referrers = (SearchIndex.objects.filter(ref_type=resource_type, ref_id=fhir_id, resource__deleted=False)
                             .exclude(resource=previous).exclude(resource__resource_type__in=APPEND_ONLY))
                if referrers.exists():
                    first = referrers.select_related("resource").first().resource
                    raise FhirError("conflict", f"{resource_type}/{fhir_id} is referenced by "
                                                f"{first.resource_type}/{first.fhir_id}: delete that first")
                stored = write_deletion(previous)
                self._touch(record, stored)
                write_audit_event(self.requester, record, self.channel)

        self._write_audited(record, action)

    def set_confirmation(self, resource_type: str, fhir_id: str, level: str) -> dict:
        """Move a recorded fact along unconfirmed -> patient-confirmed -> clinician-verified (or rejected).

        The patient may confirm what they reported (they write nothing else); a clinician on the care
        team verifies or rejects. Each step is a new version plus a Provenance naming who confirmed.
        """
        record = AuditRecord("update", entities=[f"{resource_type}/{fhir_id}"],
                             description=f"confirmation -> {level}")

        def action() -> dict:
            with transaction.atomic():
                row = self._visible_row(resource_type, fhir_id)
                row = StoredResource.objects.select_for_update().get(pk=row.pk)
                current = confirmation_of(row.content or {})
                if row.deleted or current is None:
                    raise FhirError("processing", f"{resource_type}/{fhir_id} is not a recorded fact awaiting "
                                                  "confirmation", status=422)
                allowed = {"patient": {(UNCONFIRMED, PATIENT_CONFIRMED)},
                           "clinician": {(c, lvl) for c in CONFIRMATION_LEVELS for lvl in
                                         (CLINICIAN_VERIFIED, REJECTED)}}.get(self.requester.kind, set())
                if (current, level) not in allowed:
                    if self.requester.kind not in ("patient", "clinician"):
                        raise forbidden("confirming facts (patients and their clinicians only)")
                    raise FhirError("processing", f"cannot go from {current} to {level} as a "
                                                  f"{self.requester.kind}", status=409)
                stored = write_version(confirmed(row.content, level), previous=row,
                                       method=ResourceVersion.Method.UPDATE)
                write_version(confirmation_provenance(stored.content, self.requester, level), previous=None,
                              method=ResourceVersion.Method.CREATE)
                self._touch(record, stored)
                write_audit_event(self.requester, record, self.channel)
                return stored.content

        return self._write_audited(record, action)

    def _write_audited(self, record: AuditRecord, action: Callable[[], Any]) -> Any:
        """Writes audit inside their own transaction; a refused write is audited on its own afterwards."""
        try:
            return action()
        except FhirError as error:
            record.outcome = "minor" if error.status < 500 else "serious"
            record.description = error.diagnostics
            write_audit_event(self.requester, record, self.channel)
            raise

    def _conditional_match(self, resource_type: str, query_text: str) -> StoredResource | None:
        from urllib.parse import parse_qsl

        query = parse_qsl(query_text.split("?", 1)[-1], keep_blank_values=True)
        if not query:
            raise FhirError("invalid", "If-None-Exist needs search parameters, e.g. identifier=system|value")
        request = parse_search(resource_type, query, strict=True)
        queryset = StoredResource.objects.filter(resource_type=resource_type, deleted=False)
        for criterion in request.criteria:
            queryset = queryset.filter(criterion_filter(criterion))
        matches = list(queryset[:2])
        if len(matches) > 1:
            raise FhirError("conflict", f"If-None-Exist {query_text!r} matches more than one resource", status=412)
        if matches and not self.requester.may_touch_patient(resource_type, matches[0].patient_id):
            raise forbidden("the matching resource belongs to a record you cannot see")
        return matches[0] if matches else None

    def conditional_match(self, resource_type: str, query_text: str) -> dict | None:
        """The one resource a conditional create would find (None if none; 412 if several)."""
        row = self._conditional_match(resource_type, query_text)
        return row.content if row is not None else None

    @staticmethod
    def check_references(resources: list[dict]) -> None:
        bad = dangling_references(resources)
        if bad:
            raise FhirError("processing", f"references to resources that do not exist here: {', '.join(bad[:10])}",
                            status=422)


PARTICIPANT_TYPE = "http://terminology.hl7.org/CodeSystem/provenance-participant-type"
_VERIFICATION = {
    "Condition": ("verificationStatus", "http://terminology.hl7.org/CodeSystem/condition-ver-status"),
    "AllergyIntolerance": ("verificationStatus",
                           "http://terminology.hl7.org/CodeSystem/allergyintolerance-verification"),
}


def confirmed(resource: dict, level: str) -> dict:
    """The resource at a new confirmation level, with the FHIR status elements that level implies."""
    out = with_confirmation(resource, level)
    if resource["resourceType"] in _VERIFICATION and level in (CLINICIAN_VERIFIED, REJECTED):
        element, system = _VERIFICATION[resource["resourceType"]]
        out[element] = {"coding": [{"system": system, "code": "confirmed" if level == CLINICIAN_VERIFIED
                                    else "refuted"}]}
    if resource["resourceType"] == "Observation" and level == CLINICIAN_VERIFIED:
        out["status"] = "final"
    return out


def confirmation_provenance(resource: dict, requester: Requester, level: str) -> dict:
    who = {"display": requester.display}
    if requester.kind in ("patient", "clinician"):
        who["reference"] = requester.reference
    version = f"{resource['resourceType']}/{resource['id']}/_history/{resource['meta']['versionId']}"
    return {
        "resourceType": "Provenance", "id": new_id(),
        "target": [{"reference": version}],
        "recorded": instant(now()),
        "activity": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-DataOperation",
                                 "code": "UPDATE"}], "text": f"confirmation: {level}"},
        "agent": [{"type": {"coding": [{"system": PARTICIPANT_TYPE,
                                        "code": "verifier" if requester.kind == "clinician" else "attester"}]},
                   "who": who}],
    }


def _same_content(stored: dict | None, incoming: dict) -> bool:
    def strip(resource: dict | None) -> dict:
        resource = dict(resource or {})
        meta = {k: v for k, v in resource.pop("meta", {}).items() if k not in ("versionId", "lastUpdated")}
        return {**resource, "meta": meta} if meta else resource

    return same(strip(stored), strip(incoming))  # 1.50 -> 1.5 is a change (fhir/jsonnum.py)
