"""transaction and batch Bundles (POST to the base URL).

transaction: all entries succeed or nothing is written; entries are processed DELETE, POST, PUT,
GET as the spec orders them; ``urn:uuid`` fullUrls of created entries are resolved into the ids the
server assigns, and references between entries are checked once all are written. A failure names
the entry (its index in the Bundle) and is audited once the rollback is done.
batch: each entry on its own; failures are reported per entry (and audited by the Repository).
"""

from __future__ import annotations

from collections.abc import Iterator
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qsl

from django.conf import settings
from django.db import transaction as db_transaction

from fhir.audit import AuditRecord, write_audit_event
from fhir.errors import FhirError
from fhir.persistence import instant, new_id, now
from fhir.references import local_references, rewrite_references
from fhir.store import Repository, SearchResult, dangling_references
from fhir.validation import check_type

ORDER = {"DELETE": 0, "POST": 1, "PUT": 2, "GET": 3, "HEAD": 3}
# Reference forms that only a fullUrl in the same Bundle can resolve.
BUNDLE_LOCAL = ("urn:uuid:", "urn:oid:")


def _status_text(status: int) -> str:
    """'201 Created': the code first, as Bundle.entry.response.status requires, then the reason phrase."""
    try:
        return f"{status} {HTTPStatus(status).phrase}"
    except ValueError:
        return str(status)


def _references(value: Any) -> Iterator[str]:
    """Every Reference.reference string anywhere in a resource."""
    if isinstance(value, dict):
        if isinstance(value.get("reference"), str):
            yield value["reference"]
        for item in value.values():
            yield from _references(item)
    elif isinstance(value, list):
        for item in value:
            yield from _references(item)


def _check_bundle_local(entry: dict) -> None:
    """After rewriting, a urn: reference left over points at no entry of this Bundle: it can never resolve."""
    unresolved = sorted({r for r in _references(entry.get("resource")) if r.startswith(BUNDLE_LOCAL)})
    if unresolved:
        raise FhirError("processing", f"references to no entry of this Bundle: {', '.join(unresolved[:10])}",
                        status=422)


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
        if (not isinstance(request, dict) or not isinstance(request.get("method"), str)
                or request["method"] not in ORDER or not isinstance(request.get("url"), str) or not request["url"]):
            raise FhirError("invalid", f"entry {i}: request.method (GET, POST, PUT, DELETE) and request.url needed")
        for name in ("ifNoneExist", "ifMatch"):
            if name in request and not isinstance(request[name], str):
                raise FhirError("invalid", f"entry {i}: request.{name} must be a string")
        if "fullUrl" in entry and not isinstance(entry["fullUrl"], str):
            raise FhirError("invalid", f"entry {i}: fullUrl must be a string")
    return kind, entries


def _response(status: int, resource: dict | None = None, *, location: bool = False) -> dict:
    response: dict = {"status": _status_text(status)}
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
    return {"response": {"status": _status_text(error.status), "outcome": error.outcome()}}


def _named(i: int, entry: dict, error: FhirError) -> FhirError:
    """The same failure, saying which entry of the Bundle caused it (in every issue, details kept)."""
    prefix = f"entry {i} ({entry['request']['method']} {entry['request']['url']})"
    issues = [{**issue, "diagnostics": f"{prefix}: {issue.get('diagnostics', error.diagnostics)}"}
              for issue in error.issues] if error.issues else None
    return FhirError(error.code, f"{prefix}: {error.diagnostics}", status=error.status, issues=issues)


def _identity(entry: dict, assigned_id: str | None) -> str | None:
    """The resource an entry writes or deletes ('Type/id'), if it writes."""
    method = entry["request"]["method"]
    resource_type, fhir_id, _ = _parse_url(entry["request"]["url"])
    if method == "POST":
        return f"{resource_type}/{assigned_id}"
    if method in ("PUT", "DELETE") and fhir_id is not None:
        return f"{resource_type}/{fhir_id}"
    return None


