"""A reference may only point at the resource types its element allows (R4 targetProfile): 400 otherwise, with the
element and the allowed types named, and nothing written."""

from __future__ import annotations

import pytest

from fhir.models import StoredResource
from tests.support.fhir import FhirClient, condition

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite_pass]


def practitioner(api: FhirClient) -> str:
    return api.post("Practitioner", {"resourceType": "Practitioner", "name": [{"family": "Who"}]}).json()["id"]


def test_a_reference_to_a_type_its_element_does_not_allow_is_refused(api, cast):
    doctor = practitioner(api)
    before = StoredResource.objects.filter(resource_type="Condition").count()
    wrong = {**condition(cast["alice"].fhir_id), "subject": {"reference": f"Practitioner/{doctor}"}}
    response = api.post("Condition", wrong)
    assert response.status_code == 400
    outcome = response.json()
    assert outcome["resourceType"] == "OperationOutcome"
    issue = outcome["issue"][0]
    assert issue["expression"] == ["Condition.subject"] and "Patient" in issue["diagnostics"]
    assert StoredResource.objects.filter(resource_type="Condition").count() == before


def test_allowed_types_absolute_urls_and_contained_references_pass(api, cast):
    alice = cast["alice"].fhir_id
    assert api.post("Condition", condition(alice)).status_code == 201
    doctor = practitioner(api)
    contained = [{"resourceType": "RelatedPerson", "id": "author", "patient": {"reference": f"Patient/{alice}"}}]
    recorded = {**condition(alice), "recorder": {"reference": f"Practitioner/{doctor}"},
                "asserter": {"reference": "#author"}, "contained": contained}
    assert api.post("Condition", recorded).status_code == 201
    outside = {**condition(alice), "recorder": {"reference": "https://ehr.example/fhir/Practitioner/9"}}
    assert api.post("Condition", outside).status_code == 201
    wrong = {**condition(alice), "recorder": {"reference": "https://ehr.example/fhir/Organization/9"}}
    response = api.post("Condition", wrong)
    assert response.status_code == 400 and response.json()["issue"][0]["expression"] == ["Condition.recorder"]


def test_a_transaction_with_a_wrong_target_writes_nothing(api, cast):
    bundle = {"resourceType": "Bundle", "type": "transaction", "entry": [
        {"fullUrl": "urn:uuid:0d7a4ac9-3f4b-4c7e-9d7b-2d0c1b0f0a01",
         "request": {"method": "POST", "url": "Practitioner"},
         "resource": {"resourceType": "Practitioner", "name": [{"family": "Who"}]}},
        {"request": {"method": "POST", "url": "Condition"},
         "resource": {**condition(cast["alice"].fhir_id),
                      "subject": {"reference": "urn:uuid:0d7a4ac9-3f4b-4c7e-9d7b-2d0c1b0f0a01"}}}]}
    practitioners = StoredResource.objects.filter(resource_type="Practitioner").count()
    response = api.post("", bundle)
    assert response.status_code == 400
    assert StoredResource.objects.filter(resource_type="Practitioner").count() == practitioners
