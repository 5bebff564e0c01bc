"""Every read, search and write of clinical data leaves an AuditEvent (who, what, when, outcome); append-only."""

from __future__ import annotations

import base64

import pytest

from fhir.access import SYSTEM, agent_requester
from fhir.audit import AUDIT_ENTITIES, AuditRecord, audit_index_rows, build_audit_event
from fhir.errors import FhirError
from fhir.indexing import index_values
from fhir.models import StoredResource
from fhir.persistence import now, stamp
from fhir.store import Repository
from tests.support.fhir import FhirClient, client_token, observation

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite_pass]


def audit_events() -> list[dict]:
    return [row.content for row in StoredResource.objects.filter(resource_type="AuditEvent").order_by("pk")]


def last_event() -> dict:
    return audit_events()[-1]


def test_a_read_is_audited_with_who_what_and_outcome(cast):
    carol, alice = cast["carol"], cast["alice"]
    FhirClient(user=carol).get(f"Patient/{alice.fhir_id}")
    event = last_event()
    assert event["action"] == "R" and event["outcome"] == "0"
    assert event["subtype"][0]["code"] == "read"
    assert event["agent"][0]["who"]["reference"] == f"Practitioner/{carol.fhir_id}"
    whats = [e["what"]["reference"] for e in event["entity"] if "what" in e]
    assert f"Patient/{alice.fhir_id}/_history/1" in whats and f"Patient/{alice.fhir_id}" in whats
    assert event["source"]["site"] == "rest"


def test_a_search_is_audited_with_its_query_and_the_patients_it_returned(cast, ehr_token):
    alice = cast["alice"]
    api = FhirClient(token=ehr_token)
    api.post("Observation", observation(alice.fhir_id))
    api.get(f"Observation?patient={alice.fhir_id}")
    event = last_event()
    assert event["subtype"][0]["code"] == "search-type"
    query = next(base64.b64decode(e["query"]).decode() for e in event["entity"] if "query" in e)
    assert query == f"Observation?patient={alice.fhir_id}"
    assert f"Patient/{alice.fhir_id}" in [e["what"]["reference"] for e in event["entity"] if "what" in e]
    assert event["agent"][0]["altId"]  # the OAuth client id


def test_a_write_is_audited_in_the_same_transaction(cast, ehr_token):
    api = FhirClient(token=ehr_token)
    created = api.post("Observation", observation(cast["alice"].fhir_id)).json()
    event = last_event()
    assert event["action"] == "C" and event["outcome"] == "0"
    assert f"Observation/{created['id']}/_history/1" in [e["what"]["reference"] for e in event["entity"]
                                                          if "what" in e]


def test_a_refused_request_is_audited_as_a_failure(cast):
    FhirClient(user=cast["dave"]).get(f"Patient/{cast['alice'].fhir_id}")
    event = last_event()
    assert event["outcome"] == "4" and "not known" in event["outcomeDesc"]
    assert event["agent"][0]["who"]["reference"] == f"Practitioner/{cast['dave'].fhir_id}"


def test_an_invalid_write_is_audited_and_writes_nothing_else(cast, ehr_token):
    before = StoredResource.objects.exclude(resource_type="AuditEvent").count()
    FhirClient(token=ehr_token).post("Observation", {"resourceType": "Observation", "status": "final"})
    assert StoredResource.objects.exclude(resource_type="AuditEvent").count() == before
    assert last_event()["outcome"] == "4"


def test_admins_read_the_audit_trail_clinicians_and_patients_do_not(cast):
    FhirClient(user=cast["carol"]).get(f"Patient/{cast['alice'].fhir_id}")
    assert FhirClient(user=cast["root"]).get("AuditEvent").json()["total"] >= 1
    assert FhirClient(user=cast["carol"]).get("AuditEvent").status_code == 403
    assert FhirClient(user=cast["alice"]).get("AuditEvent").status_code == 403


def test_a_wildcard_scope_does_not_reach_the_audit_trail(cast, ehr_token):
    assert FhirClient(token=ehr_token).get("AuditEvent").status_code == 403
    named = client_token(cast["ehr"], "system/AuditEvent.read")
    assert FhirClient(token=named).get("AuditEvent").status_code == 200


def test_audit_events_cannot_be_changed_or_deleted_by_anyone(cast):
    FhirClient(user=cast["carol"]).get(f"Patient/{cast['alice'].fhir_id}")
    event = audit_events()[0]
    token = client_token(cast["ehr"], "system/AuditEvent.read system/AuditEvent.write")
    api = FhirClient(token=token)
    assert api.put(f"AuditEvent/{event['id']}", event | {"outcome": "0"}).status_code == 403
    assert api.delete(f"AuditEvent/{event['id']}").status_code == 403
    assert api.post("AuditEvent", {k: v for k, v in event.items() if k not in ("id", "meta")}).status_code == 403
    assert StoredResource.objects.get(fhir_id=event["id"]).version_id == 1


