"""transaction and batch Bundles POSTed to the base URL: reference resolution, ordering, atomicity, limits."""

from __future__ import annotations

import pytest

from fhir.models import ResourceVersion, StoredResource
from tests.support.fhir import FhirClient, client_token, observation

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite_pass]


def entry(method: str, url: str, resource: dict | None = None, *, full_url: str | None = None,
          **request: str) -> dict:
    """One Bundle entry; extra keywords go into request (ifNoneExist, ifMatch)."""
    item: dict = {"request": {"method": method, "url": url, **request}}
    if full_url:
        item["fullUrl"] = full_url
    if resource is not None:
        item["resource"] = resource
    return item


def bundle(kind: str, *entries: dict) -> dict:
    return {"resourceType": "Bundle", "type": kind, "entry": list(entries)}


def patient(family: str = "Doe", mrn: str | None = None) -> dict:
    resource: dict = {"resourceType": "Patient", "name": [{"family": family, "given": ["Jo"]}]}
    if mrn:
        resource["identifier"] = [{"system": "urn:mrn", "value": mrn}]
    return resource


def encounter(subject: str) -> dict:
    return {"resourceType": "Encounter", "status": "finished", "class": {"code": "AMB"},
            "subject": {"reference": subject}}


def written() -> tuple[int, int]:
    """Resources and versions stored, the audit trail left out (it records refusals too)."""
    return (StoredResource.objects.exclude(resource_type="AuditEvent").count(),
            ResourceVersion.objects.exclude(resource__resource_type="AuditEvent").count())


def audit_events() -> list[dict]:
    return [row.content for row in StoredResource.objects.filter(resource_type="AuditEvent").order_by("pk")]


def diagnostics(response) -> str:
    outcome = response.json()
    assert outcome["resourceType"] == "OperationOutcome", outcome
    return " | ".join(issue.get("diagnostics", "") for issue in outcome["issue"])


def status_code(entry_response: dict) -> int:
    return int(entry_response["response"]["status"].split()[0])


# ---- transaction: references between entries ----------------------------------------------------------------


def test_urn_uuid_references_resolve_to_server_ids_even_forward(api):
    # The Observation comes first and points at the Encounter and Patient created after it in the bundle.
    sent = bundle(
        "transaction",
        entry("POST", "Observation", observation("ignored") | {
            "subject": {"reference": "urn:uuid:11111111-1111-4111-8111-111111111111"},
            "encounter": {"reference": "urn:uuid:22222222-2222-4222-8222-222222222222"}},
            full_url="urn:uuid:33333333-3333-4333-8333-333333333333"),
        entry("POST", "Encounter", encounter("urn:uuid:11111111-1111-4111-8111-111111111111"),
              full_url="urn:uuid:22222222-2222-4222-8222-222222222222"),
        entry("POST", "Patient", patient() | {"id": "client-chosen"},
              full_url="urn:uuid:11111111-1111-4111-8111-111111111111"),
    )
    response = api.post("", sent)
    assert response.status_code == 200, response.content
    result = response.json()
    assert [e["response"]["status"] for e in result["entry"]] == ["201 Created"] * 3
    obs, enc, pat = (e["resource"] for e in result["entry"])
    assert pat["id"] != "client-chosen" and not pat["id"].startswith("urn:")
    assert obs["subject"] == {"reference": f"Patient/{pat['id']}"}
    assert obs["encounter"] == {"reference": f"Encounter/{enc['id']}"}
    assert enc["subject"] == {"reference": f"Patient/{pat['id']}"}
    # What is stored is what was answered, and the rewritten references are searchable.
    assert api.get(f"Observation/{obs['id']}").json() == obs
    found = api.get(f"Observation?subject=Patient/{pat['id']}").json()
    assert [e["resource"]["id"] for e in found["entry"]] == [obs["id"]]
    assert StoredResource.objects.get(resource_type="Observation", fhir_id=obs["id"]).patient_id == pat["id"]


