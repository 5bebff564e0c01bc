"""Reference target types: a reference may only point at the resource types its element allows (R4's
targetProfile, which the fhir.resources models carry as ``enum_reference_types``). ``ExplanationOfBenefit.insurer``
names an Organization; one pointing at a Patient is invalid, as HAPI FHIR also says (HAPI-0931)."""

from __future__ import annotations

import re
from functools import cache

from pydantic import BaseModel

# Type/id, Type/id/_history/n, or an absolute URL ending so. urn:uuid: (inside a bundle) and #contained are skipped.
_TYPED = re.compile(r"(?:^|/)([A-Z][A-Za-z]+)/[A-Za-z0-9\-.]{1,64}(?:/_history/[A-Za-z0-9\-.]{1,64})?$")
_ANY = {"Resource", "DomainResource", "Any"}


@cache
def _fields(model_class: type[BaseModel]) -> tuple[tuple[str, str, frozenset[str] | None], ...]:
    """(attribute, JSON name, the types allowed if it is a reference) for the fields that may hold elements."""
    out = []
    for name, field in model_class.model_fields.items():
        extra = field.json_schema_extra if isinstance(field.json_schema_extra, dict) else {}
        allowed = extra.get("enum_reference_types")
        out.append((name, field.alias or name,
                    frozenset(allowed) if allowed and not _ANY.intersection(allowed) else None))
    return tuple(out)


def wrong_targets(model: BaseModel, path: str) -> list[tuple[str, str, frozenset[str]]]:
    """(element path, reference, allowed types) for each reference in ``model`` that points at a type its element
    does not allow."""
    found: list[tuple[str, str, frozenset[str]]] = []
    for name, alias, allowed in _fields(type(model)):
        value = getattr(model, name, None)
        if value is None:
            continue
        for item in value if isinstance(value, list) else (value,):
            if not isinstance(item, BaseModel):
                break  # primitives: nothing below
            if allowed is not None:
                reference = getattr(item, "reference", None)
                match = _TYPED.search(reference) if isinstance(reference, str) else None
                if match and match.group(1) not in allowed:
                    found.append((f"{path}.{alias}", reference, allowed))
            found += wrong_targets(item, f"{path}.{alias}")
    return found
