"""Finding and rewriting the references inside a resource (bundles, imports and sync all need it)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any


def local_references(value: Any) -> Iterator[str]:
    """Every relative reference ('Type/id') anywhere in a resource; urn: ones too, as they dangle once stored."""
    if isinstance(value, dict):
        reference = value.get("reference")
        if isinstance(reference, str) and not reference.startswith(("#", "http://", "https://")):
            yield reference
        for item in value.values():
            yield from local_references(item)
    elif isinstance(value, list):
        for item in value:
            yield from local_references(item)


def rewrite_references(value: Any, new_reference: Callable[[str], str | None]) -> Any:
    """A copy of ``value`` with each reference replaced by ``new_reference(old)`` where that is not None."""
    if isinstance(value, dict):
        out = {k: rewrite_references(v, new_reference) for k, v in value.items()}
        if isinstance(out.get("reference"), str) and (replacement := new_reference(out["reference"])) is not None:
            out["reference"] = replacement
        return out
    if isinstance(value, list):
        return [rewrite_references(v, new_reference) for v in value]
    return value
