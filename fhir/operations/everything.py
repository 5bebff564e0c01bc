"""Patient/$everything: the patient's whole record that the requester may see, paged."""

from __future__ import annotations

from fhir.store import Repository, SearchResult

DEFINITION = {
    "resourceType": "OperationDefinition", "id": "Patient-everything", "name": "PatientEverything",
    "status": "active", "kind": "operation", "code": "everything", "resource": ["Patient"],
    "url": "http://hl7.org/fhir/OperationDefinition/Patient-everything",
    "system": False, "type": False, "instance": True,
    "parameter": [
        {"name": "_since", "use": "in", "min": 0, "max": "1", "type": "instant"},
        {"name": "_type", "use": "in", "min": 0, "max": "*", "type": "string"},
        {"name": "_count", "use": "in", "min": 0, "max": "1", "type": "integer"},
        {"name": "return", "use": "out", "min": 1, "max": "1", "type": "Bundle"},
    ],
}
DEFAULT_COUNT, MAX_COUNT = 100, 1000


def everything(repo: Repository, patient_id: str, *, count: int, offset: int, types: list[str] | None,
               since) -> SearchResult:
    return repo.everything(patient_id, count=min(count, MAX_COUNT), offset=offset, types=types, since=since)
