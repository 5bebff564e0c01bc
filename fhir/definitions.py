"""What the server knows about FHIR R4: resource types, search parameters, the patient compartment.

Search parameters are the official R4 definitions (FHIRPath expressions), pruned to the
types we store by ``scripts/build_fhir_definitions.py``; they are evaluated with fhirpathpy.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from fhirpathpy import compile as compile_fhirpath
from fhirpathpy.models import models as fhirpath_models

from fhir.paths import compile_plain

DEFINITIONS = json.loads((Path(__file__).parent / "definitions" / "search_parameters.json").read_text())

RESOURCE_TYPES: frozenset[str] = frozenset(DEFINITIONS["resources"])
# Types whose resources belong to a patient; without a patient reference only system-wide requesters see them.
PATIENT_COMPARTMENT: dict[str, list[str]] = DEFINITIONS["patient_compartment"] | {
    # Not in R4's patient compartment, but patient data all the same: access follows the patient.
    "Device": ["patient"],
    "Task": ["patient"],
}
# Types whose patient is the one of the resource they point at (Provenance.target, Binary.securityContext).
FOLLOWS_TARGET = frozenset({"Provenance", "Binary"})
# AuditEvent is append-only: written by the server itself, never updated or deleted.
APPEND_ONLY = frozenset({"AuditEvent"})

# Search parameters Continuum adds to R4's, stated in the CapabilityStatement with their definition URL. R4 gives
# Flag no status parameter, and a care team's first question is which flags are still open.
EXTRA_PARAMS: dict[str, list[dict]] = {
    "Flag": [{"code": "status", "type": "token", "expression": "Flag.status",
              "definition": "https://continuum.health/fhir/SearchParameter/Flag-status"}],
}

# R4's composite parameters on the stored types (the pruned definitions file keeps simple types only): the
# elements a parameter looks at (a path of at most one step from the resource), and for each component the
# simple parameter that defines its type and the path to its value within that element, as the official
# SearchParameter.component lists them. A component path is an element name or 'value.as(Type)' (a choice).
COMPOSITE_PARAMS: dict[str, list[dict]] = {
    "Observation": [
        {"code": code, "expression": base, "components": [(first, "code"), (second, value)]}
        for code, base, first, second, value in [
            ("code-value-concept", "Observation", "code", "value-concept", "value.as(CodeableConcept)"),
            ("code-value-date", "Observation", "code", "value-date", "value.as(dateTime) | value.as(Period)"),
            ("code-value-quantity", "Observation", "code", "value-quantity",
             "value.as(Quantity) | value.as(SampledData)"),
            ("code-value-string", "Observation", "code", "value-string", "value.as(string)"),
            ("combo-code-value-concept", "Observation | Observation.component", "combo-code",
             "combo-value-concept", "value.as(CodeableConcept)"),
            ("combo-code-value-quantity", "Observation | Observation.component", "combo-code",
             "combo-value-quantity", "value.as(Quantity) | value.as(SampledData)"),
            ("component-code-value-concept", "Observation.component", "component-code", "component-value-concept",
             "value.as(CodeableConcept)"),
            ("component-code-value-quantity", "Observation.component", "component-code",
             "component-value-quantity", "value.as(Quantity) | value.as(SampledData)"),
        ]
    ],
    "DocumentReference": [
        {"code": "relationship", "expression": "DocumentReference.relatesTo",
         "components": [("relatesto", "target"), ("relation", "code")]},
    ],
}
_COMPONENT_PATH = re.compile(r"(\w+)(?:\.as\((\w+)\))?")

# fhirpathpy has no resolve(); a reference's type is visible in its text, which is what the server stores.
_RESOLVE_IS = re.compile(r"where\(resolve\(\) is (\w+)\)")
# 'X as T' must have a single X in fhirpathpy; the definitions apply it to collections (components), so
# use the collection form X.ofType(T), which means the same for one item.
_AS_TYPE = re.compile(r"\s+as\s+(\w+)")


@dataclass(frozen=True)
class Component:
    """One part of a composite parameter: the simple parameter giving its type, and its path in the element."""

    code: str
    type: str
    expression: str

    def evaluate(self, element: dict) -> list[Any]:
        return _path_values(element, self.expression)


@dataclass(frozen=True)
class SearchParam:
    code: str
    type: str  # token | string | reference | date | quantity | uri | number | composite
    expression: str
    target: tuple[str, ...] = ()
    roots: tuple[str, ...] = ()  # the top-level elements the expression reads: absent, nothing to evaluate
    definition: str = ""  # set for Continuum's own parameters (EXTRA_PARAMS)
    components: tuple[Component, ...] = ()  # composite only

    def evaluate(self, resource: dict) -> list[Any]:
        if self.roots and not any(key.startswith(self.roots) for key in resource):
            return []  # choice elements (value -> valueQuantity) match by prefix
        if self.type == "composite":  # the elements whose components are matched together
            return [e for part in self.expression.split("|") for e in _elements(resource, part.strip())]
        return _compiled(self.expression)(resource)


def _path_values(element: dict, expression: str) -> list[Any]:
    """'code' or 'value.as(Quantity) | value.as(SampledData)' within one element: the values found."""
    values: list[Any] = []
    for part in expression.split("|"):
        match = _COMPONENT_PATH.fullmatch(part.strip())
        if match is None:
            raise ValueError(f"unsupported component path {part!r}")
        name, choice = match.groups()
        value = element.get(name + choice[0].upper() + choice[1:] if choice else name)
        values += value if isinstance(value, list) else [] if value is None else [value]
    return values


def _elements(resource: dict, path: str) -> list[dict]:
    """'Observation' -> [the resource]; 'Observation.component' -> its components."""
    steps = path.split(".")
    if steps[0] != resource["resourceType"] or len(steps) > 2:
        return []
    if len(steps) == 1:
        return [resource]
    return [e for e in _path_values(resource, steps[1]) if isinstance(e, dict)]


def _roots(resource_type: str, expression: str) -> tuple[str, ...]:
    return tuple(sorted(set(re.findall(rf"(?<![\w.]){resource_type}\.(\w+)", expression))))


@cache
def _compiled(expression: str) -> Callable[[dict], list[Any]]:
    return compile_plain(expression) or _with_fhirpathpy(expression)  # plain paths: fhir/paths.py, 10-100x faster


def _with_fhirpathpy(expression: str) -> Callable[[dict], list[Any]]:
    expression = _RESOLVE_IS.sub(r"where(reference.startsWith('\1/'))", expression)
    return compile_fhirpath(_AS_TYPE.sub(r".ofType(\1)", expression), fhirpath_models["r4"])


# Parameters of every type (the official ones are on Resource, outside the pruned file): evaluated in Python when
# indexing (fhir/indexing.py), except _text and _content, looked for in the stored JSON (fhir/search/text.py).
_COMMON_TYPES = {"_id": "token", "_lastUpdated": "date", "_tag": "token", "_profile": "uri",
                 "_security": "token", "_source": "uri", "_text": "special", "_content": "special"}


@cache
def search_params(resource_type: str) -> dict[str, SearchParam]:
    """The search parameters of one type, by code (common ones included, evaluated specially)."""
    params = {row["code"]: SearchParam(row["code"], row["type"], row["expression"], tuple(row.get("target", ())),
                                       _roots(resource_type, row["expression"]), row.get("definition", ""))
              for row in DEFINITIONS["resources"].get(resource_type, []) + EXTRA_PARAMS.get(resource_type, [])}
    for row in COMPOSITE_PARAMS.get(resource_type, []):
        components = tuple(Component(code, params[code].type, path) for code, path in row["components"])
        params[row["code"]] = SearchParam(row["code"], "composite", row["expression"], components=components)
    for code, kind in _COMMON_TYPES.items():
        params[code] = SearchParam(code, kind, "")
    return params


def is_patient_specific(resource_type: str) -> bool:
    return resource_type == "Patient" or resource_type in PATIENT_COMPARTMENT or resource_type in FOLLOWS_TARGET