@pytest.mark.parametrize("record", [
    AuditRecord("search-type", entities=["Observation"], patients={"p1", "p2"}, query="Observation?patient=p1"),
    AuditRecord("read", entities=["Observation/1/_history/2", "Observation/1"], patients={"p1"}),
    AuditRecord("create", outcome="minor", description="invalid"),
    AuditRecord("operation", entities=["Patient/p1"], patients={"p1"}, query="Patient/p1/$everything"),
    AuditRecord("search-type", entities=["Flag", "Condition"], patients={"p1"}, query="Flag?patient=p1",
                more_queries=["Condition?patient=p1"]),
])
@pytest.mark.parametrize("requester", [SYSTEM, agent_requester("p1")], ids=["system", "agent"])
def test_the_fast_audit_index_matches_the_generic_one(record, requester):
    event = build_audit_event(requester, record, "rest")
    stored = stamp(event, event["id"], 1, now())  # as it is indexed: with its version and time
    assert sorted(map(repr, audit_index_rows(stored))) == sorted(map(repr, index_values(stored)))
    assert any(code == "_lastUpdated" for code, _ in audit_index_rows(stored))


@pytest.mark.parametrize("record", [
    AuditRecord("search-type", entities=["Flag", "Condition"], patients={"p1"}, query="Flag?patient=p1",
                more_queries=["Condition?patient=p1"]),
    AuditRecord("create", outcome="minor", description="invalid"),  # no patient: no compartment
    AuditRecord("read", entities=[f"Observation/{n}/_history/1" for n in range(150)], patients={"p1", "p2"}),
])
def test_an_audit_event_is_stored_as_the_generic_write_stores_it(record):
    """AuditEvents are inserted in one statement (fhir.persistence.insert_new_version), not through the models: the
    rows must be those write_version stores, to the byte, on either database."""
    from fhir.models import ResourceVersion, SearchIndex
    from fhir.persistence import insert_new_version, new_id, write_version

    event = build_audit_event(agent_requester("p1"), record, "agent")
    twin = event | {"id": new_id()}
    insert_new_version(event, ResourceVersion.Method.CREATE, audit_index_rows)
    write_version(twin, previous=None, method=ResourceVersion.Method.CREATE, index=audit_index_rows)
    fast, generic = (StoredResource.objects.get(fhir_id=e["id"]) for e in (event, twin))

    def row(stored: StoredResource) -> tuple:
        version = ResourceVersion.objects.get(resource=stored)
        index = sorted((i.param, i.system, i.code, i.value, i.ref_type, i.ref_id, i.low, i.high, i.number)
                       for i in SearchIndex.objects.filter(resource=stored) if i.param not in ("_id", "_lastUpdated"))
        content = {k: v for k, v in stored.content.items() if k not in ("id", "meta")}
        return (stored.resource_type, stored.version_id, stored.deleted, stored.patient_id, stored.released, content,
                version.version_id, version.method, version.released, version.content == stored.content, index)

    assert row(fast) == row(generic)
    assert fast.content["meta"]["versionId"] == "1" and fast.content["id"] == event["id"]
    assert SearchIndex.objects.filter(resource=fast, param="_id", code=event["id"]).exists()
    if len(record.entities) > AUDIT_ENTITIES:  # the most an event names, each indexed
        assert sum(1 for i in row(fast)[-1] if i[0] == "entity") == AUDIT_ENTITIES + len(record.patients)


def test_several_searches_at_once_are_audited_by_one_event_naming_each_query_and_patient(cast):
    alice = cast["alice"]
    Repository(SYSTEM).create(observation(alice.fhir_id))
    before = len(audit_events())
    agent = Repository(agent_requester(alice.fhir_id), channel="agent")
    flags, observations = agent.search_many([("Flag", [("patient", f"Patient/{alice.fhir_id}")]),
                                             ("Observation", [("patient", f"Patient/{alice.fhir_id}")])])
    assert flags.matches == [] and len(observations.matches) == 1
    [event] = audit_events()[before:]
    assert event["subtype"][0]["code"] == "search-type" and event["source"]["site"] == "agent"
    queries = [base64.b64decode(e["query"]).decode() for e in event["entity"] if "query" in e]
    assert queries == [f"Flag?patient=Patient/{alice.fhir_id}", f"Observation?patient=Patient/{alice.fhir_id}"]
    assert [e["name"] for e in event["entity"] if "name" in e] == ["Flag", "Observation"]
    assert f"Patient/{alice.fhir_id}" in [e["what"]["reference"] for e in event["entity"] if "what" in e]


def test_a_refused_search_in_a_batch_refuses_the_batch_and_is_audited(cast):
    alice = cast["alice"]
    before = len(audit_events())
    agent = Repository(agent_requester(alice.fhir_id), channel="agent")
    with pytest.raises(FhirError):
        agent.search_many([("Observation", [("patient", f"Patient/{alice.fhir_id}")]), ("AuditEvent", [])])
    [event] = audit_events()[before:]
    assert event["outcome"] != "0"