def test_absolute_full_urls_of_created_entries_resolve_too(api):
    sent = bundle(
        "transaction",
        entry("POST", "Patient", patient(), full_url="http://example.org/fhir/Patient/temp-1"),
        entry("POST", "Observation", observation("x") | {
            "subject": {"reference": "http://example.org/fhir/Patient/temp-1"}}),
    )
    result = api.post("", sent).json()
    pat, obs = (e["resource"] for e in result["entry"])
    assert obs["subject"]["reference"] == f"Patient/{pat['id']}"


def test_references_to_the_full_url_of_an_update_resolve_to_its_id(api, cast):
    sent = bundle(
        "transaction",
        entry("POST", "Observation", observation("x") | {"subject": {"reference": "urn:uuid:put-patient"}}),
        entry("PUT", "Patient/from-ehr", patient() | {"id": "from-ehr"}, full_url="urn:uuid:put-patient"),
    )
    response = api.post("", sent)
    assert response.status_code == 200, response.content
    assert response.json()["entry"][0]["resource"]["subject"]["reference"] == "Patient/from-ehr"


def test_existing_resources_may_be_referenced_by_type_and_id(api, cast):
    alice = cast["alice"].fhir_id
    result = api.post("", bundle("transaction", entry("POST", "Observation", observation(alice)))).json()
    assert result["entry"][0]["resource"]["subject"]["reference"] == f"Patient/{alice}"


# ---- transaction: the response ------------------------------------------------------------------------------


def test_response_has_one_entry_per_request_in_request_order(api, cast):
    alice = cast["alice"].fhir_id
    to_update = api.post("Observation", observation(alice)).json()
    to_delete = api.post("Observation", observation(alice, code="8310-5")).json()
    sent = bundle(
        "transaction",
        entry("GET", f"Patient/{alice}"),
        entry("PUT", f"Observation/{to_update['id']}", to_update | {"status": "amended"}, ifMatch='W/"1"'),
        entry("POST", "Observation", observation(alice, code="9279-1"), full_url="urn:uuid:new-obs"),
        entry("DELETE", f"Observation/{to_delete['id']}"),
        entry("PUT", "Observation/chosen-by-ehr", observation(alice) | {"id": "chosen-by-ehr"}),
    )
    response = api.post("", sent)
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("application/fhir+json")
    result = response.json()
    assert result["resourceType"] == "Bundle" and result["type"] == "transaction-response"
    assert len(result["entry"]) == 5
    got, updated, created, deleted, put_new = result["entry"]
    assert [e["response"]["status"] for e in result["entry"]] == [
        "200 OK", "200 OK", "201 Created", "204 No Content", "201 Created"]

    assert got["resource"]["id"] == alice and got["response"]["etag"] == 'W/"1"'

    assert updated["resource"]["status"] == "amended"
    assert updated["response"]["etag"] == 'W/"2"'
    assert updated["response"]["location"] == f"Observation/{to_update['id']}/_history/2"
    assert updated["response"]["lastModified"] == updated["resource"]["meta"]["lastUpdated"]

    new_id = created["resource"]["id"]
    assert created["response"]["location"] == f"Observation/{new_id}/_history/1"
    assert created["response"]["etag"] == 'W/"1"'

    assert "resource" not in deleted and "location" not in deleted["response"]

    assert put_new["response"]["location"] == "Observation/chosen-by-ehr/_history/1"

    assert api.get(f"Observation/{to_update['id']}").json()["meta"]["versionId"] == "2"
    assert api.get(f"Observation/{to_delete['id']}").status_code == 410
    assert api.get(f"Observation/{new_id}").status_code == 200
    assert api.get("Observation/chosen-by-ehr").status_code == 200


