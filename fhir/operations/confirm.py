"""$confirm: move a recorded fact to patient-confirmed, clinician-verified or rejected (Continuum's own operation)."""

from __future__ import annotations

from typing import Any

from fhir.errors import FhirError
from fhir.release import CONFIRMATION_LEVELS, UNCONFIRMED
from fhir.store import Repository

DEFINITION = {
    "resourceType": "OperationDefinition", "id": "Resource-confirm", "name": "Confirm", "status": "active",
    "kind": "operation", "code": "confirm", "url": "https://continuum.health/fhir/OperationDefinition/confirm",
    "resource": ["Condition", "AllergyIntolerance", "MedicationStatement", "Observation", "DiagnosticReport",
                 "DocumentReference"],
    "system": False, "type": False, "instance": True,
    "parameter": [
        {"name": "level", "use": "in", "min": 1, "max": "1", "type": "code",
         "documentation": "patient-confirmed (by the patient), clinician-verified or rejected (by a clinician)"},
        {"name": "return", "use": "out", "min": 1, "max": "1", "type": "Resource"},
    ],
}


def confirm(repo: Repository, resource_type: str, fhir_id: str, body: Any) -> dict:
    if not isinstance(body, dict) or body.get("resourceType") != "Parameters":
        raise FhirError("invalid", "$confirm takes a Parameters resource with a 'level' code")
    levels = [p.get("valueCode") for p in body.get("parameter", []) if p.get("name") == "level"]
    if len(levels) != 1 or levels[0] not in CONFIRMATION_LEVELS or levels[0] == UNCONFIRMED:
        raise FhirError("invalid", "level must be one of patient-confirmed, clinician-verified, rejected")
    return repo.set_confirmation(resource_type, fhir_id, levels[0])
