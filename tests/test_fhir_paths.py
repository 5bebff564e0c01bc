"""fhir/paths.py evaluates the plain search-parameter expressions exactly as fhirpathpy does, on every official R4
example Continuum stores: the same values for every parameter (numbers compared as numbers: fhirpathpy hands
decimals back as Decimal)."""

from __future__ import annotations

import json
import tarfile
from decimal import Decimal
from typing import Any

import pytest

from fhir.definitions import RESOURCE_TYPES, _with_fhirpathpy, search_params
from fhir.paths import compile_plain
from scripts.fetch_fhir_examples import examples_path

pytestmark = [pytest.mark.sqlite_pass]


def _numbers_as_floats(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _numbers_as_floats(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_numbers_as_floats(v) for v in value]
    return float(value) if isinstance(value, (Decimal, float)) else value


def official_examples() -> list[dict]:
    out = []
    with tarfile.open(examples_path()) as tar:
        for member in tar.getmembers():
            if member.isfile() and member.name.endswith(".json"):
                resource = json.load(tar.extractfile(member))
                if isinstance(resource, dict) and resource.get("resourceType") in RESOURCE_TYPES:
                    out.append(resource)
    return out


def test_plain_paths_give_what_fhirpathpy_gives_on_every_official_example():
    checked, plain_expressions, differences = 0, set(), []
    for resource in official_examples():
        for param in search_params(resource["resourceType"]).values():
            if param.type == "composite" or not param.expression:
                continue
            plain = compile_plain(param.expression)
            if plain is None:
                continue
            plain_expressions.add(param.expression)
            ours = _numbers_as_floats(plain(resource))
            theirs = _numbers_as_floats(_with_fhirpathpy(param.expression)(resource))
            checked += 1
            if ours != theirs:
                differences.append((resource["resourceType"], resource.get("id"), param.code, ours, theirs))
    assert not differences, differences[:5]
    assert checked > 5000 and len(plain_expressions) > 400  # most parameters take the plain path


@pytest.mark.parametrize("expression", [
    "Patient.telecom.where(system='email')",  # a where() other than resolve()
    "Patient.deceased.exists() and Patient.deceased != false",
    "Observation.value.as(Quantity).value",  # below a choice
    "Observation.subject.ofType(Patient)",  # a type filter on an element that is no choice
])
def test_anything_else_is_left_to_fhirpathpy(expression):
    assert compile_plain(expression) is None


def test_choices_unions_and_resolve():
    observation = {"resourceType": "Observation", "valueQuantity": {"value": 5}, "subject": {"reference": "Patient/1"},
                   "performer": [{"reference": "Practitioner/2"}, {"reference": "Patient/1"}],
                   "component": [{"code": {"text": "a"}}, {"code": {"text": "a"}}]}
    assert compile_plain("(Observation.value as Quantity)")(observation) == [{"value": 5}]
    assert compile_plain("Observation.value.as(string)")(observation) == []
    assert compile_plain("Observation.performer.where(resolve() is Patient)")(observation) == [
        {"reference": "Patient/1"}]
    assert compile_plain("Observation.component.code")(observation) == [{"text": "a"}, {"text": "a"}]
    assert compile_plain("Observation.component.code | Observation.code")(observation) == [{"text": "a"}]  # distinct
    assert compile_plain("Condition.code")(observation) == []  # another type's path