def test_entries_are_processed_delete_post_put_get(api, cast):
    alice = cast["alice"].fhir_id
    to_update = api.post("Observation", observation(alice)).json()
    to_delete = api.post("Observation", observation(alice, code="8310-5")).json()
    lab = [{"system": "urn:lab", "value": "order-test"}]
    # Written in the reverse of the order the spec prescribes.
    sent = bundle(
        "transaction",
        entry("GET", "Observation?identifier=urn:lab|order-test"),
        entry("GET", f"Observation/{to_update['id']}"),
        entry("PUT", f"Observation/{to_update['id']}", to_update | {"status": "amended"}),
        entry("POST", "Observation", observation(alice, identifier=lab)),
        entry("DELETE", f"Observation/{to_delete['id']}"),
    )
    result = api.post("", sent).json()
    search, read, updated, created, _deleted = result["entry"]
    # GETs ran last: they see the PUT and the POST that follow them in the bundle.
    assert search["resource"]["type"] == "searchset"
    assert [e["resource"]["id"] for e in search["resource"]["entry"]] == [created["resource"]["id"]]
    assert read["resource"]["meta"]["versionId"] == "2" and read["resource"]["status"] == "amended"
    # The versions were written DELETE, then POST, then PUT.
    deletion = ResourceVersion.objects.get(resource__fhir_id=to_delete["id"], version_id=2)
    creation = ResourceVersion.objects.get(resource__fhir_id=created["resource"]["id"], version_id=1)
    update = ResourceVersion.objects.get(resource__fhir_id=to_update["id"], version_id=2)
    assert deletion.method == "DELETE" and update.method == "PUT"
    assert deletion.pk < creation.pk < update.pk


def test_delete_runs_before_put_so_a_still_referenced_delete_fails(api, cast):
    # The PUT removing the reference comes first in the bundle but runs after the DELETE: the spec's order.
    alice = cast["alice"].fhir_id
    enc = api.post("Encounter", encounter(f"Patient/{alice}")).json()
    obs = api.post("Observation", observation(alice, encounter={"reference": f"Encounter/{enc['id']}"})).json()
    unlinked = {k: v for k, v in obs.items() if k != "encounter"}
    sent = bundle("transaction", entry("PUT", f"Observation/{obs['id']}", unlinked),
                  entry("DELETE", f"Encounter/{enc['id']}"))
    response = api.post("", sent)
    assert response.status_code == 409
    assert "entry 1" in diagnostics(response)
    assert api.get(f"Observation/{obs['id']}").json()["encounter"]["reference"] == f"Encounter/{enc['id']}"


# ---- transaction: conditional create ------------------------------------------------------------------------


def test_conditional_create_reuses_the_existing_match_and_rewrites_references_to_it(api):
    existing = api.post("Patient", patient("Existing", mrn="MRN-1")).json()
    before = written()
    sent = bundle(
        "transaction",
        entry("POST", "Observation", observation("x") | {"subject": {"reference": "urn:uuid:the-patient"}}),
        entry("POST", "Patient", patient("Sent", mrn="MRN-1"), full_url="urn:uuid:the-patient",
              ifNoneExist="identifier=urn:mrn|MRN-1"),
        entry("POST", "Patient", patient("Fresh", mrn="MRN-2"), full_url="urn:uuid:other-patient",
              ifNoneExist="identifier=urn:mrn|MRN-2"),
        entry("POST", "Encounter", encounter("urn:uuid:other-patient")),
    )
    response = api.post("", sent)
    assert response.status_code == 200, response.content
    obs, matched, fresh, enc = response.json()["entry"]
    assert matched["response"]["status"] == "200 OK"
    assert matched["resource"]["id"] == existing["id"]
    assert matched["resource"]["name"][0]["family"] == "Existing"  # the match is kept, not overwritten
    assert matched["response"]["etag"] == 'W/"1"'
    assert obs["resource"]["subject"]["reference"] == f"Patient/{existing['id']}"
    assert fresh["response"]["status"] == "201 Created"
    assert enc["resource"]["subject"]["reference"] == f"Patient/{fresh['resource']['id']}"
    assert written()[0] == before[0] + 3  # Observation, fresh Patient, Encounter: no second MRN-1 Patient
    assert api.get("Patient?identifier=urn:mrn|MRN-1").json()["total"] == 1


def test_conditional_create_matching_several_fails_the_transaction(api):
    api.post("Patient", patient(mrn="DUP"))
    api.post("Patient", patient(mrn="DUP"))
    before = written()
    sent = bundle("transaction", entry("POST", "Patient", patient()),
                  entry("POST", "Patient", patient(mrn="DUP"), ifNoneExist="identifier=urn:mrn|DUP"))
    response = api.post("", sent)
    assert response.status_code == 412
    assert "entry 1" in diagnostics(response)
    assert written() == before


