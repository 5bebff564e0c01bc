"""Bundles the server returns: searchset and history pages with their links."""

from __future__ import annotations

from functools import cache
from urllib.parse import urlencode

from fhir.models import ResourceVersion
from fhir.persistence import instant, new_id, now
from fhir.resources.R4B import get_fhir_model_class
from fhir.search.parse import SearchRequest
from fhir.store import HistoryResult, SearchResult

# Kept whatever _elements or _summary ask for.
MANDATORY = ("resourceType", "id", "meta")
SUBSETTED = {"system": "http://terminology.hl7.org/CodeSystem/v3-ObservationValue", "code": "SUBSETTED"}


@cache
def _elements_of(resource_type: str) -> dict[str, tuple[str, bool, bool]]:
    """Each top-level JSON name of a type -> (element name, in the summary, mandatory).

    The element name of a choice is its base: valueQuantity -> value (what _elements=value asks for).
    """
    elements = {}
    for field in get_fhir_model_class(resource_type).model_fields.values():
        extra = field.json_schema_extra if isinstance(field.json_schema_extra, dict) else {}
        if extra.get("element_property"):
            required = field.is_required() or extra.get("element_required") or extra.get("one_of_many_required")
            elements[field.alias] = (extra.get("one_of_many") or field.alias,
                                     bool(extra.get("summary_element_property")), bool(required))
    return elements


def _element(resource_type: str, key: str) -> tuple[str, bool, bool]:
    name = key.removeprefix("_")  # _birthDate carries birthDate's extensions: it goes where birthDate goes
    return _elements_of(resource_type).get(name, (name, False, False))


def _subsetted(resource: dict, keep: set[str]) -> dict:
    out = {k: v for k, v in resource.items()
           if k in MANDATORY or _element(resource["resourceType"], k)[0] in keep}
    meta = dict(out.get("meta", {}))
    meta["tag"] = [*meta.get("tag", []), SUBSETTED]
    out["meta"] = meta
    return out


def shape(resource: dict, request: SearchRequest) -> dict:
    """Apply _elements and _summary=true|text|data to one resource."""
    resource_type = resource["resourceType"]
    if request.elements:  # 'status' or 'Observation.status'
        return _subsetted(resource, {e.removeprefix(f"{resource_type}.") for e in request.elements})
    if request.summary == "true":
        return _subsetted(resource, {e for e, summary, _ in _elements_of(resource_type).values() if summary})
    if request.summary == "data":
        return _subsetted(resource, {_element(resource_type, k)[0] for k in resource} - {"text"})
    if request.summary == "text":
        return _subsetted(resource, {"text"} | {e for e, _, required in _elements_of(resource_type).values()
                                                if required})
    return resource


def _page_link(base: str, path: str, query: list[tuple[str, str]], offset: int, count: int) -> str:
    kept = [(k, v) for k, v in query if k not in ("_offset", "_count")]
    return f"{base}{path}?" + urlencode([*kept, ("_count", str(count)), ("_offset", str(offset))])


def page_links(base: str, path: str, query: list[tuple[str, str]], offset: int, count: int,
               returned: int, total: int | None) -> list[dict]:
    links = [{"relation": "self", "url": _page_link(base, path, query, offset, count)}]
    if count == 0:  # _count=0 asks for no entries: a next page would be this page again, for ever
        return links
    has_more = (offset + returned < total) if total is not None else returned == count
    if has_more:
        links.append({"relation": "next", "url": _page_link(base, path, query, offset + count, count)})
    if offset > 0:
        links.append({"relation": "previous", "url": _page_link(base, path, query, max(0, offset - count), count)})
    return links


def full_url(base: str, resource: dict) -> str:
    return f"{base}{resource['resourceType']}/{resource['id']}"


def searchset(base: str, path: str, query: list[tuple[str, str]], result: SearchResult,
              warnings: list[dict] | None = None) -> dict:
    request = result.request
    bundle: dict = {"resourceType": "Bundle", "id": new_id(), "meta": {"lastUpdated": instant(now())},
                    "type": "searchset"}
    if result.total is not None:
        bundle["total"] = result.total
    if request.summary != "count":
        bundle["link"] = page_links(base, path, query, request.offset, request.count, len(result.matches),
                                    result.total)
    entries = [{"fullUrl": full_url(base, r), "resource": shape(r, request), "search": {"mode": "match"}}
               for r in result.matches]
    # A resource appears once: as a match if it is one, else as the first of its includes and revincludes.
    seen = {(r["resourceType"], r["id"]) for r in result.matches}
    for resource in result.included:
        if (resource["resourceType"], resource["id"]) not in seen:
            seen.add((resource["resourceType"], resource["id"]))
            entries.append({"fullUrl": full_url(base, resource), "resource": shape(resource, request),
                            "search": {"mode": "include"}})
    if warnings:
        entries.append({"resource": {"resourceType": "OperationOutcome", "id": new_id(), "issue": warnings},
                        "search": {"mode": "outcome"}})
    if entries:
        bundle["entry"] = entries
    return bundle


def history(base: str, path: str, query: list[tuple[str, str]], result: HistoryResult, count: int,
            offset: int) -> dict:
    entries = []
    for version in result.versions:
        resource = version.resource
        url = f"{base}{resource.resource_type}/{resource.fhir_id}"
        entry: dict = {"fullUrl": url, "request": {"method": version.method, "url": (
            f"{resource.resource_type}/{resource.fhir_id}" if version.method != ResourceVersion.Method.CREATE
            else resource.resource_type)},
            "response": {"status": {"POST": "201 Created", "PUT": "200 OK", "DELETE": "204 No Content"}[
                version.method], "etag": f'W/"{version.version_id}"',
                "lastModified": instant(version.last_updated)}}
        if version.content is not None:
            entry["resource"] = version.content
        entries.append(entry)
    bundle: dict = {"resourceType": "Bundle", "id": new_id(), "meta": {"lastUpdated": instant(now())},
                    "type": "history", "total": result.total,
                    "link": page_links(base, path, query, offset, count, len(result.versions), result.total)}
    if entries:
        bundle["entry"] = entries
    return bundle
