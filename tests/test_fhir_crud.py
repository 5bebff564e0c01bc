"""Create, read, vread, update, delete and history through the REST API: statuses, headers, versions."""

from __future__ import annotations

import pytest

from tests.support.fhir import observation

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite_pass]


def test_create_answers_201_with_location_etag_and_server_id(api, cast):
    body = observation(cast["alice"].fhir_id) | {"id": "client-chosen"}
    response = api.post("Observation", body)
    assert response.status_code == 201
    created = response.json()
    assert created["id"] != "client-chosen"
    assert created["meta"]["versionId"] == "1"
    assert response["ETag"] == 'W/"1"'
    assert response["Location"].endswith(f"/fhir/Observation/{created['id']}/_history/1")
    assert response["Content-Type"].startswith("application/fhir+json")
    assert api.get(f"Observation/{created['id']}").json() == created


def test_update_makes_a_new_version_and_vread_returns_each(api, cast):
    created = api.post("Observation", observation(cast["alice"].fhir_id)).json()
    changed = api.put(f"Observation/{created['id']}", created | {"status": "amended"}, If_Match='W/"1"')
    assert changed.status_code == 200
    assert changed.json()["meta"]["versionId"] == "2"
    assert api.get(f"Observation/{created['id']}/_history/1").json()["status"] == "final"
    assert api.get(f"Observation/{created['id']}/_history/2").json()["status"] == "amended"
    history = api.get(f"Observation/{created['id']}/_history").json()
    assert history["type"] == "history" and history["total"] == 2
    assert [e["request"]["method"] for e in history["entry"]] == ["PUT", "POST"]


def test_stale_if_match_is_refused_with_412_and_writes_nothing(api, cast):
    created = api.post("Observation", observation(cast["alice"].fhir_id)).json()
    api.put(f"Observation/{created['id']}", created | {"status": "amended"}, If_Match='W/"1"')
    stale = api.put(f"Observation/{created['id']}", created | {"status": "cancelled"}, If_Match='W/"1"')
    assert stale.status_code == 412
    assert stale.json()["resourceType"] == "OperationOutcome"
    assert api.get(f"Observation/{created['id']}").json()["status"] == "amended"


def test_unchanged_update_makes_no_new_version(api, cast):
    created = api.post("Observation", observation(cast["alice"].fhir_id)).json()
    again = api.put(f"Observation/{created['id']}", created)
    assert again.status_code == 200 and again.json()["meta"]["versionId"] == "1"


def test_update_to_a_new_id_creates_it(api, cast):
    body = observation(cast["alice"].fhir_id) | {"id": "chosen-by-ehr"}
    response = api.put("Observation/chosen-by-ehr", body)
    assert response.status_code == 201
    assert api.get("Observation/chosen-by-ehr").status_code == 200


def test_update_with_mismatched_id_is_400(api, cast):
    created = api.post("Observation", observation(cast["alice"].fhir_id)).json()
    response = api.put(f"Observation/{created['id']}", created | {"id": "other"})
    assert response.status_code == 400
    assert "must equal" in response.json()["issue"][0]["diagnostics"]


def test_deleted_resource_reads_410_and_keeps_history(api, cast):
    created = api.post("Observation", observation(cast["alice"].fhir_id)).json()
    assert api.delete(f"Observation/{created['id']}").status_code == 204
    gone = api.get(f"Observation/{created['id']}")
    assert gone.status_code == 410
    assert gone.json()["issue"][0]["code"] == "deleted"
    assert api.get(f"Observation/{created['id']}/_history/1").status_code == 200
    assert api.get(f"Observation/{created['id']}/_history").json()["total"] == 2
    assert api.get(f"Observation?_id={created['id']}").json()["total"] == 0


def test_delete_of_a_referenced_resource_is_409(api, cast):
    encounter = api.post("Encounter", {"resourceType": "Encounter", "status": "finished",
                                       "class": {"code": "AMB"},
                                       "subject": {"reference": f"Patient/{cast['alice'].fhir_id}"}}).json()
    api.post("Observation", observation(cast["alice"].fhir_id, encounter={"reference": f"Encounter/{encounter['id']}"}))
    response = api.delete(f"Encounter/{encounter['id']}")
    assert response.status_code == 409
    assert api.get(f"Encounter/{encounter['id']}").status_code == 200


def test_conditional_create_returns_the_existing_match(api, cast):
    body = observation(cast["alice"].fhir_id, identifier=[{"system": "urn:lab", "value": "A-1"}])
    first = api.post("Observation", body, If_None_Exist="identifier=urn:lab|A-1")
    second = api.post("Observation", body, If_None_Exist="identifier=urn:lab|A-1")
    assert first.status_code == 201 and second.status_code == 200
    assert first.json()["id"] == second.json()["id"]


def test_conditional_create_matching_several_is_412(api, cast):
    body = observation(cast["alice"].fhir_id, identifier=[{"system": "urn:lab", "value": "dup"}])
    api.post("Observation", body)
    api.post("Observation", body)
    assert api.post("Observation", body, If_None_Exist="identifier=urn:lab|dup").status_code == 412


def test_prefer_return_minimal_sends_no_body(api, cast):
    response = api.post("Observation", observation(cast["alice"].fhir_id), Prefer="return=minimal")
    assert response.status_code == 201 and response.content == b"" and response["Location"]


def test_type_history_lists_versions_newest_first(api, cast):
    first = api.post("Observation", observation(cast["alice"].fhir_id)).json()
    second = api.post("Observation", observation(cast["alice"].fhir_id)).json()
    entries = api.get("Observation/_history").json()["entry"]
    assert [e["resource"]["id"] for e in entries][:2] == [second["id"], first["id"]]