def test_two_entries_writing_the_same_resource_fail_the_transaction(api, cast):
    obs = api.post("Observation", observation(cast["alice"].fhir_id)).json()
    before = written()
    sent = bundle("transaction", entry("PUT", f"Observation/{obs['id']}", obs | {"status": "amended"}),
                  entry("DELETE", f"Observation/{obs['id']}"))
    response = api.post("", sent)
    assert response.status_code == 400
    assert "entry 1" in diagnostics(response) and "entry 0" in diagnostics(response)
    assert written() == before


def test_a_conditional_create_matching_a_resource_put_in_the_same_transaction_fails(api):
    existing = api.post("Patient", patient(mrn="MRN-9")).json()
    before = written()
    sent = bundle("transaction", entry("PUT", f"Patient/{existing['id']}", existing | {"gender": "other"}),
                  entry("POST", "Patient", patient(mrn="MRN-9"), ifNoneExist="identifier=urn:mrn|MRN-9"))
    assert api.post("", sent).status_code == 400
    assert written() == before


def test_duplicate_full_urls_fail_the_transaction(api):
    sent = bundle("transaction", entry("POST", "Patient", patient(), full_url="urn:uuid:same"),
                  entry("POST", "Patient", patient(), full_url="urn:uuid:same"))
    before = written()
    response = api.post("", sent)
    assert response.status_code == 400
    assert "entry 1" in diagnostics(response)
    assert written() == before


# ---- transaction: all or nothing ----------------------------------------------------------------------------


BAD_ENTRIES = {
    "invalid resource": (lambda ids: entry("POST", "Observation", observation(ids["alice"]) | {"status": 12,
                                                                                              "bogus": True}),
                         400),
    "wrong resource type for the url": (lambda ids: entry("POST", "Condition", observation(ids["alice"])), 400),
    "dangling reference": (lambda ids: entry("POST", "Observation", observation("no-such-patient")), 422),
    "dangling urn:uuid": (lambda ids: entry("POST", "Observation", observation("x") | {
        "subject": {"reference": "urn:uuid:99999999-9999-4999-8999-999999999999"}}), 422),
    "reference to a resource deleted in the bundle": (
        lambda ids: entry("POST", "Observation", observation(ids["alice"], encounter={
            "reference": f"Encounter/{ids['encounter']}"})), 422),
    "If-Match conflict": (lambda ids: entry("PUT", f"Observation/{ids['other']}", ids["other_body"],
                                            ifMatch='W/"7"'), 412),
    "delete of an unknown resource": (lambda ids: entry("DELETE", "Observation/no-such-thing"), 404),
    "unsupported resource type": (lambda ids: entry("POST", "Basic", {"resourceType": "Basic"}), 404),
    "read of an unknown resource": (lambda ids: entry("GET", "Patient/no-such-patient"), 404),
}


@pytest.mark.parametrize("case", sorted(BAD_ENTRIES))
def test_one_bad_entry_fails_the_whole_transaction_and_writes_nothing(api, cast, case):
    alice = cast["alice"].fhir_id
    obs = api.post("Observation", observation(alice)).json()
    other = api.post("Observation", observation(alice, code="8310-5")).json()
    enc = api.post("Encounter", encounter(f"Patient/{alice}")).json()
    ids = {"alice": alice, "other": other["id"], "other_body": other | {"status": "cancelled"},
           "encounter": enc["id"]}
    make_bad, status = BAD_ENTRIES[case]
    sent = bundle(
        "transaction",
        entry("POST", "Patient", patient(), full_url="urn:uuid:new-patient"),
        entry("PUT", f"Observation/{obs['id']}", obs | {"status": "amended"}),
        entry("DELETE", f"Encounter/{enc['id']}"),
        make_bad(ids),
        entry("POST", "Observation", observation("x") | {"subject": {"reference": "urn:uuid:new-patient"}}),
    )
    before = written()
    response = api.post("", sent)
    assert response.status_code == status, response.content
    assert "entry 3" in diagnostics(response)
    assert written() == before
    assert api.get(f"Observation/{obs['id']}").json() == obs
    assert api.get(f"Observation/{other['id']}").json() == other
    assert api.get(f"Encounter/{enc['id']}").json() == enc
    assert api.get("Patient?family=Doe").json()["total"] == 0


