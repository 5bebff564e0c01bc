"""transaction and batch Bundles (POST to the base URL).

transaction: all entries succeed or nothing is written; entries are processed DELETE, POST, PUT,
GET as the spec orders them; ``urn:uuid`` fullUrls of created entries are resolved into the ids the
server assigns, and references between entries are checked once all are written.
batch: each entry on its own; failures are reported per entry.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

from django.conf import settings
from django.db import transaction as db_transaction

from fhir.audit import AuditRecord, write_audit_event
from fhir.errors import FhirError
from fhir.persistence import instant, new_id, now
from fhir.store import Repository, SearchResult
from fhir.validation import check_type

ORDER = {"DELETE": 0, "POST": 1, "PUT": 2, "GET": 3, "HEAD": 3}
STATUS_TEXT = {200: "200 OK", 201: "201 Created", 204: "204 No Content"}


def _rewrite(value: Any, ids: dict[str, str]) -> Any:
    """Replace references to bundle fullUrls (urn:uuid:..., or absolute) with the server's Type/id."""
    if isinstance(value, dict):
        out = {k: _rewrite(v, ids) for k, v in value.items()}
        if isinstance(out.get("reference"), str) and out["reference"] in ids:
            out["reference"] = ids[out["reference"]]
        return out
    if isinstance(value, list):
        return [_rewrite(v, ids) for v in value]
    return value


def _parse_url(url: str) -> tuple[str, str | None, str | None]:
    """'Patient' | 'Patient/1' | 'Patient?identifier=x' -> (type, id, query)."""
    path, _, query = url.partition("?")
    parts = path.strip("/").split("/")
    check_type(parts[0])
    if len(parts) > 2:
        raise FhirError("not-supported", f"entry url {url!r}: only Type, Type/id and Type?query are supported")
    return parts[0], parts[1] if len(parts) == 2 else None, query or None


def _check_bundle(bundle: Any) -> tuple[str, list[dict]]:
    if not isinstance(bundle, dict) or bundle.get("resourceType") != "Bundle":
        raise FhirError("invalid", "POST to the base URL takes a Bundle of type transaction or batch")
    kind = bundle.get("type")
    if kind not in ("transaction", "batch"):
        raise FhirError("invalid", f"Bundle.type must be transaction or batch, not {kind!r}")
    entries = bundle.get("entry", [])
    if not isinstance(entries, list):
        raise FhirError("structure", "Bundle.entry must be a list")
    if len(entries) > settings.FHIR_MAX_BUNDLE_ENTRIES:
        raise FhirError("too-costly", f"at most {settings.FHIR_MAX_BUNDLE_ENTRIES} entries per Bundle "
                                      f"(this one has {len(entries)})", status=413)
    for i, entry in enumerate(entries):
        request = entry.get("request") if isinstance(entry, dict) else None
        if not isinstance(request, dict) or request.get("method") not in ORDER or not request.get("url"):
            raise FhirError("invalid", f"entry {i}: request.method (GET, POST, PUT, DELETE) and request.url needed")
    return kind, entries


def _response(status: int, resource: dict | None = None, *, location: bool = False) -> dict:
    response: dict = {"status": STATUS_TEXT[status]}
    if resource is not None and "meta" in resource and resource.get("resourceType") != "Bundle":
        response["etag"] = f'W/"{resource["meta"]["versionId"]}"'
        response["lastModified"] = resource["meta"]["lastUpdated"]
        if location:
            version = resource["meta"]["versionId"]
            response["location"] = f"{resource['resourceType']}/{resource['id']}/_history/{version}"
    entry: dict = {"response": response}
    if resource is not None:
        entry["resource"] = resource
    return entry


def _search_bundle(result: SearchResult) -> dict:
    entries = [{"resource": r, "search": {"mode": "match"}} for r in result.matches]
    bundle = {"resourceType": "Bundle", "id": new_id(), "type": "searchset", "total": result.total}
    return bundle | ({"entry": entries} if entries else {})


