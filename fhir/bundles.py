"""Bundles the server returns: searchset and history pages with their links."""

from __future__ import annotations

from urllib.parse import urlencode

from fhir.models import ResourceVersion
from fhir.persistence import instant, new_id, now
from fhir.search.parse import SearchRequest
from fhir.store import HistoryResult, SearchResult

# Elements kept by _summary=true, beyond id and meta (a pragmatic subset of each type's summary elements).
MANDATORY = ("resourceType", "id", "meta")
SUBSETTED = {"system": "http://terminology.hl7.org/CodeSystem/v3-ObservationValue", "code": "SUBSETTED"}


def _subsetted(resource: dict, keep: set[str]) -> dict:
    out = {k: v for k, v in resource.items() if k in keep or k in MANDATORY}
    meta = dict(out.get("meta", {}))
    meta["tag"] = [*meta.get("tag", []), SUBSETTED]
    out["meta"] = meta
    return out


def shape(resource: dict, request: SearchRequest) -> dict:
    """Apply _elements and _summary=text|data to one resource."""
    if request.elements:
        return _subsetted(resource, set(request.elements))
    if request.summary == "data":
        return _subsetted(resource, set(resource) - {"text"})
    if request.summary == "text":
        return _subsetted(resource, {"text"})
    return resource


def _page_link(base: str, path: str, query: list[tuple[str, str]], offset: int, count: int) -> str:
    kept = [(k, v) for k, v in query if k not in ("_offset", "_count")]
    return f"{base}{path}?" + urlencode([*kept, ("_count", str(count)), ("_offset", str(offset))])


def page_links(base: str, path: str, query: list[tuple[str, str]], offset: int, count: int,
               returned: int, total: int | None) -> list[dict]:
    links = [{"relation": "self", "url": _page_link(base, path, query, offset, count)}]
    has_more = (offset + returned < total) if total is not None else returned == count and count > 0
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
    entries += [{"fullUrl": full_url(base, r), "resource": shape(r, request), "search": {"mode": "include"}}
                for r in result.included]
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