def test_invalid_resource_reports_which_element_is_wrong(api, cast):
    sent = bundle("transaction", entry("POST", "Patient", patient()),
                  entry("POST", "Observation", observation(cast["alice"].fhir_id) | {"status": 12}))
    response = api.post("", sent)
    assert response.status_code == 400
    issues = response.json()["issue"]
    assert any("Observation.status" in "".join(issue.get("expression", [])) for issue in issues), issues
    assert all("entry 1" in issue["diagnostics"] for issue in issues), issues


@pytest.mark.parametrize("scopes", [
    "system/*.rs system/Observation.cud",
    "system/*.read system/Observation.write",
])
def test_a_type_the_client_may_not_write_fails_the_transaction(cast, scopes):
    api = FhirClient(token=client_token(cast["ehr"], scopes))
    alice = cast["alice"].fhir_id
    sent = bundle("transaction", entry("POST", "Observation", observation(alice)),
                  entry("POST", "Patient", patient()))
    before = written()
    response = api.post("", sent)
    assert response.status_code == 403
    assert "entry 1" in diagnostics(response)
    assert written() == before


def test_the_audit_trail_cannot_be_written_through_a_transaction(api):
    event = {"resourceType": "AuditEvent", "type": {"code": "rest"}, "recorded": "2026-01-01T00:00:00Z",
             "agent": [{"requestor": True}], "source": {"observer": {"display": "x"}}}
    before = written()
    response = api.post("", bundle("transaction", entry("POST", "Patient", patient()),
                                   entry("POST", "AuditEvent", event)))
    assert response.status_code == 403
    assert written() == before


def test_a_failed_transaction_is_audited_as_a_failure(api, cast):
    before = len(audit_events())
    sent = bundle("transaction", entry("POST", "Patient", patient()),
                  entry("POST", "Observation", observation("no-such-patient")))
    assert api.post("", sent).status_code == 422
    new = audit_events()[before:]
    # The entries' own events went with the rollback; the transaction's failure stays on record.
    assert [e["subtype"][0]["code"] for e in new] == ["transaction"]
    assert new[0]["outcome"] == "4"
    assert "no-such-patient" in new[0]["outcomeDesc"]


def test_a_successful_transaction_audits_each_write(api):
    before = len(audit_events())
    sent = bundle("transaction", entry("POST", "Patient", patient(), full_url="urn:uuid:p"),
                  entry("POST", "Encounter", encounter("urn:uuid:p")))
    result = api.post("", sent).json()
    new = audit_events()[before:]
    assert sorted(e["subtype"][0]["code"] for e in new) == ["create", "create"]
    assert all(e["outcome"] == "0" for e in new)
    created = {f"{e['resource']['resourceType']}/{e['resource']['id']}/_history/1" for e in result["entry"]}
    audited = {ent["what"]["reference"] for e in new for ent in e["entity"] if ent["type"]["code"] == "2"}
    assert created <= audited


# ---- batch --------------------------------------------------------------------------------------------------


def test_batch_entries_succeed_or_fail_on_their_own(api, cast):
    alice = cast["alice"].fhir_id
    obs = api.post("Observation", observation(alice)).json()
    sent = bundle(
        "batch",
        entry("POST", "Observation", observation(alice, code="9279-1")),
        entry("POST", "Observation", observation(alice) | {"status": 12}),
        entry("PUT", f"Observation/{obs['id']}", obs | {"status": "cancelled"}, ifMatch='W/"9"'),
        entry("POST", "Observation", observation("no-such-patient")),
        entry("GET", "Patient/no-such-patient"),
        entry("PUT", f"Observation/{obs['id']}", obs | {"status": "amended"}, ifMatch='W/"1"'),
        entry("GET", f"Patient/{alice}"),
    )
    before = written()
    response = api.post("", sent)
    assert response.status_code == 200, response.content
    result = response.json()
    assert result["type"] == "batch-response"
    assert len(result["entry"]) == 7
    assert [status_code(e) for e in result["entry"]] == [201, 400, 412, 422, 404, 200, 200]
    for failed in (result["entry"][i] for i in (1, 2, 3, 4)):
        assert failed["response"]["outcome"]["resourceType"] == "OperationOutcome"
        assert "resource" not in failed
    assert "no-such-patient" in result["entry"][3]["response"]["outcome"]["issue"][0]["diagnostics"]
    created = result["entry"][0]["resource"]["id"]
    assert api.get(f"Observation/{created}").status_code == 200
    assert api.get(f"Observation/{obs['id']}").json()["status"] == "amended"
    assert result["entry"][5]["response"]["etag"] == 'W/"2"'
    assert written() == (before[0] + 1, before[1] + 2)


