"""The access sweep: every FHIR endpoint, as every requester who must not see Alice's record, finds nothing.

Alice's data carries a marker string; no response to an outsider may contain it, and no outsider's
write may change her record. Positive controls (Alice herself, Carol on her care team) do see it,
so the sweep cannot pass by seeing nothing at all.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone
from oauth2_provider.models import AccessToken, Application

from fhir.access import SYSTEM
from fhir.clients import do_register_client
from fhir.models import ResourceVersion
from fhir.store import Repository
from tests.support.cast import make_patient
from tests.support.fhir import FhirClient, client_token, condition, observation
from webapp.actions.accounts import do_add_to_care_team

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite_pass]


@pytest.fixture
def record(cast) -> dict:
    marker = f"SECRET-{uuid.uuid4().hex}"
    alice = cast["alice"].fhir_id
    repo = Repository(SYSTEM)
    patient = repo.read("Patient", alice)
    repo.update("Patient", alice, patient | {"address": [{"city": marker}]})
    obs = repo.create(observation(alice, note=[{"text": marker}])).resource
    draft = repo.create(observation(alice, status="preliminary", note=[{"text": marker}])).resource
    cond = repo.create(condition(alice, text=marker)).resource
    repo.create({"resourceType": "Task", "status": "requested", "intent": "proposal", "description": marker,
                 "for": {"reference": f"Patient/{alice}"}})
    repo.create({"resourceType": "Device", "patient": {"reference": f"Patient/{alice}"},
                 "deviceName": [{"name": marker, "type": "user-friendly-name"}]})
    return {"marker": marker, "alice": alice, "obs": obs["id"], "draft": draft["id"], "cond": cond["id"]}


def patient_app_token(user, scopes: str) -> str:
    """A token a patient granted to an app (the authorization-code flow's result)."""
    application, _ = do_register_client(user, "patient app", scopes, grant=Application.GRANT_AUTHORIZATION_CODE,
                                        redirect_uris="https://app.example/cb")
    token = AccessToken.objects.create(user=user, application=application, token=uuid.uuid4().hex, scope=scopes,
                                       expires=timezone.now() + timedelta(hours=1))
    return token.token


def reads(r: dict) -> list[tuple[str, str]]:
    a, o, c = r["alice"], r["obs"], r["cond"]
    return [
        ("get", f"Patient/{a}"), ("get", f"Patient/{a}/_history"), ("get", f"Patient/{a}/_history/2"),
        ("get", f"Observation/{o}"), ("get", f"Observation/{o}/_history/1"), ("get", f"Condition/{c}"),
        ("get", f"Patient/{a}/$everything"), ("get", f"Observation?patient={a}"), ("get", f"Observation?_id={o}"),
        ("get", "Observation?patient.address-city=SECRET"), ("get", f"Observation?subject=Patient/{a}"),
        ("get", "Observation"), ("get", "Condition"), ("get", "Patient"), ("get", "Patient?address-city=SECRET"),
        ("get", f"Patient?_id={a}&_revinclude=Observation:subject"),
        ("get", "Observation?_include=Observation:patient"),
        ("get", "Observation/_history"), ("get", "Patient/_history"), ("get", "Observation?_summary=count"),
        ("get", "Observation?_elements=note"), ("get", "AuditEvent"), ("get", "Task"), ("get", "Device"),
    ]


def writes(r: dict) -> list[tuple[str, str, dict]]:
    a, o = r["alice"], r["obs"]
    changed = observation(a, status="cancelled") | {"id": o}
    return [
        ("put", f"Observation/{o}", changed),
        ("post", "Observation", observation(a)),
        ("post", "", {"resourceType": "Bundle", "type": "transaction", "entry": [
            {"request": {"method": "GET", "url": f"Observation/{o}"}},
            {"request": {"method": "POST", "url": "Observation"}, "resource": observation(a)}]}),
        ("post", "", {"resourceType": "Bundle", "type": "batch", "entry": [
            {"request": {"method": "GET", "url": f"Observation?patient={a}"}},
            {"request": {"method": "GET", "url": f"Patient/{a}"}},
            {"request": {"method": "DELETE", "url": f"Observation/{o}"}}]}),
    ]


def sweep(api: FhirClient, r: dict) -> list[str]:
    """Every request whose answer shows the marker or whose write changed Alice's record."""
    leaks = []
    for method, path in reads(r):
        response = getattr(api, method)(path)
        if r["marker"] in response.content.decode():
            leaks.append(f"{method.upper()} {path} -> {response.status_code}")
    for method, path, body in writes(r):
        response = getattr(api, method)(path, body)
        if r["marker"] in response.content.decode():
            leaks.append(f"{method.upper()} {path} -> {response.status_code} (shows data)")
    form = api.client.post("/fhir/Observation/_search", {"patient": r["alice"]}, **api.headers)
    if r["marker"] in form.content.decode():
        leaks.append("POST Observation/_search")
    if api.delete(f"Observation/{r['obs']}").status_code < 400:
        leaks.append("DELETE succeeded")
    return leaks


def clinical_versions() -> int:
    return ResourceVersion.objects.exclude(resource__resource_type="AuditEvent").count()


OUTSIDERS = ["bob_session", "dave_session", "root_session", "bob_app", "anonymous", "ehr_without_scope",
             "ehr_flag_only"]


def outsider(name: str, cast) -> FhirClient:
    if name == "bob_session":
        return FhirClient(user=cast["bob"])
    if name == "dave_session":
        return FhirClient(user=cast["dave"])
    if name == "root_session":
        return FhirClient(user=cast["root"])
    if name == "bob_app":
        return FhirClient(token=patient_app_token(cast["bob"], "patient/*.read"))
    if name == "ehr_without_scope":
        return FhirClient(token=client_token(cast["ehr"], "system/Practitioner.read"))
    if name == "ehr_flag_only":
        return FhirClient(token=client_token(cast["ehr"], "system/Flag.read"))
    return FhirClient()


@pytest.mark.parametrize("who", OUTSIDERS)
def test_no_outsider_sees_or_changes_alices_record(who, cast, record):
    before = clinical_versions()
    leaks = sweep(outsider(who, cast), record)
    assert leaks == []
    assert clinical_versions() == before


def test_alice_sees_her_released_record_but_not_drafts(cast, record):
    api = FhirClient(user=cast["alice"])
    assert record["marker"] in api.get(f"Observation/{record['obs']}").content.decode()
    assert api.get(f"Observation/{record['draft']}").status_code == 404
    everything = api.get(f"Patient/{record['alice']}/$everything").json()
    ids = {e["resource"]["id"] for e in everything["entry"]}
    assert record["obs"] in ids and record["cond"] in ids and record["draft"] not in ids


def test_carol_on_the_care_team_sees_everything_including_drafts(cast, record):
    api = FhirClient(user=cast["carol"])
    chained = api.get("Observation?patient.address-city=SECRET").json()
    assert chained["total"] == 2
    everything = api.get(f"Patient/{record['alice']}/$everything").json()
    ids = {e["resource"]["id"] for e in everything["entry"]}
    assert {record["obs"], record["draft"], record["cond"], record["alice"]} <= ids


def test_a_patient_cannot_write_through_a_read_token(cast, record):
    api = FhirClient(token=patient_app_token(cast["alice"], "patient/*.read"))
    assert api.get(f"Observation/{record['obs']}").status_code == 200
    response = api.post("Observation", observation(record["alice"]))
    assert response.status_code == 403


def test_a_client_may_ask_only_for_the_scopes_it_was_granted(cast):
    from django.test import Client

    application, secret = do_register_client(cast["ehr"], "narrow", "system/Observation.read")
    response = Client(HTTP_HOST="localhost").post(
        "/o/token/", {"grant_type": "client_credentials", "scope": "system/*.write", "client_id":
                      application.client_id, "client_secret": secret})
    assert response.status_code == 400 and response.json()["error"] == "invalid_scope"


def test_a_chained_search_cannot_probe_a_record_outside_your_reach(cast, record, ehr_token):
    """Dan's observation mentions Alice (focus); Dave, Dan's clinician, must not learn Alice's address through it."""
    dan = make_patient("dan")
    do_add_to_care_team(cast["dave"], dan)
    Repository(SYSTEM).create(observation(dan.fhir_id, focus=[{"reference": f"Patient/{record['alice']}"}]))
    dave, carol = FhirClient(user=cast["dave"]), FhirClient(user=cast["carol"])
    assert dave.get("Observation").json()["total"] == 1
    assert dave.get(f"Observation?focus:Patient.address-city={record['marker']}").json()["total"] == 0
    # Carol may see Alice: her chain works (but Dan's observation is not hers to see either).
    assert carol.get(f"Patient?address-city={record['marker']}").json()["total"] == 1


def test_a_reference_to_another_server_is_not_filed_in_a_local_record(cast, ehr_token):
    api = FhirClient(token=ehr_token)
    alice = cast["alice"].fhir_id
    foreign = observation(alice) | {"subject": {"reference": f"https://elsewhere.example/fhir/Patient/{alice}"}}
    created = api.post("Observation", foreign).json()
    assert FhirClient(user=cast["carol"]).get(f"Observation/{created['id']}").status_code == 404
    found = api.get(f"Observation?subject=https://elsewhere.example/fhir/Patient/{alice}").json()
    assert [e["resource"]["id"] for e in found["entry"]] == [created["id"]]
    assert api.get(f"Observation?subject=Patient/{alice}").json()["total"] == 0
