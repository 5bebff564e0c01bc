"""Two levels of confirmation: the patient confirms what they said; a clinician on the care team verifies or
rejects. Patients see their own reports and verified facts, never rejected ones."""

from __future__ import annotations

import pytest

from agent.memory.record import ReportedFact, record_reported_fact
from fhir.access import agent_requester
from fhir.store import Repository
from tests.support.fhir import FhirClient

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite_pass]


def level(resource: dict) -> str:
    return next(t["code"] for t in resource["meta"]["tag"] if t["system"].endswith("/confirmation"))


def confirm(api: FhirClient, resource: dict, to: str):
    return api.post(f"{resource['resourceType']}/{resource['id']}/$confirm",
                    {"resourceType": "Parameters", "parameter": [{"name": "level", "valueCode": to}]})


@pytest.fixture
def allergy(cast) -> dict:
    alice = cast["alice"]
    return record_reported_fact(Repository(agent_requester(alice.fhir_id)), alice.fhir_id,
                                ReportedFact("allergy", "penicillin"), source_message_id=7)


def test_the_patient_confirms_then_the_clinician_verifies(cast, allergy):
    confirmed = confirm(FhirClient(user=cast["alice"]), allergy, "patient-confirmed")
    assert confirmed.status_code == 200 and level(confirmed.json()) == "patient-confirmed"
    verified = confirm(FhirClient(user=cast["carol"]), allergy, "clinician-verified").json()
    assert level(verified) == "clinician-verified"
    assert verified["verificationStatus"]["coding"][0]["code"] == "confirmed"
    assert verified["meta"]["versionId"] == "3"
    provenances = FhirClient(user=cast["carol"]).get(f"Provenance?target=AllergyIntolerance/{allergy['id']}").json()
    roles = sorted(a["type"]["coding"][0]["code"] for e in provenances["entry"] for a in e["resource"]["agent"])
    assert roles == ["attester", "author", "informant", "verifier"]


def test_a_patient_cannot_verify_their_own_fact(cast, allergy):
    response = confirm(FhirClient(user=cast["alice"]), allergy, "clinician-verified")
    assert response.status_code == 409
    assert level(FhirClient(user=cast["carol"]).get(f"AllergyIntolerance/{allergy['id']}").json()) == "unconfirmed"


def test_a_clinician_outside_the_care_team_cannot_verify(cast, allergy):
    assert confirm(FhirClient(user=cast["dave"]), allergy, "clinician-verified").status_code == 404


def test_a_rejected_fact_disappears_from_the_patients_view(cast, allergy):
    alice = FhirClient(user=cast["alice"])
    assert alice.get(f"AllergyIntolerance/{allergy['id']}").status_code == 200
    rejected = confirm(FhirClient(user=cast["carol"]), allergy, "rejected").json()
    assert rejected["verificationStatus"]["coding"][0]["code"] == "refuted"
    assert alice.get(f"AllergyIntolerance/{allergy['id']}").status_code == 404


def test_only_recorded_facts_can_be_confirmed(cast):
    alice = cast["alice"]
    patient = FhirClient(user=cast["carol"]).get(f"Patient/{alice.fhir_id}").json()
    assert confirm(FhirClient(user=cast["carol"]), patient, "clinician-verified").status_code == 422


def test_an_unknown_level_is_400(cast, allergy):
    assert confirm(FhirClient(user=cast["carol"]), allergy, "maybe").status_code == 400