def test_refused_batch_entries_are_audited_as_failures(api):
    before = len(audit_events())
    sent = bundle("batch", entry("POST", "Observation", observation("no-such-patient")),
                  entry("POST", "Patient", patient()))
    result = api.post("", sent).json()
    assert [status_code(e) for e in result["entry"]] == [422, 201]
    new = audit_events()[before:]
    assert sorted((e["subtype"][0]["code"], e["outcome"]) for e in new) == [("create", "0"), ("create", "4")]


def test_batch_entries_do_not_see_each_others_full_urls(api):
    # Batch entries are independent: a urn:uuid reference to another entry resolves to nothing.
    sent = bundle("batch", entry("POST", "Patient", patient(), full_url="urn:uuid:p"),
                  entry("POST", "Encounter", encounter("urn:uuid:p")))
    result = api.post("", sent).json()
    assert [status_code(e) for e in result["entry"]] == [201, 422]


# ---- refused bundles ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["transaction", "batch"])
def test_a_bundle_over_the_entry_limit_is_413_and_writes_nothing(api, settings, kind):
    settings.FHIR_MAX_BUNDLE_ENTRIES = 3
    before = written()
    response = api.post("", bundle(kind, *[entry("POST", "Patient", patient()) for _ in range(4)]))
    assert response.status_code == 413
    assert response.json()["issue"][0]["code"] == "too-costly"
    assert written() == before
    assert api.post("", bundle(kind, *[entry("POST", "Patient", patient()) for _ in range(3)])).status_code == 200


BAD_BUNDLES = {
    "not a bundle": {"resourceType": "Patient", "name": [{"family": "Doe"}]},
    "a json list": [bundle("transaction", entry("POST", "Patient", patient()))],
    "collection": bundle("collection", entry("POST", "Patient", patient())),
    "searchset": bundle("searchset", entry("POST", "Patient", patient())),
    "no type": {"resourceType": "Bundle", "entry": [entry("POST", "Patient", patient())]},
    "no request": bundle("transaction", entry("POST", "Patient", patient()), {"resource": patient()}),
    "no method": bundle("transaction", {"request": {"url": "Patient"}, "resource": patient()}),
    "no url": bundle("transaction", {"request": {"method": "POST"}, "resource": patient()}),
    "unknown method": bundle("batch", {"request": {"method": "PATCH", "url": "Patient/1"}, "resource": patient()}),
    "entry not an object": bundle("transaction", "Patient"),
    "entries not a list": {"resourceType": "Bundle", "type": "transaction", "entry": {"request": {}}},
    "method not a string": bundle("transaction", {"request": {"method": ["POST"], "url": "Patient"}}),
    "url not a string": bundle("transaction", {"request": {"method": "GET", "url": 12}}),
    "ifMatch not a string": bundle("transaction", entry("PUT", "Patient/1", patient() | {"id": "1"}, ifMatch=1)),
    "fullUrl not a string": bundle("transaction", entry("POST", "Patient", patient()) | {"fullUrl": ["urn:x"]}),
}


@pytest.mark.parametrize("case", sorted(BAD_BUNDLES))
def test_malformed_bundles_are_400(api, case):
    before = written()
    response = api.post("", BAD_BUNDLES[case])
    assert response.status_code == 400, response.content
    assert response.json()["resourceType"] == "OperationOutcome"
    assert written() == before


def test_the_base_url_takes_only_post(api):
    assert api.get("").status_code == 405


def test_bundles_need_authentication(cast):
    response = FhirClient().post("", bundle("transaction", entry("POST", "Patient", patient())))
    assert response.status_code == 401
