"""$validate: would this resource be accepted? Answers with an OperationOutcome, writes nothing."""

from __future__ import annotations

from typing import Any

from fhir.errors import FhirError
from fhir.store import Repository, dangling_references
from fhir.validation import validate_resource

DEFINITION = {
    "resourceType": "OperationDefinition", "id": "Resource-validate", "name": "Validate", "status": "active",
    "kind": "operation", "code": "validate", "resource": ["Resource"],
    "url": "http://hl7.org/fhir/OperationDefinition/Resource-validate",
    "system": False, "type": True, "instance": True,
    "parameter": [
        {"name": "resource", "use": "in", "min": 0, "max": "1", "type": "Resource"},
        {"name": "return", "use": "out", "min": 1, "max": "1", "type": "OperationOutcome"},
    ],
}


def validate(repo: Repository, body: Any, resource_type: str) -> tuple[int, dict]:
    if isinstance(body, dict) and body.get("resourceType") == "Parameters":
        params = [p for p in body.get("parameter", []) if p.get("name") == "resource"]
        body = params[0].get("resource") if params else None
    try:
        resource = validate_resource(body, resource_type)
        if not repo.requester.may_read_type(resource_type):
            raise FhirError("forbidden", f"not permitted: {resource_type}")
    except FhirError as error:
        return 200 if error.status in (400, 422) else error.status, error.outcome()
    issues = [{"severity": "warning", "code": "not-found", "diagnostics": f"reference {ref} does not resolve here"}
              for ref in dangling_references([resource])]
    issues = issues or [{"severity": "information", "code": "informational", "diagnostics": "the resource is valid"}]
    return 200, {"resourceType": "OperationOutcome", "issue": issues}