def _execute(repo: Repository, entry: dict, *, assigned_id: str | None, check_references: bool) -> dict:
    request = entry["request"]
    method = request["method"]
    resource_type, fhir_id, query = _parse_url(request["url"])
    if method == "POST":
        result = repo.create(entry.get("resource"), resource_type=resource_type,
                             if_none_exist=request.get("ifNoneExist"), assigned_id=assigned_id,
                             check_references=check_references)
        return _response(201 if result.created else 200, result.resource, location=True)
    if method == "PUT":
        if fhir_id is None:
            raise FhirError("not-supported", "conditional update (PUT Type?query) is not supported: name the id")
        result = repo.update(resource_type, fhir_id, entry.get("resource"), if_match=request.get("ifMatch"),
                             check_references=check_references)
        return _response(201 if result.created else 200, result.resource, location=True)
    if method == "DELETE":
        if fhir_id is None:
            raise FhirError("not-supported", "conditional delete (DELETE Type?query) is not supported: name the id")
        repo.delete(resource_type, fhir_id)
        return _response(204)
    if fhir_id is not None:
        return _response(200, repo.read(resource_type, fhir_id))
    return _response(200, _search_bundle(repo.search(resource_type, parse_qsl(query or "", keep_blank_values=True))))


def _outcome_entry(error: FhirError) -> dict:
    return {"response": {"status": f"{error.status}", "outcome": error.outcome()}}


def run_transaction(repo: Repository, entries: list[dict]) -> list[dict]:
    # Ids for every created entry first, so references between entries can be rewritten before any write.
    ids: dict[str, str] = {}
    assigned: dict[int, str] = {}
    for i, entry in enumerate(entries):
        if entry["request"]["method"] != "POST":
            continue
        resource_type, _, _ = _parse_url(entry["request"]["url"])
        if_none_exist = entry["request"].get("ifNoneExist")
        existing = repo.conditional_match(resource_type, if_none_exist) if if_none_exist else None
        assigned[i] = existing["id"] if existing else new_id()
        if entry.get("fullUrl"):
            ids[entry["fullUrl"]] = f"{resource_type}/{assigned[i]}"
    entries = [_rewrite(entry, ids) for entry in entries]
    responses: list[dict | None] = [None] * len(entries)
    written: list[dict] = []
    for i in sorted(range(len(entries)), key=lambda i: ORDER[entries[i]["request"]["method"]]):
        try:
            responses[i] = _execute(repo, entries[i], assigned_id=assigned.get(i), check_references=False)
        except FhirError as error:
            raise FhirError(error.code, f"entry {i} ({entries[i]['request']['method']} "
                                        f"{entries[i]['request']['url']}): {error.diagnostics}",
                            status=error.status) from None
        if entries[i]["request"]["method"] in ("POST", "PUT") and "resource" in responses[i]:
            written.append(responses[i]["resource"])
    repo.check_references(written)
    return [r for r in responses if r is not None]


def process_bundle(repo: Repository, bundle: Any) -> dict:
    kind, entries = _check_bundle(bundle)
    if kind == "transaction":
        try:
            with db_transaction.atomic():
                responses = run_transaction(repo, entries)
        except FhirError as error:
            # Everything, the entries' own audit events included, was rolled back: record the failure itself.
            write_audit_event(repo.requester, AuditRecord("transaction", outcome="minor",
                                                          description=error.diagnostics), repo.channel)
            raise
    else:
        responses = []
        for entry in entries:
            try:
                with db_transaction.atomic():
                    responses.append(_execute(repo, entry, assigned_id=None, check_references=True))
            except FhirError as error:
                responses.append(_outcome_entry(error))
    return {"resourceType": "Bundle", "id": new_id(), "meta": {"lastUpdated": instant(now())},
            "type": f"{kind}-response", "entry": responses}


