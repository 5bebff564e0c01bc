"""EHR sync against a second live Continuum FHIR server: pull and push are idempotent by identifiers."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from fhir.access import SYSTEM
from fhir.errors import FhirError
from fhir.remote import RemoteServer, pull_patient, push_patient
from fhir.store import Repository
from scripts.stack import django_env, free_port, manage, start_web
from tests.support.fhir import observation

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

DEMO_CLIENT = ("continuum-demo-ehr", "continuum-demo-ehr-secret")


@pytest.fixture(scope="module")
def remote(tmp_path_factory):
    """Another Continuum (its own SQLite database, the demo users and EHR client), served by uvicorn.

    Shared by this module's tests: each works on its own patient there (alice pulls, bob pushes).
    """
    tmp_path: Path = tmp_path_factory.mktemp("remote")
    env = django_env(SQLITE_PATH=str(tmp_path / "remote.sqlite3"), CONTINUUM_VAR_DIR=str(tmp_path))
    env.pop("DATABASE_URL", None)
    manage("migrate", "--noinput", env=env)
    manage("seed_demo_users", env=env)
    port = free_port()
    service = start_web(env, port, tmp_path / "web.log")
    origin = f"http://127.0.0.1:{port}"
    server = RemoteServer.with_client_credentials(f"{origin}/fhir/", f"{origin}/o/token/", *DEMO_CLIENT,
                                                  "system/*.read system/*.write")
    yield server
    service.stop()


def remote_patient(server: RemoteServer, username: str) -> dict:
    [patient] = server.get_all(f"Patient?identifier=https://continuum.health/fhir/sid/username|{username}")
    return patient


def test_pull_brings_the_remote_record_under_the_local_patient_and_twice_changes_nothing(remote, cast):
    alice = cast["alice"]
    there = remote_patient(remote, "alice")
    for value in (120, 135):
        created = remote.http.post(remote.base_url + "Observation", json=observation(there["id"], value=value),
                                   headers={"Content-Type": "application/fhir+json"})
        assert created.status_code == 201
    repo = Repository(SYSTEM, channel="sync")
    first = pull_patient(repo, remote, there["id"])
    assert first.created["Observation"] == 2
    assert first.updated["Patient"] == 1  # matched to local alice by her identifier, not duplicated
    here = repo.search("Observation", [("patient", f"Patient/{alice.fhir_id}")]).matches
    assert sorted(o["valueQuantity"]["value"] for o in here) == [120, 135]
    assert all(o["meta"]["source"] == remote.base_url.rstrip("/") for o in here)
    second = pull_patient(repo, remote, there["id"])
    assert sum(second.created.values()) == 0 and sum(second.updated.values()) == 0
    assert second.unchanged["Observation"] == 2


def test_push_sends_the_local_record_to_the_remote_patient_by_identifier(remote, cast):
    bob = cast["bob"]
    repo = Repository(SYSTEM, channel="sync")
    repo.create(observation(bob.fhir_id, value=88))
    report = push_patient(repo, remote, bob.fhir_id)
    assert report.statuses["201 Created"] == 1 and report.statuses["200 OK"] == 1  # the observation; bob
    there = remote_patient(remote, "bob")
    pushed = remote.get_all(f"Observation?patient={there['id']}")
    assert [o["valueQuantity"]["value"] for o in pushed] == [88]
    again = push_patient(repo, remote, bob.fhir_id)
    assert again.statuses == {"200 OK": 2}
    assert len(remote.get_all(f"Observation?patient={there['id']}")) == 1


def test_the_sync_command_reports_what_it_did(remote, cast):
    there = remote_patient(remote, "alice")
    token = remote.http.headers["Authorization"].split()[1]
    out = StringIO()
    call_command("sync_fhir", "pull", "--remote", remote.base_url, "--patient", there["id"], "--token", token,
                 stdout=out)
    assert "pulled Patient/" in out.getvalue() and "1 updated" in out.getvalue()


def test_a_wrong_secret_is_a_clear_error(remote):
    origin = remote.base_url.removesuffix("fhir/")
    with pytest.raises(FhirError, match="remote token endpoint said 401"):
        RemoteServer.with_client_credentials(remote.base_url, f"{origin}o/token/", "continuum-demo-ehr", "wrong",
                                             "system/*.read")
