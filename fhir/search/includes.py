"""_include and _revinclude: what a search result points at and what points at it; with :iterate, followed from
everything included too, round after round."""

from __future__ import annotations

from collections.abc import Callable

from django.db.models import QuerySet

from fhir.definitions import RESOURCE_TYPES, search_params
from fhir.models import SearchIndex, StoredResource
from fhir.search.parse import SearchRequest

# A round follows every :iterate include from what the previous round added. Reference graphs here are shallow
# (an Organization's partOf hierarchy is the deepest common one); the bounds stop a cycle-free but long chain
# and a search that would drag a whole directory into one page.
MAX_ROUNDS = 10
MAX_ITERATED = 1000


def _reference_codes(source: str, code: str) -> list[str]:
    return [c for c, p in search_params(source).items() if p.type == "reference"] if code == "*" else [code]


def _forward(spec: tuple[str, str, str | None], frontier: list[StoredResource]) -> dict[str, set[str]]:
    """(type -> ids) that the frontier's resources of the spec's source type point at through its parameter."""
    source, code, target_type = spec
    pks = [r.pk for r in frontier if r.resource_type == source]
    if not pks:
        return {}
    index = SearchIndex.objects.filter(resource__in=pks, param__in=_reference_codes(source, code),
                                       ref_type__isnull=False)
    if target_type:
        index = index.filter(ref_type=target_type)
    wanted: dict[str, set[str]] = {}
    for ref_type, ref_id in index.values_list("ref_type", "ref_id").distinct():
        if ref_type in RESOURCE_TYPES:
            wanted.setdefault(ref_type, set()).add(ref_id)
    return wanted


def _backward(spec: tuple[str, str, str | None], frontier: list[StoredResource],
              visible: Callable[[str], QuerySet[StoredResource]]) -> QuerySet[StoredResource] | None:
    """Visible resources of the spec's source type that point at any of the frontier through its parameter."""
    source, code, target_type = spec
    by_type: dict[str, list[str]] = {}
    for row in frontier:
        if target_type is None or row.resource_type == target_type:
            by_type.setdefault(row.resource_type, []).append(row.fhir_id)
    if not by_type:
        return None
    pointing = SearchIndex.objects.none()
    for ref_type, ids in by_type.items():
        pointing |= SearchIndex.objects.filter(param__in=_reference_codes(source, code), ref_type=ref_type,
                                               ref_id__in=ids)
    return visible(source).filter(deleted=False, pk__in=pointing.values("resource"))


def _reached(includes: list[tuple[str, str, str | None]], revincludes: list[tuple[str, str, str | None]],
             frontier: list[StoredResource],
             visible: Callable[[str], QuerySet[StoredResource]]) -> list[QuerySet[StoredResource]]:
    """The visible resources the frontier points at (includes) and that point at it (revincludes)."""
    wanted: dict[str, set[str]] = {}
    for spec in includes:
        for ref_type, ids in _forward(spec, frontier).items():
            wanted.setdefault(ref_type, set()).update(ids)
    reached = [visible(ref_type).filter(fhir_id__in=ids, deleted=False) for ref_type, ids in wanted.items()]
    for spec in revincludes:
        if (pointing := _backward(spec, frontier, visible)) is not None:
            reached.append(pointing)
    return reached


def _unseen(reached: list[QuerySet[StoredResource]], seen: set[tuple[str, str]],
            limit: int | None = None) -> list[StoredResource]:
    new: list[StoredResource] = []
    for rows in reached:
        for row in rows if limit is None else rows.order_by("pk")[:limit]:
            if (row.resource_type, row.fhir_id) not in seen:
                seen.add((row.resource_type, row.fhir_id))
                new.append(row)
    return new if limit is None else new[:limit]


def included(request: SearchRequest, matches: list[StoredResource],
             visible: Callable[[str], QuerySet[StoredResource]]) -> list[StoredResource]:
    """What ``_include`` and ``_revinclude`` add to the matches, then what the :iterate ones reach from everything
    found, round after round until one adds nothing. ``visible(type)`` is what the requester may see of a type
    (nothing of a type they may not read): included resources obey the same access rules as the matches."""
    if not matches:
        return []
    seen = {(r.resource_type, r.fhir_id) for r in matches}
    added = _unseen(_reached(request.includes, request.revincludes, matches, visible), seen)
    frontier, iterated = matches + added, 0
    for _ in range(MAX_ROUNDS):
        if not (request.iterate_includes or request.iterate_revincludes) or iterated >= MAX_ITERATED:
            break
        new = _unseen(_reached(request.iterate_includes, request.iterate_revincludes, frontier, visible), seen,
                      MAX_ITERATED - iterated)
        if not new:
            break
        added += new
        iterated += len(new)
        frontier = new
    return added
