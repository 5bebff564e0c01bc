"""Extract search index rows from a resource, one per value of each search parameter."""

from __future__ import annotations

import unicodedata
from decimal import Decimal
from typing import Any

from fhir.dates import EARLIEST, LATEST, date_range
from fhir.definitions import SearchParam, search_params

MAX_TEXT = 255
MAX_SHORT = 64  # ref_type and ref_id


def normalise(text: str) -> str:
    """How string search compares: case- and accent-insensitive (the FHIR spec's 'string' rules)."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()[:MAX_TEXT]


def split_reference(reference: str) -> tuple[str | None, str | None]:
    """'Patient/123' or 'https://x/fhir/Patient/123/_history/2' -> ('Patient', '123')."""
    parts = reference.split("/")
    if "_history" in parts:
        parts = parts[: parts.index("_history")]
    if len(parts) >= 2 and parts[-2][:1].isupper():
        return parts[-2], parts[-1]
    return None, None


def _clip(text: Any) -> str | None:
    return None if text is None else str(text)[:MAX_TEXT]


def _token_rows(value: Any) -> list[dict]:
    if isinstance(value, bool):
        return [{"code": "true" if value else "false"}]
    if isinstance(value, str):
        return [{"code": _clip(value)}]
    if not isinstance(value, dict):
        return []
    if "coding" in value or "text" in value and "value" not in value:  # CodeableConcept
        rows = [{"system": _clip(c.get("system")), "code": _clip(c.get("code")),
                 "value": normalise(c["display"]) if c.get("display") else None} for c in value.get("coding", [])]
        if value.get("text"):
            rows.append({"value": normalise(value["text"])})
        return rows
    if "value" in value and isinstance(value["value"], str):  # Identifier, ContactPoint
        return [{"system": _clip(value.get("system")), "code": _clip(value["value"])}]
    if "code" in value:  # Coding
        return [{"system": _clip(value.get("system")), "code": _clip(value["code"]),
                 "value": normalise(value["display"]) if value.get("display") else None}]
    return []


_NAME_PARTS = ("text", "family", "given", "prefix", "suffix", "line", "city", "district", "state", "postalCode",
               "country")


def _string_rows(value: Any) -> list[dict]:
    if isinstance(value, str):
        return [{"value": normalise(value), "code": _clip(value)}]
    rows: list[dict] = []
    if isinstance(value, dict):  # HumanName, Address: each part is searchable on its own
        for part in _NAME_PARTS:
            for text in value.get(part) if isinstance(value.get(part), list) else [value.get(part)]:
                if isinstance(text, str):
                    rows.append({"value": normalise(text), "code": _clip(text)})
    return rows


def _reference_rows(value: Any) -> list[dict]:
    reference = value.get("reference") if isinstance(value, dict) else value if isinstance(value, str) else None
    if not reference:
        return []
    if reference.startswith(("http://", "https://")):
        # Another server's resource: findable by its URL, never mistaken for one of ours.
        return [{"code": _clip(reference)}]
    ref_type, ref_id = split_reference(reference)
    return [{"code": _clip(reference), "ref_type": ref_type, "ref_id": _clip(ref_id)}]


def _date_rows(value: Any) -> list[dict]:
    try:
        if isinstance(value, str):
            low, high = date_range(value)
            return [{"low": low, "high": high}]
        if isinstance(value, dict) and ("start" in value or "end" in value):  # Period
            low = date_range(value["start"])[0] if value.get("start") else EARLIEST
            high = date_range(value["end"])[1] if value.get("end") else LATEST
            return [{"low": low, "high": high}]
        if isinstance(value, dict) and "event" in value:  # Timing
            return [row for event in value["event"] for row in _date_rows(event)]
    except ValueError:
        return []
    return []


def _quantity_rows(value: Any) -> list[dict]:
    if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        return [{"number": float(value)}]
    if isinstance(value, dict) and isinstance(value.get("value"), (int, float, Decimal)):
        return [{"number": float(value["value"]), "system": _clip(value.get("system")),
                 "code": _clip(value.get("code") or value.get("unit")),
                 "value": normalise(value["unit"]) if value.get("unit") else None}]
    return []


def _uri_rows(value: Any) -> list[dict]:
    return [{"code": _clip(value)}] if isinstance(value, str) else []


ROWS_BY_TYPE = {"token": _token_rows, "string": _string_rows, "reference": _reference_rows, "date": _date_rows,
                "quantity": _quantity_rows, "number": _quantity_rows, "uri": _uri_rows}


# A composite parameter's row: its first component in that component's own columns, the second moved to columns
# the first leaves free (SearchIndex's docstring has the layout; fhir/search/query.py moves a query the same way).
# Only the columns named here are kept: a token's display text, a reference as written, are not searchable there.
COMPOSITE_FIRST = {"token": {"system": "system", "code": "code"},
                   "reference": {"ref_type": "ref_type", "ref_id": "ref_id"}}
COMPOSITE_SECOND = {
    ("token", "quantity"): {"number": "number", "code": "value", "system": "ref_id", "value": "ref_type"},
    ("token", "token"): {"code": "value", "system": "ref_id"},
    ("token", "date"): {"low": "low", "high": "high"},
    ("token", "string"): {"value": "value"},
    ("reference", "token"): {"system": "system", "code": "code"},
}
# The column a component's row must have to be matched at all (a concept's text alone has no code).
_KEY_COLUMN = {"token": "code", "reference": "ref_id", "quantity": "number", "date": "low", "string": "value"}


def moved_value(column: str, value: Any) -> Any:
    """A value as a composite row holds it in ``column``: ref_type and ref_id hold 64 characters."""
    return value[:MAX_SHORT] if column in ("ref_type", "ref_id") and isinstance(value, str) else value


def _component_rows(kind: str, values: list[Any], columns: dict[str, str]) -> list[dict]:
    rows = []
    for value in values:
        for row in ROWS_BY_TYPE[kind](value):
            if row.get(_KEY_COLUMN[kind]) is not None:
                rows.append({columns[k]: moved_value(columns[k], v) for k, v in row.items()
                             if k in columns and v is not None})
    return rows


def composite_rows(param: SearchParam, resource: dict) -> list[dict]:
    """One row per pair of component values found in the same element (the same Observation.component)."""
    first, second = param.components
    columns = COMPOSITE_FIRST[first.type], COMPOSITE_SECOND[first.type, second.type]
    rows = []
    for element in param.evaluate(resource):
        heads = _component_rows(first.type, first.evaluate(element), columns[0])
        tails = _component_rows(second.type, second.evaluate(element), columns[1])
        rows += [head | tail for head in heads for tail in tails]
    return rows


def _common_values(param: SearchParam, resource: dict) -> list[Any]:
    meta = resource.get("meta", {})
    return {
        "_id": [resource.get("id")],
        "_lastUpdated": [meta.get("lastUpdated")],
        "_tag": meta.get("tag", []),
        "_security": meta.get("security", []),
        "_profile": meta.get("profile", []),
        "_source": [meta.get("source")],
    }[param.code]


def index_values(resource: dict) -> list[tuple[str, dict]]:
    """(param code, column values) for every searchable value of the resource."""
    out: list[tuple[str, dict]] = []
    for param in search_params(resource["resourceType"]).values():
        if param.type == "special":  # _text, _content: looked for in the stored JSON (fhir/search/text.py)
            continue
        if param.type == "composite":
            values, rows_for = [resource], lambda r, param=param: composite_rows(param, r)
        else:
            values = _common_values(param, resource) if param.code.startswith("_") else param.evaluate(resource)
            rows_for = ROWS_BY_TYPE[param.type]
        seen: set[tuple] = set()
        for value in values:
            if value is None:
                continue
            for row in rows_for(value):
                key = tuple(sorted(row.items()))
                if key not in seen:
                    seen.add(key)
                    out.append((param.code, row))
    return out