def _plan(repo: Repository, entries: list[dict]) -> tuple[dict[int, str], dict[str, str]]:
    """An id for every created entry (an existing match for a conditional one), and fullUrl -> 'Type/id'.

    Done before any write, so references between entries, forward ones included, can be rewritten first.
    """
    ids: dict[str, str] = {}
    assigned: dict[int, str] = {}
    touched: dict[str, int] = {}
    full_urls: dict[str, int] = {}
    for i, entry in enumerate(entries):
        try:
            full_url = entry.get("fullUrl")
            if full_url and full_url in full_urls:
                raise FhirError("invalid", f"fullUrl {full_url!r} is already that of entry {full_urls[full_url]}")
            if full_url:
                full_urls[full_url] = i
            resource_type, fhir_id, _ = _parse_url(entry["request"]["url"])
            if entry["request"]["method"] == "POST":
                if_none_exist = entry["request"].get("ifNoneExist")
                existing = repo.conditional_match(resource_type, if_none_exist) if if_none_exist else None
                assigned[i] = existing["id"] if existing else new_id()
                if full_url:
                    ids[full_url] = f"{resource_type}/{assigned[i]}"
            elif entry["request"]["method"] == "PUT" and full_url and fhir_id is not None:
                ids[full_url] = f"{resource_type}/{fhir_id}"  # a urn:uuid fullUrl on an update names it too
            # The spec: resource identities written in steps DELETE, POST, PUT may not overlap.
            identity = _identity(entry, assigned.get(i))
            if identity is not None and identity in touched:
                raise FhirError("invalid", f"{identity} is also written by entry {touched[identity]}: "
                                           f"one entry per resource in a transaction")
            if identity is not None:
                touched[identity] = i
        except FhirError as error:
            raise _named(i, entry, error) from None
    return assigned, ids


def run_transaction(repo: Repository, entries: list[dict]) -> list[dict]:
    assigned, ids = _plan(repo, entries)
    entries = [rewrite_references(entry, ids.get) for entry in entries]
    responses: list[dict | None] = [None] * len(entries)
    written: dict[int, dict] = {}
    for i in sorted(range(len(entries)), key=lambda i: ORDER[entries[i]["request"]["method"]]):
        try:
            _check_bundle_local(entries[i])
            responses[i] = _execute(repo, entries[i], assigned_id=assigned.get(i), check_references=False)
        except FhirError as error:
            raise _named(i, entries[i], error) from None
        if entries[i]["request"]["method"] in ("POST", "PUT") and "resource" in responses[i]:
            written[i] = responses[i]["resource"]
    # References are checked once everything is written: entries may point at each other in any order.
    bad = set(dangling_references(list(written.values())))
    if bad:
        for i, resource in sorted(written.items()):
            mine = sorted({r for r in local_references(resource) if r in bad or "/".join(r.split("/")[:2]) in bad})
            if mine:
                raise _named(i, entries[i], FhirError(
                    "processing", f"references to resources that do not exist here: {', '.join(mine[:10])}",
                    status=422))
        repo.check_references(list(written.values()))  # not traced to an entry: still refused
    return [r for r in responses if r is not None]


def _run_batch(repo: Repository, entries: list[dict]) -> list[dict]:
    responses = []
    for entry in entries:
        # No transaction around the entry: the Repository's write is atomic on its own, and its audit of a
        # refusal is written after that rolls back; wrapping it here would roll the refusal's audit back too.
        try:
            _check_bundle_local(entry)
            responses.append(_execute(repo, entry, assigned_id=None, check_references=True))
        except FhirError as error:
            responses.append(_outcome_entry(error))
    return responses


def _with_full_urls(entry: dict, base: str) -> dict:
    """Give an answered resource its fullUrl (absolute, as R4 wants): the server's URL for a stored one, its
    urn:uuid for a search Bundle, which is never stored; the entries of that Bundle get theirs too."""
    resource = entry.get("resource")
    if not base or not isinstance(resource, dict) or "id" not in resource:
        return entry
    if resource["resourceType"] == "Bundle":
        if "entry" in resource:
            resource = resource | {"entry": [_with_full_urls(e, base) for e in resource["entry"]]}
        return {"fullUrl": f"urn:uuid:{resource['id']}", **entry, "resource": resource}
    return {"fullUrl": f"{base}{resource['resourceType']}/{resource['id']}", **entry}


def process_bundle(repo: Repository, bundle: Any, base: str = "") -> dict:
    """Run a transaction or batch; ``base`` (the server's base URL, '.../fhir/') makes the answer's fullUrls."""
    kind, entries = _check_bundle(bundle)
    if kind == "transaction":
        try:
            with db_transaction.atomic():
                responses = run_transaction(repo, entries)
        except FhirError as error:
            # Everything, the entries' own audit events included, was rolled back: record the failure itself.
            outcome = "minor" if error.status < 500 else "serious"
            write_audit_event(repo.requester, AuditRecord("transaction", outcome=outcome,
                                                          description=error.diagnostics), repo.channel)
            raise
    else:
        responses = _run_batch(repo, entries)
    return {"resourceType": "Bundle", "id": new_id(), "meta": {"lastUpdated": instant(now())},
            "type": f"{kind}-response", "entry": [_with_full_urls(r, base) for r in responses]}


