"""_include:iterate and _revinclude:iterate: follow references from everything in a result, round after round."""

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


def iterated(request: SearchRequest, found: list[StoredResource],
             visible: Callable[[str], QuerySet[StoredResource]]) -> list[StoredResource]:
    """What the :iterate includes reach from ``found`` (the matches and what plain includes added), not already
    in it, until a round adds nothing. ``visible(type)`` is what the requester may see of a type (nothing of a
    type they may not read): an iterated include obeys the same access rules as any other."""
    if not (request.iterate_includes or request.iterate_revincludes) or not found:
        return []
    seen = {(r.resource_type, r.fhir_id) for r in found}
    added: list[StoredResource] = []
    frontier = found
    for _ in range(MAX_ROUNDS):
        wanted: dict[str, set[str]] = {}
        for spec in request.iterate_includes:
            for ref_type, ids in _forward(spec, frontier).items():
                wanted.setdefault(ref_type, set()).update(i for i in ids if (ref_type, i) not in seen)
        candidates = [visible(ref_type).filter(fhir_id__in=ids, deleted=False) for ref_type, ids in wanted.items()
                      if ids]
        for spec in request.iterate_revincludes:
            if (pointing := _backward(spec, frontier, visible)) is not None:
                candidates.append(pointing)
        new: list[StoredResource] = []
        for rows in candidates:
            for row in rows.order_by("pk")[:MAX_ITERATED]:
                if (row.resource_type, row.fhir_id) not in seen:
                    seen.add((row.resource_type, row.fhir_id))
                    new.append(row)
        new = new[:MAX_ITERATED - len(added)]
        if not new:
            break
        added += new
        frontier = new
    return added
