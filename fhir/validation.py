"""Parse and validate resources with fhir.resources (R4B models; R4 on the wire)."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from pydantic import ValidationError

from fhir.definitions import RESOURCE_TYPES
from fhir.errors import FhirError
from fhir.jsonnum import JsonDecimal, as_number
from fhir.reference_types import wrong_targets
from fhir.resources.R4B import get_fhir_model_class

ID_PATTERN = re.compile(r"^[A-Za-z0-9\-.]{1,64}$")
MAX_ISSUES = 20
INTEGER_MAX = 2**31 - 1  # the largest R4 integer


def check_id(fhir_id: str) -> str:
    if not ID_PATTERN.match(fhir_id):
        raise FhirError("invalid", f"{fhir_id!r} is not a valid FHIR id ([A-Za-z0-9-.]{{1,64}})")
    return fhir_id


def check_type(resource_type: str) -> str:
    if resource_type not in RESOURCE_TYPES:
        raise FhirError("not-supported", f"resource type {resource_type!r} is not supported by this server",
                        status=404)
    return resource_type


def _issues(error: ValidationError, resource_type: str) -> list[dict]:
    issues = []
    for item in error.errors()[:MAX_ISSUES]:
        path = ".".join(str(p) for p in item["loc"] if p != "__root__")
        issues.append({"severity": "error", "code": "structure" if item["type"] == "extra_forbidden" else "value",
                       "diagnostics": f"{resource_type}.{path}: {item['msg']}" if path else item["msg"],
                       "expression": [f"{resource_type}.{path}" if path else resource_type]})
    return issues


def validate_resource(data: Any, expected_type: str | None = None) -> dict:
    """The resource as it will be stored (normalised JSON), or a FhirError listing what is wrong."""
    if not isinstance(data, dict):
        raise FhirError("structure", "the body must be a JSON object holding one FHIR resource")
    resource_type = data.get("resourceType")
    if not isinstance(resource_type, str):
        raise FhirError("required", "the resource has no resourceType")
    if expected_type and resource_type != expected_type:
        raise FhirError("invalid", f"resourceType {resource_type!r} does not match the URL's {expected_type!r}")
    check_type(resource_type)
    if "id" in data and (not isinstance(data["id"], str) or not ID_PATTERN.match(data["id"])):
        raise FhirError("invalid", f"{data['id']!r} is not a valid FHIR id")
    try:
        model = get_fhir_model_class(resource_type).model_validate(data)
    except ValidationError as error:
        raise FhirError("structure", f"{resource_type} is not valid", issues=_issues(error, resource_type)) from None
    except (TypeError, ValueError) as error:
        raise FhirError("structure", f"{resource_type} is not valid: {error}") from None
    wrong = wrong_targets(model, resource_type)
    if wrong:
        raise FhirError("structure", f"{resource_type} is not valid: a reference points at a type its element does "
                                     "not allow", issues=[
            {"severity": "error", "code": "structure", "expression": [where],
             "diagnostics": f"{where}: {reference!r} may only point at {', '.join(sorted(allowed))}"}
            for where, reference, allowed in wrong[:MAX_ISSUES]])
    return _keep_numbers(model.model_dump(mode="json", by_alias=True, exclude_none=True), data)


def _keep_numbers(dumped: Any, given: Any) -> Any:
    """``dumped`` with each decimal as it was given: the models dump every decimal as a float (1.50 -> 1.5,
    3 -> 3.0), or from 1e16 on as an int, so such a number of the dump, equal to the number at the same place
    in the input, becomes that number (a JsonDecimal keeps its text; an int stays an int). Floats occur in the
    dump only where FHIR has decimals, and ints past INTEGER_MAX too (R4 integers are 32-bit)."""
    if isinstance(dumped, dict) and isinstance(given, dict):
        for key, value in dumped.items():
            if key in given:
                kept = _keep_numbers(value, given[key])
                if kept is not value:
                    dumped[key] = kept
    elif isinstance(dumped, list) and isinstance(given, list) and len(dumped) == len(given):
        for i, (value, original) in enumerate(zip(dumped, given, strict=True)):
            kept = _keep_numbers(value, original)
            if kept is not value:
                dumped[i] = kept
    elif type(dumped) is float and _same_number(dumped, given):
        return as_number(given) if isinstance(given, Decimal) else given
    elif type(dumped) is int and abs(dumped) > INTEGER_MAX and isinstance(given, (JsonDecimal, Decimal)) \
            and _same_number(dumped, given):
        # 1E+22 written as a 23-digit int: only where the text is known (from fhir.jsonnum.loads or a Decimal);
        # a float (or int) keeps the dump's int, as PostgreSQL would write it anyway.
        return as_number(given) if isinstance(given, Decimal) else given
    return dumped


def _same_number(dumped: float, given: Any) -> bool:
    if type(given) is bool or not isinstance(given, (int, float, Decimal)):
        return False
    try:
        return float(dumped) == float(given)
    except OverflowError:  # an int past the floats: not what a decimal dumps as
        return False
