"""Repository.put_many, the import path: set-based inserts, one transaction, a bounded number of AuditEvents."""

from __future__ import annotations

import uuid

import pytest

from fhir.access import SYSTEM, requester_for_user
from fhir.audit import AUDIT_ENTITIES
from fhir.errors import FhirError
from fhir.models import ResourceVersion, SearchIndex, StoredResource
from fhir.store import Repository
from tests.support.fhir import observation

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite_pass]


def patient(pid: str) -> dict:
    return {"resourceType": "Patient", "id": pid, "name": [{"family": "Bulk", "given": ["Ann"]}],
            "birthDate": "1970-01-01"}


def with_id(resource: dict) -> dict:
    return {**resource, "id": str(uuid.uuid4())}


def test_new_resources_are_stored_indexed_and_searchable():
    repo = Repository(SYSTEM, channel="import")
    pid = str(uuid.uuid4())
    pulse = with_id(observation(pid, value=81))
    results = repo.put_many([pulse, patient(pid)])  # the Observation first: references are checked at the end
    assert [r.created for r in results] == [True, True]
    stored = StoredResource.objects.get(resource_type="Observation", fhir_id=pulse["id"])
    assert stored.patient_id == pid and stored.version_id == 1
    assert stored.content["meta"]["versionId"] == "1"
    assert ResourceVersion.objects.filter(resource=stored, version_id=1).exists()
    assert SearchIndex.objects.filter(resource=stored, param="code", code="8867-4").exists()
    found = repo.search("Observation", [("patient", pid), ("value-quantity", "81")])
    assert [m["id"] for m in found.matches] == [pulse["id"]]


def test_a_provenance_before_its_target_follows_the_targets_compartment():
    pid = str(uuid.uuid4())
    fact = with_id(observation(pid))
    provenance = {"resourceType": "Provenance", "id": str(uuid.uuid4()),
                  "target": [{"reference": f"Observation/{fact['id']}"}], "recorded": "2026-01-01T00:00:00Z",
                  "agent": [{"who": {"display": "importer"}}]}
    Repository(SYSTEM, channel="import").put_many([provenance, patient(pid), fact])
    row = StoredResource.objects.get(resource_type="Provenance", fhir_id=provenance["id"])
    assert row.patient_id == pid


def test_again_is_unchanged_and_a_change_is_a_new_version():
    repo = Repository(SYSTEM, channel="import")
    pid = str(uuid.uuid4())
    pulse = with_id(observation(pid, value=70))
    repo.put_many([patient(pid), pulse])
    again = repo.put_many([patient(pid), pulse])
    assert [(r.created, r.changed) for r in again] == [(False, False), (False, False)]
    changed = repo.put_many([patient(pid), {**pulse, "valueQuantity": {**pulse["valueQuantity"], "value": 75}}])
    assert [(r.created, r.changed) for r in changed] == [(False, False), (False, True)]
    row = StoredResource.objects.get(resource_type="Observation", fhir_id=pulse["id"])
    assert row.version_id == 2 and row.versions.count() == 2
    assert not repo.search("Observation", [("patient", pid), ("value-quantity", "70")]).matches


def test_every_version_is_audited_in_events_of_at_most_a_hundred():
    repo = Repository(SYSTEM, channel="import")
    pid = str(uuid.uuid4())
    facts = [with_id(observation(pid, value=60 + i % 40)) for i in range(2 * AUDIT_ENTITIES + 10)]
    before = StoredResource.objects.filter(resource_type="AuditEvent").count()
    repo.put_many([patient(pid), *facts])
    events = list(StoredResource.objects.filter(resource_type="AuditEvent").order_by("pk"))[before:]
    assert len(events) == 3
    named = [e["what"]["reference"] for event in events for e in event.content["entity"]
             if e["type"]["code"] == "2"]
    assert sorted(named) == sorted([f"Patient/{pid}/_history/1"] + [f"Observation/{f['id']}/_history/1"
                                                                   for f in facts])
    assert all(event.content["source"]["site"] == "import" for event in events)


def test_a_dangling_reference_or_a_duplicate_writes_nothing_and_is_audited():
    repo = Repository(SYSTEM, channel="import")
    pid = str(uuid.uuid4())
    rows = StoredResource.objects.exclude(resource_type="AuditEvent").count()
    with pytest.raises(FhirError) as dangling:
        repo.put_many([patient(pid), with_id(observation("not-here"))])
    assert dangling.value.status == 422
    twice = with_id(observation(pid))
    with pytest.raises(FhirError, match="more than once"):
        repo.put_many([patient(pid), twice, twice])
    assert StoredResource.objects.exclude(resource_type="AuditEvent").count() == rows
    outcomes = [e.content["outcome"] for e in StoredResource.objects.filter(resource_type="AuditEvent")]
    assert outcomes.count("4") == 2


def test_a_clinician_cannot_write_into_another_patients_record(cast):
    alice, bob = cast["alice"], cast["bob"]
    carol = Repository(requester_for_user(cast["carol"]))
    carol.put_many([with_id(observation(alice.fhir_id))])  # her patient: allowed
    rows = StoredResource.objects.exclude(resource_type="AuditEvent").count()
    with pytest.raises(FhirError) as refused:
        carol.put_many([with_id(observation(alice.fhir_id)), with_id(observation(bob.fhir_id))])
    assert refused.value.status == 403
    assert StoredResource.objects.exclude(resource_type="AuditEvent").count() == rows
    bobs = StoredResource.objects.get(resource_type="Patient", fhir_id=bob.fhir_id).content
    with pytest.raises(FhirError):  # an existing resource outside her patients: not even its existence shows
        carol.put_many([{**bobs, "gender": "other"}])
    assert StoredResource.objects.get(resource_type="Patient", fhir_id=bob.fhir_id).version_id == 1
