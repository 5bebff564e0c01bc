"""A patient sees their own released record (what they reported, marked as theirs, and what their clinicians
verified; never rejected facts or clinicians' drafts) and downloads all of it as one FHIR Bundle; nobody else's,
and the reads are audited."""

from __future__ import annotations

import base64
import json

import pytest
from django.test import Client
from fhir.resources.R4B.bundle import Bundle

from agent.memory.record import ReportedFact, record_reported_fact
from fhir.access import agent_requester, requester_for_user
from fhir.models import StoredResource
from fhir.store import Repository
from tests.support.cast import PASSWORD
from webapp.actions.dashboard import do_review_fact

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.sqlite_pass]


def logged_in(user) -> Client:
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    return client


def reported(patient, kind: str, text: str) -> dict:
    return record_reported_fact(Repository(agent_requester(patient.fhir_id), channel="agent"), patient.fhir_id,
                                ReportedFact(kind=kind, text=text), 0)


def draft_note(clinician, patient) -> dict:
    """A clinician's summary still in draft: never the patient's to see."""
    return Repository(requester_for_user(clinician), channel="app").create({
        "resourceType": "Composition", "status": "preliminary", "date": "2026-12-01T10:00:00+00:00",
        "type": {"coding": [{"system": "http://loinc.org", "code": "11506-3"}]}, "title": "Draft note",
        "subject": {"reference": f"Patient/{patient.fhir_id}"}, "author": [{"display": "Dr Carol"}]}).resource


@pytest.fixture
def alices_record(cast):
    alice, carol = cast["alice"], cast["carol"]
    facts = {"allergy": reported(alice, "allergy", "penicillin"), "symptom": reported(alice, "symptom", "dizzy spells"),
             "wrong": reported(alice, "symptom", "a broken wrist"), "draft": draft_note(carol, alice)}
    do_review_fact(carol, "AllergyIntolerance", facts["allergy"]["id"], verify=True)
    do_review_fact(carol, "Condition", facts["wrong"]["id"], verify=False)
    reported(cast["bob"], "symptom", "bobs secret cough")
    return facts


def test_the_patient_sees_what_was_released_to_them(cast, alices_record):
    page = logged_in(cast["alice"]).get("/care/record/").content.decode()
    assert "penicillin" in page and ">verified<" in page
    assert "dizzy spells" in page and "reported by you, not yet checked" in page
    assert "a broken wrist" not in page and "Draft note" not in page and "bobs secret cough" not in page
    assert 'id="download-record"' in page


def test_the_download_is_a_valid_bundle_of_their_released_record(cast, alices_record):
    alice = cast["alice"]
    before = StoredResource.objects.filter(resource_type="AuditEvent").count()
    response = logged_in(alice).get("/care/record/download")
    assert response.status_code == 200 and response["Content-Type"] == "application/fhir+json"
    assert response["Content-Disposition"].startswith('attachment; filename="continuum-record-')
    bundle = json.loads(response.content)
    Bundle.model_validate(bundle)  # valid FHIR
    ids = {(e["resource"]["resourceType"], e["resource"]["id"]) for e in bundle["entry"]}
    assert ("Patient", alice.fhir_id) in ids
    assert ("AllergyIntolerance", alices_record["allergy"]["id"]) in ids
    assert ("Condition", alices_record["symptom"]["id"]) in ids
    assert ("Condition", alices_record["wrong"]["id"]) not in ids  # rejected by the clinician
    assert ("Composition", alices_record["draft"]["id"]) not in ids  # a clinician's draft
    assert not {t for t, _ in ids} & {"AuditEvent", "Provenance"}
    assert all(e["resource"].get("subject", e["resource"].get("patient", {"reference": f"Patient/{alice.fhir_id}"}))
               ["reference"] == f"Patient/{alice.fhir_id}" for e in bundle["entry"] if e["resource"]["resourceType"]
               != "Patient")
    assert all(e["fullUrl"].startswith("http://testserver/fhir/") for e in bundle["entry"])
    # The download is a read of clinical data: audited as the patient.
    events = [r.content for r in StoredResource.objects.filter(resource_type="AuditEvent").order_by("pk")[before:]]
    query = base64.b64encode(f"Patient/{alice.fhir_id}/$everything".encode()).decode()
    assert any(query in json.dumps(e) and e["agent"][0]["who"]["reference"] == f"Patient/{alice.fhir_id}"
               for e in events)


def test_the_download_gathers_every_page(cast, settings):
    from webapp.myrecord import export

    alice = cast["alice"]
    for i in range(7):
        reported(alice, "symptom", f"symptom number {i}")
    export.PAGE, page = 3, export.PAGE
    try:
        bundle = json.loads(logged_in(alice).get("/care/record/download").content)
    finally:
        export.PAGE = page
    conditions = [e for e in bundle["entry"] if e["resource"]["resourceType"] == "Condition"]
    assert len(conditions) == 7 and len({e["resource"]["id"] for e in bundle["entry"]}) == len(bundle["entry"])


def test_only_patients_have_these_pages(cast):
    for name in ("carol", "root", "ehr"):
        client = logged_in(cast[name])
        assert client.get("/care/record/").status_code == 403
        assert client.get("/care/record/download").status_code == 403
    assert Client().get("/care/record/download").status_code == 302  # to the login page
