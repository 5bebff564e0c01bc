"""The care team reviews the record from the conversation page: each fact with its confirmation level, verified or
rejected with one click (a new version and a Provenance naming the clinician), never by anyone else."""

from __future__ import annotations

import pytest
from django.test import Client

from agent.memory.record import ReportedFact, record_reported_fact
from fhir.access import agent_requester
from fhir.store import Repository
from tests.support.cast import PASSWORD
from tests.support.fhir import FhirClient

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.sqlite_pass]


def logged_in(user) -> Client:
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    return client


def reported(patient, kind: str, text: str) -> dict:
    repo = Repository(agent_requester(patient.fhir_id), channel="agent")
    return record_reported_fact(repo, patient.fhir_id, ReportedFact(kind=kind, text=text), 0)


def test_facts_are_shown_with_their_level_and_verified_or_rejected_in_one_click(cast):
    alice, carol = cast["alice"], cast["carol"]
    allergy = reported(alice, "allergy", "penicillin")
    symptom = reported(alice, "symptom", "a rash on my arm")
    page_url = f"/chat/{alice.conversation.public_id}/"
    client = logged_in(carol)
    page = client.get(page_url).content.decode()
    record = page.split('id="record"')[1]  # the record section (the timeline above lists the facts too)
    assert "penicillin" in record and "a rash on my arm" in record and record.count(">unconfirmed<") == 2

    response = client.post(f"/patients/record/AllergyIntolerance/{allergy['id']}/verify", {"next": page_url})
    assert response.status_code == 302 and response["Location"] == page_url
    client.post(f"/patients/record/Condition/{symptom['id']}/reject", {"next": page_url})

    verified = FhirClient(user=carol).get(f"AllergyIntolerance/{allergy['id']}").json()
    assert verified["verificationStatus"]["coding"][0]["code"] == "confirmed"
    provenance = FhirClient(user=carol).get(f"Provenance?target=AllergyIntolerance/{allergy['id']}").json()
    assert any(a["who"]["reference"] == f"Practitioner/{carol.fhir_id}"
               for e in provenance["entry"] for a in e["resource"]["agent"])
    page = client.get(page_url).content.decode()
    assert ">verified<" in page and ">rejected<" in page and "Verify</button>" not in page
    # The patient sees the verified allergy, not the rejected symptom.
    own = FhirClient(user=alice)
    assert own.get(f"AllergyIntolerance/{allergy['id']}").status_code == 200
    assert own.get(f"Condition/{symptom['id']}").status_code == 404


def test_only_the_care_team_reviews(cast):
    alice, dave = cast["alice"], cast["dave"]
    allergy = reported(alice, "allergy", "latex")
    assert logged_in(dave).post(f"/patients/record/AllergyIntolerance/{allergy['id']}/verify").status_code == 404
    assert logged_in(alice).post(f"/patients/record/AllergyIntolerance/{allergy['id']}/verify").status_code == 403
    assert logged_in(cast["carol"]).post(f"/patients/record/Patient/{alice.fhir_id}/verify").status_code == 404
    assert FhirClient(user=cast["carol"]).get(f"AllergyIntolerance/{allergy['id']}").json()["meta"]["tag"][0][
        "code"] == "unconfirmed"
