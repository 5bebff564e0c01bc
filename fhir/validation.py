"""Parse and validate resources with fhir.resources (R4B models; R4 on the wire)."""

from __future__ import annotations

import re
from typing import Any

from pydantic import ValidationError

from fhir.definitions import RESOURCE_TYPES
from fhir.errors import FhirError
from fhir.resources.R4B import get_fhir_model_class

ID_PATTERN = re.compile(r"^[A-Za-z0-9\-.]{1,64}$")
MAX_ISSUES = 20


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
    return model.model_dump(mode="json", by_alias=True, exclude_none=True)
