"""EHR sync against a real HAPI FHIR JPA server (scripts/hapi.py, built from Maven Central): pull and push are
idempotent, patients are matched by identifier, and HAPI's paging of $everything is followed."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from fhir.access import SYSTEM
from fhir.remote import RemoteServer, pull_patient, push_patient
from fhir.store import Repository
from scripts.hapi import fhir_base, start_hapi
from scripts.stack import free_port
from tests.support.fhir import observation
from webapp.actions.accounts import USER_IDENTIFIER_SYSTEM

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

# More than the 200 a page HAPI serves here (scripts/hapi/.../ServerConfig.java): a pull asks for 500 and must
# follow HAPI's next links (?_getpages=...) to get them all.
ALICE_OBSERVATIONS = 230


@pytest.fixture(scope="module")
def hapi(tmp_path_factory):
    """One HAPI FHIR server (no authentication) for the module; each test works on its own patient there."""
    port = free_port()
    service = start_hapi(port, tmp_path_factory.mktemp("hapi"))
    yield RemoteServer(fhir_base(port))
    service.stop()


def create_on_hapi(hapi: RemoteServer, username: str, values: list[float]) -> str:
    """A Patient with Continuum's username identifier and Observations of hers, created on HAPI in one
    transaction (server-assigned ids); returns her HAPI id."""
    patient_url = "urn:uuid:6f1c1f2e-0000-4000-8000-000000000001"
    entries = [{"fullUrl": patient_url, "request": {"method": "POST", "url": "Patient"},
                "resource": {"resourceType": "Patient", "name": [{"family": username.title(), "given": ["HAPI"]}],
                             "identifier": [{"system": USER_IDENTIFIER_SYSTEM, "value": username}]}}]
    for i, value in enumerate(values):
        body = observation("x", value=value, when=f"2026-10-{1 + i % 28:02d}")
        entries.append({"request": {"method": "POST", "url": "Observation"},
                        "resource": body | {"subject": {"reference": patient_url}}})
    answer = hapi.transaction({"resourceType": "Bundle", "type": "transaction", "entry": entries})
    statuses = [e["response"]["status"] for e in answer["entry"]]
    assert statuses == ["201 Created"] * len(entries)
    return answer["entry"][0]["response"]["location"].split("/")[1]


@pytest.fixture(scope="module")
def alice_on_hapi(hapi) -> str:
    return create_on_hapi(hapi, "alice", [100 + i for i in range(ALICE_OBSERVATIONS)])


def versions(resources: list[dict]) -> dict[str, str]:
    return {f"{r['resourceType']}/{r['id']}": r["meta"]["versionId"] for r in resources}


def test_pull_from_hapi_follows_its_pages_matches_the_patient_and_twice_changes_nothing(hapi, alice_on_hapi, cast):
    alice = cast["alice"]
    page = hapi.http.get(f"{hapi.base_url}Patient/{alice_on_hapi}/$everything?_count=500").json()
    assert len(page["entry"]) == 200 and any(link["relation"] == "next" for link in page["link"])  # HAPI pages
    repo = Repository(SYSTEM, channel="sync")
    first = pull_patient(repo, hapi, alice_on_hapi)
    assert first.created["Observation"] == ALICE_OBSERVATIONS  # all pages of HAPI's $everything
    assert first.updated["Patient"] == 1  # HAPI's Patient matched to local alice by identifier, not duplicated
    assert sum(first.created.values()) == ALICE_OBSERVATIONS
    here = repo.search("Observation", [("patient", f"Patient/{alice.fhir_id}"), ("_count", "1000")]).matches
    assert sorted(o["valueQuantity"]["value"] for o in here) == [100 + i for i in range(ALICE_OBSERVATIONS)]
    assert {o["meta"]["source"] for o in here} == {hapi.base_url.rstrip("/")}
    assert repo.read("Patient", alice.fhir_id)["name"][0]["given"] == ["HAPI"]
    second = pull_patient(repo, hapi, alice_on_hapi)
    assert sum(second.created.values()) == 0 and sum(second.updated.values()) == 0
    assert second.unchanged == {"Patient": 1, "Observation": ALICE_OBSERVATIONS}


def test_push_to_hapi_updates_the_patient_found_by_identifier_and_twice_changes_nothing(hapi, cast):
    bob = cast["bob"]
    there = create_on_hapi(hapi, "bob", [])
    repo = Repository(SYSTEM, channel="sync")
    for value in (88, 91):
        repo.create(observation(bob.fhir_id, value=value))
    report = push_patient(repo, hapi, bob.fhir_id)
    assert report.statuses == {"201 Created": 2, "200 OK": 1}  # the observations; bob, found by identifier
    pushed = hapi.get_all(f"Observation?patient={there}")
    assert sorted(o["valueQuantity"]["value"] for o in pushed) == [88, 91]
    bob_there = hapi.get_all(f"Patient?_id={there}")
    assert bob_there[0]["identifier"][0]["value"] == "bob" and bob_there[0]["meta"]["versionId"] == "2"
    before = versions(pushed + bob_there)
    again = push_patient(repo, hapi, bob.fhir_id)
    assert again.statuses == {"200 OK": 3}
    # HAPI made no new version of anything: nothing created, nothing updated.
    after = hapi.get_all(f"Observation?patient={there}") + hapi.get_all(f"Patient?_id={there}")
    assert versions(after) == before
    assert len(hapi.get_all("Patient?identifier=" + f"{USER_IDENTIFIER_SYSTEM}|bob")) == 1


def test_the_sync_command_pulls_from_hapi_without_a_token(hapi, alice_on_hapi, cast):
    out = StringIO()
    call_command("sync_fhir", "pull", "--remote", hapi.base_url, "--patient", alice_on_hapi, stdout=out)
    assert f"pulled Patient/{alice_on_hapi}: {ALICE_OBSERVATIONS} created, 1 updated, 0 unchanged" in out.getvalue()
    out = StringIO()
    call_command("sync_fhir", "pull", "--remote", hapi.base_url, "--patient", alice_on_hapi, stdout=out)
    assert f"0 created, 0 updated, {ALICE_OBSERVATIONS + 1} unchanged" in out.getvalue()
