"""A direct evaluator for the plain FHIRPath expressions that most search parameters are: unions of element paths
(``Observation.code``, ``Condition.onset.as(dateTime) | Condition.onset.as(Period)``), choice types by ``as`` or
``ofType``, and ``where(resolve() is Patient)``. It walks the JSON as fhirpathpy does and gives the same values
(tests/test_fhir_paths.py compares both on every official example), ten to a hundred times faster: indexing is
most of a write's cost, and fhirpathpy evaluates through a generic interpreter. Anything else returns None from
``compile_plain`` and stays with fhirpathpy (fhir/definitions.py)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from fhirpathpy.models import models as fhirpath_models

_CHOICES: dict[str, list[str]] = fhirpath_models["r4"]["choiceTypePaths"]
_STEP = re.compile(r"\w+|(?:as|ofType)\(\w+\)|where\(resolve\(\) is \w+\)")
_AS_INFIX = re.compile(r"\s+as\s+(\w+)")

Step = tuple[str, str]  # (kind, name): ("field", "code"), ("type", "Quantity"), ("resolve", "Patient")


def _parse_path(text: str) -> list[Step] | None:
    text = text.strip()
    while text.startswith("(") and text.endswith(")"):
        text = text[1:-1].strip()
    parts, depth, current = [], 0, ""
    for char in text:  # split on dots outside parentheses
        if char == "." and depth == 0:
            parts.append(current)
            current = ""
            continue
        depth += (char == "(") - (char == ")")
        current += char
    parts.append(current)
    steps: list[Step] = []
    for part in parts:
        if not _STEP.fullmatch(part):
            return None
        if part.startswith(("as(", "ofType(")):
            steps.append(("type", part[part.index("(") + 1:-1]))
        elif part.startswith("where("):
            steps.append(("resolve", part.rsplit(" ", 1)[1][:-1]))
        else:
            steps.append(("field", part))
    if len(steps) < 2 or steps[0][0] != "field" or steps[1][0] != "field":
        return None
    return steps


def _plan(steps: list[Step]) -> list[tuple[str, Any]] | None:
    """Resolve choice elements to their JSON keys: ('keys', [names]) per element step, ('resolve', type)."""
    path = steps[0][1]
    plan: list[tuple[str, Any]] = []
    i = 1
    while i < len(steps):
        kind, name = steps[i]
        if kind == "resolve":
            plan.append(("resolve", name))
            i += 1
            continue
        if kind != "field":
            return None  # a type filter on an element that is no choice: leave it to fhirpathpy
        path = f"{path}.{name}"
        choices = _CHOICES.get(path)
        if choices is None:
            plan.append(("keys", [name]))
            i += 1
            continue
        wanted = choices
        if i + 1 < len(steps) and steps[i + 1][0] == "type":  # the model lists 'DateTime', the expression 'dateTime'
            wanted = [t for t in choices if t.lower() == steps[i + 1][1].lower()]
            i += 1
        plan.append(("keys", [name + t[0].upper() + t[1:] for t in wanted]))
        if i + 1 < len(steps):
            return None  # navigating below a choice: its type decides the path; rare in search parameters
        i += 1
    return plan


def compile_plain(expression: str) -> Callable[[dict], list[Any]] | None:
    """A function giving what fhirpathpy gives for ``expression``, or None if the expression is not plain."""
    plans: list[tuple[str, list[tuple[str, Any]]]] = []
    for part in _AS_INFIX.sub(r".as(\1)", expression).split("|"):
        steps = _parse_path(part)
        plan = _plan(steps) if steps else None
        if plan is None:
            return None
        plans.append((steps[0][1], plan))

    def evaluate(resource: dict) -> list[Any]:
        out: list[Any] = []
        for resource_type, plan in plans:
            if resource.get("resourceType") != resource_type:
                continue
            items: list[Any] = [resource]
            for kind, arg in plan:
                if kind == "resolve":
                    prefix = arg + "/"
                    items = [i for i in items if isinstance(i, dict) and isinstance(i.get("reference"), str)
                             and i["reference"].startswith(prefix)]
                    continue
                found: list[Any] = []
                for item in items:
                    if not isinstance(item, dict):
                        continue
                    for key in arg:
                        value = item.get(key)
                        if isinstance(value, list):
                            found.extend(v for v in value if v is not None)
                        elif value is not None:
                            found.append(value)
                items = found
            out.extend(items)
        if len(plans) > 1:  # a FHIRPath union has no duplicates
            distinct: list[Any] = []
            for item in out:
                if item not in distinct:
                    distinct.append(item)
            return distinct
        return out

    return evaluate
