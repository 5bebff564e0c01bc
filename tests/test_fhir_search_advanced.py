"""FHIR search beyond one parameter on one resource: composite parameters, _has, chains of several references,
_include:iterate and uri :above/:below (http://hl7.org/fhir/R4/search.html)."""

from __future__ import annotations

from io import StringIO
from urllib.parse import urlencode

import pytest
from django.core.management import call_command

from fhir.models import SearchIndex
from tests.support.fhir import FhirClient, make, observation

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite_pass]

LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
SYSTOLIC, DIASTOLIC, BLOOD_PRESSURE = "8480-6", "8462-4", "85354-9"


def search(api: FhirClient, resource_type: str, params: list[tuple[str, str]] | dict):
    return api.get(f"{resource_type}?{urlencode(params)}")


def bundle_of(api: FhirClient, resource_type: str, params: list[tuple[str, str]] | dict) -> dict:
    response = search(api, resource_type, params)
    assert response.status_code == 200, response.content
    return response.json()


def ids(bundle: dict, mode: str = "match") -> list[str]:
    return sorted(e["resource"]["id"] for e in bundle.get("entry", []) if e["search"]["mode"] == mode)


def found(api: FhirClient, resource_type: str, params: list[tuple[str, str]] | dict) -> list[str]:
    return ids(bundle_of(api, resource_type, params))


def refused(api: FhirClient, resource_type: str, params: list[tuple[str, str]] | dict) -> str:
    """The diagnostics of a 400 OperationOutcome."""
    response = search(api, resource_type, params)
    assert response.status_code == 400, response.content
    assert response.json()["resourceType"] == "OperationOutcome"
    return response.json()["issue"][0]["diagnostics"]


def concept(code: str, system: str = LOINC) -> dict:
    return {"coding": [{"system": system, "code": code}]}


def quantity(value: float, unit: str = "mm[Hg]") -> dict:
    return {"value": value, "unit": unit, "system": UCUM, "code": unit}


def valued(patient_id: str, code: str, **value) -> dict:
    """An observation of ``code`` whose value is the one given (valueString=..., valueDateTime=...), if any."""
    made = {k: v for k, v in observation(patient_id).items() if k != "valueQuantity"}
    return made | {"code": concept(code)} | value


def blood_pressure(patient_id: str, systolic: float, diastolic: float) -> dict:
    """A panel with no value of its own: its values are in its components."""
    return valued(patient_id, BLOOD_PRESSURE, component=[
        {"code": concept(SYSTOLIC), "valueQuantity": quantity(systolic)},
        {"code": concept(DIASTOLIC), "valueQuantity": quantity(diastolic)}])


def person(resource_type: str, family: str, **extra) -> dict:
    return {"resourceType": resource_type, "name": [{"family": family}], **extra}


def ref(resource_type: str, fhir_id: str) -> dict:
    return {"reference": f"{resource_type}/{fhir_id}"}


# ---- composite --------------------------------------------------------------------------------------------------


@pytest.fixture
def pressures(api, cast) -> dict[str, str]:
    """'high': systolic 150, diastolic 90. 'near miss': systolic 130, diastolic 150 (a value over 140, but not
    the systolic one)."""
    alice = cast["alice"].fhir_id
    return {"high": make(api, blood_pressure(alice, 150, 90)), "near miss": make(api, blood_pressure(alice, 130, 150))}


def test_component_code_and_value_must_match_in_the_same_component(api, pressures):
    assert found(api, "Observation", {"component-code-value-quantity": f"{LOINC}|{SYSTOLIC}$gt140"}) == [
        pressures["high"]]
    # The near miss has a systolic component and a value over 140, in two different components.
    assert found(api, "Observation", {"component-code-value-quantity": f"{SYSTOLIC}$ge150"}) == [pressures["high"]]
    assert found(api, "Observation", {"component-code-value-quantity": f"{DIASTOLIC}$gt140"}) == [
        pressures["near miss"]]
    assert found(api, "Observation", {"component-code-value-quantity": f"{SYSTOLIC}$lt100"}) == []


def test_composite_prefixes_units_and_or_values(api, pressures):
    both = sorted(pressures.values())
    query = "component-code-value-quantity"
    assert found(api, "Observation", {query: f"{SYSTOLIC}$150|{UCUM}|mm[Hg]"}) == [pressures["high"]]
    assert found(api, "Observation", {query: f"{SYSTOLIC}$150||mm[Hg]"}) == [pressures["high"]]
    assert found(api, "Observation", {query: f"{SYSTOLIC}$150|{UCUM}|kg"}) == []
    assert found(api, "Observation", {query: f"{SYSTOLIC}$ne150"}) == [pressures["near miss"]]
    assert found(api, "Observation", {query: f"{SYSTOLIC}$gt140,{DIASTOLIC}$gt140"}) == both
    assert found(api, "Observation", [(query, f"{SYSTOLIC}$gt100"), (query, f"{DIASTOLIC}$lt100")]) == [
        pressures["high"]]


def test_code_value_quantity_pairs_the_observation_code_with_its_own_value(api, cast, pressures):
    pulse = make(api, observation(cast["alice"].fhir_id, code="8867-4", value=72, unit="/min"))
    assert found(api, "Observation", {"code-value-quantity": f"{LOINC}|8867-4$72"}) == [pulse]
    assert found(api, "Observation", {"code-value-quantity": "8867-4$gt100"}) == []
    # Components are not the observation's own value: a blood pressure has none.
    assert found(api, "Observation", {"code-value-quantity": f"{BLOOD_PRESSURE}$gt0"}) == []
    assert found(api, "Observation", {"code-value-quantity": f"{SYSTOLIC}$150"}) == []


def test_combo_code_value_quantity_looks_at_the_observation_and_its_components(api, cast, pressures):
    pulse = make(api, observation(cast["alice"].fhir_id, code="8867-4", value=150, unit="/min"))
    assert found(api, "Observation", {"combo-code-value-quantity": "8867-4$150,8480-6$150"}) == sorted(
        [pulse, pressures["high"]])
    assert found(api, "Observation", {"combo-code-value-quantity": "8867-4$130"}) == []


def test_code_value_concept_date_and_string(api, cast):
    alice = cast["alice"].fhir_id
    smoker = make(api, valued(alice, "72166-2", valueCodeableConcept=concept("8517006", "http://snomed.info/sct")))
    dated = make(api, valued(alice, "21112-8", valueDateTime="2024-03-01"))
    positive = make(api, valued(alice, "94500-6", valueString="Positive"))
    assert found(api, "Observation", {"code-value-concept": "72166-2$http://snomed.info/sct|8517006"}) == [smoker]
    assert found(api, "Observation", {"code-value-concept": "72166-2$8517006"}) == [smoker]
    assert found(api, "Observation", {"code-value-concept": "72166-2$266919005"}) == []
    assert found(api, "Observation", {"code-value-concept": "8517006$72166-2"}) == []  # the order matters
    assert found(api, "Observation", {"code-value-date": "21112-8$ge2024-01-01"}) == [dated]
    assert found(api, "Observation", {"code-value-date": "21112-8$lt2024"}) == []
    assert found(api, "Observation", {"code-value-string": "94500-6$pos"}) == [positive]
    assert found(api, "Observation", {"code-value-string": "94500-6$neg"}) == []
    assert found(api, "Observation", {"code-value-string": "72166-2$pos"}) == []


def test_document_relationship_pairs_the_target_with_its_relation(api, cast):
    alice = cast["alice"].fhir_id

    def document(*relates: dict) -> str:
        return make(api, {"resourceType": "DocumentReference", "status": "current", "subject": ref("Patient", alice),
                          "content": [{"attachment": {"contentType": "text/plain"}}], "relatesTo": list(relates)})

    first, second = document(), document()
    replacing = document({"code": "replaces", "target": ref("DocumentReference", first)},
                         {"code": "appends", "target": ref("DocumentReference", second)})
    assert found(api, "DocumentReference", {"relationship": f"DocumentReference/{first}$replaces"}) == [replacing]
    assert found(api, "DocumentReference", {"relationship": f"{second}$appends"}) == [replacing]
    assert found(api, "DocumentReference", {"relationship": f"DocumentReference/{first}$appends"}) == []


def test_composite_missing(api, cast, pressures):
    pulse = make(api, observation(cast["alice"].fhir_id))
    assert found(api, "Observation", {"component-code-value-quantity:missing": "true"}) == [pulse]
    assert found(api, "Observation", {"component-code-value-quantity:missing": "false"}) == sorted(
        pressures.values())


@pytest.mark.parametrize("params", [
    pytest.param({"component-code-value-quantity": SYSTOLIC}, id="one-component"),
    pytest.param({"component-code-value-quantity": f"{SYSTOLIC}$1$2"}, id="three-components"),
    pytest.param({"component-code-value-quantity": f"{SYSTOLIC}$"}, id="empty-value"),
    pytest.param({"component-code-value-quantity": f"{SYSTOLIC}$high"}, id="value-not-a-number"),
    pytest.param({"code-value-date": "1234-5$yesterday"}, id="value-not-a-date"),
    pytest.param({"component-code-value-quantity:not": f"{SYSTOLIC}$1"}, id="modifier"),
    pytest.param({"_sort": "code-value-quantity"}, id="sort"),
])
def test_malformed_composite_is_400(api, params):
    refused(api, "Observation", params)


def test_reindex_rebuilds_the_rows_of_a_database_indexed_before_composites(api, cast, pressures):
    observation_rows = SearchIndex.objects.filter(resource__resource_type="Observation")
    rows_before = sorted(observation_rows.values_list("resource", "param", "system", "code", "value", "number"))
    SearchIndex.objects.filter(param__in=["component-code-value-quantity", "combo-code-value-quantity"]).delete()
    query = {"component-code-value-quantity": f"{SYSTOLIC}$gt140"}
    assert found(api, "Observation", query) == []
    out = StringIO()
    call_command("fhir_reindex", "--type", "Observation", "--batch-size", "1", stdout=out)
    assert out.getvalue().strip() == "reindexed 2 resources"
    assert found(api, "Observation", query) == [pressures["high"]]
    assert sorted(observation_rows.values_list("resource", "param", "system", "code", "value", "number")) == \
        rows_before
    call_command("fhir_reindex", stdout=StringIO())  # every type, audit events too
    every_row = SearchIndex.objects.count()
    call_command("fhir_reindex", stdout=StringIO())  # and again: the same rows
    assert SearchIndex.objects.count() == every_row


# ---- _has -------------------------------------------------------------------------------------------------------


def test_has_finds_patients_by_what_points_at_them(api, cast):
    alice, bob = cast["alice"].fhir_id, cast["bob"].fhir_id
    make(api, observation(alice, code="1234-5"))
    make(api, observation(bob, code="9999-9"))
    # Bob is only the focus of a 1234-5 observation, not its patient: not a match.
    make(api, observation(alice, code="1234-5", focus=[ref("Patient", bob)]))
    assert found(api, "Patient", {"_has:Observation:patient:code": "1234-5"}) == [alice]
    assert found(api, "Patient", {"_has:Observation:patient:code": "1234-5,9999-9"}) == sorted([alice, bob])
    assert found(api, "Patient", {"_has:Observation:focus:code": "1234-5"}) == [bob]
    assert found(api, "Patient", {"_has:Observation:patient:code:not": "1234-5"}) == [bob]
    assert found(api, "Patient", {"_has:Observation:patient:code": "0000-0"}) == []


def test_nested_has(api, cast):
    alice, bob = cast["alice"].fhir_id, cast["bob"].fhir_id
    carol, dave = cast["carol"].fhir_id, cast["dave"].fhir_id
    for patient_id, practitioner in ((alice, carol), (bob, dave)):
        seen = make(api, observation(patient_id))
        make(api, {"resourceType": "Provenance", "recorded": "2024-01-01T00:00:00Z",
                   "target": [ref("Observation", seen)], "agent": [{"who": ref("Practitioner", practitioner)}]})
    query = "_has:Observation:patient:_has:Provenance:target:agent"
    assert found(api, "Patient", {query: f"Practitioner/{carol}"}) == [alice]
    assert found(api, "Patient", {query: f"Practitioner/{dave}"}) == [bob]


def test_has_sees_only_what_the_requester_may_see(api, cast):
    alice, bob = cast["alice"].fhir_id, cast["bob"].fhir_id
    lab, other_lab = make(api, person("Practitioner", "Lab")), make(api, person("Practitioner", "Other"))
    make(api, observation(bob, code="1234-5", performer=[ref("Practitioner", lab)]))
    make(api, observation(alice, code="1234-5", performer=[ref("Practitioner", other_lab)]))
    query = {"_has:Observation:performer:code": "1234-5"}
    assert found(api, "Practitioner", query) == sorted([lab, other_lab])
    carol = FhirClient(user=cast["carol"])  # on alice's care team, not bob's
    assert found(carol, "Practitioner", query) == [other_lab]


def test_has_does_not_see_what_is_not_released_to_the_patient(api, cast):
    alice = cast["alice"].fhir_id
    make(api, observation(alice, code="1234-5", status="preliminary"))
    make(api, observation(alice, code="2222-2", status="final"))
    as_alice = FhirClient(user=cast["alice"])
    assert found(api, "Patient", {"_has:Observation:patient:code": "1234-5"}) == [alice]
    assert found(as_alice, "Patient", {"_has:Observation:patient:code": "1234-5"}) == []
    assert found(as_alice, "Patient", {"_has:Observation:patient:code": "2222-2"}) == [alice]


@pytest.mark.parametrize("name", [
    "_has:Observation:patient", "_has:Observation:code:code", "_has:Nothing:patient:code",
    "_has:Observation:patient:colour", "_has:Observation:performer:code:sideways",
    "_has:Observation:device:code",  # an Observation's device is never a Patient
])
def test_malformed_has_is_400(api, cast, name):
    refused(api, "Patient", {name: "1234-5"})


# ---- chains of several references -------------------------------------------------------------------------------


@pytest.fixture
def practice(api, cast) -> dict[str, str]:
    """Harbour Clinic (part of Harbour Health), Dr Moss, and a patient of both with an observation and a report;
    a second patient at another clinic; bob, the focus of one of alice's observations, is registered at Harbour."""
    parent = make(api, {"resourceType": "Organization", "name": "Harbour Health"})
    clinic = make(api, {"resourceType": "Organization", "name": "Harbour Clinic", "partOf": ref("Organization",
                                                                                               parent)})
    elsewhere = make(api, {"resourceType": "Organization", "name": "Valley Clinic"})
    moss = make(api, person("Practitioner", "Moss"))
    registered = make(api, person("Patient", "Quist", managingOrganization=ref("Organization", clinic),
                                  generalPractitioner=[ref("Practitioner", moss)]))
    other = make(api, person("Patient", "Other", managingOrganization=ref("Organization", elsewhere)))
    report = make(api, {"resourceType": "DiagnosticReport", "status": "final", "code": concept("58410-2"),
                        "subject": ref("Patient", registered)})
    api.put(f"Patient/{cast['bob'].fhir_id}", api.get(f"Patient/{cast['bob'].fhir_id}").json() | {
        "managingOrganization": ref("Organization", clinic)})
    return {"clinic": clinic, "moss": moss, "report": report, "observation": make(api, observation(registered)),
            "other": make(api, observation(other)),
            "about bob": make(api, observation(cast["alice"].fhir_id, focus=[ref("Patient", cast["bob"].fhir_id)]))}


def test_two_level_chain(api, practice):
    assert found(api, "Observation", {"patient.organization.name": "harbour"}) == [practice["observation"]]
    assert found(api, "Observation", {"patient.organization.name": "valley"}) == [practice["other"]]
    assert found(api, "Observation", {"subject:Patient.organization:Organization.name": "harbour"}) == [
        practice["observation"]]
    assert found(api, "Observation", {"patient.organization.name": "nowhere"}) == []


def test_chain_with_types_at_every_level_and_inferred_ones(api, practice):
    report = [practice["report"]]
    assert found(api, "DiagnosticReport", {"subject:Patient.general-practitioner:Practitioner.name": "moss"}) == report
    # Of a report subject's types only a Patient has a general practitioner: the type can be left out.
    assert found(api, "DiagnosticReport", {"subject.general-practitioner:Practitioner.name": "moss"}) == report
    assert found(api, "DiagnosticReport", {"subject.general-practitioner:Practitioner.name": "quist"}) == []
    # A general practitioner may be an Organization or a Practitioner, and both have a name: the chain goes
    # through both, as if each were asked with its :Type and the answers OR-ed.
    assert found(api, "DiagnosticReport", {"subject.general-practitioner.name": "moss"}) == report


def test_a_chain_without_a_type_goes_through_every_type_that_has_the_parameter(api, practice):
    partners = make(api, {"resourceType": "Organization", "name": "Moss Partners"})
    patient = make(api, person("Patient", "Lind", generalPractitioner=[ref("Organization", partners)]))
    other_report = make(api, {"resourceType": "DiagnosticReport", "status": "final", "code": concept("58410-2"),
                              "subject": ref("Patient", patient)})
    both = sorted([practice["report"], other_report])
    assert sorted(found(api, "DiagnosticReport", {"subject.general-practitioner.name": "moss"})) == both
    assert found(api, "DiagnosticReport", {"subject.general-practitioner:Practitioner.name": "moss"}) == [
        practice["report"]]
    assert found(api, "DiagnosticReport", {"subject.general-practitioner:Organization.name": "moss"}) == [
        other_report]
    assert found(api, "DiagnosticReport", {"subject.general-practitioner.name": "nobody"}) == []
    # An Observation's subject may be a Patient, Group, Device or Location: name goes through those that have it.
    assert found(api, "Observation", {"subject.name": "quist"}) == [practice["observation"]]


def test_a_chain_through_too_many_types_is_refused(api, practice):
    # A Provenance's target may be any type, and most have a patient parameter: name them instead.
    assert "combinations of types" in refused(api, "Provenance", {"target.patient.name": "quist"})
    assert "no type" in refused(api, "DiagnosticReport", {"subject.colour": "x"})


def test_three_levels_and_no_more(api, practice):
    assert found(api, "Observation", {"patient.organization.partof.name": "harbour health"}) == [
        practice["observation"]]
    assert "at most 3" in refused(api, "Observation", {"patient.organization.partof.partof.name": "x"})
    assert "at most 3" in refused(api, "Organization", {
        "_has:Patient:organization:_has:Observation:patient:_has:Provenance:target:_has:AuditEvent:entity:type": "x"})
    assert "at most 3" in refused(api, "Observation", {"patient._has:Observation:patient:patient.organization.name":
                                                       "x"})


def test_a_chain_does_not_look_through_what_the_requester_cannot_see(api, cast, practice):
    query = {"focus:Patient.organization.name": "harbour"}
    assert found(api, "Observation", query) == [practice["about bob"]]
    carol = FhirClient(user=cast["carol"])  # sees alice's observation, not bob
    assert practice["about bob"] in found(carol, "Observation", {})
    assert found(carol, "Observation", query) == []


def test_has_and_chain_combined(api, practice):
    assert found(api, "Organization", {"_has:Patient:organization:_has:Observation:patient:_id":
                                       practice["observation"]}) == [practice["clinic"]]
    assert found(api, "Practitioner", {"_has:Patient:general-practitioner:organization.name": "harbour"}) == [
        practice["moss"]]


# ---- _include:iterate -------------------------------------------------------------------------------------------


@pytest.fixture
def hierarchy(api, cast) -> dict[str, str]:
    """alice's observation -> her Patient -> Ward (part of Hospital, part of Trust)."""
    trust = make(api, {"resourceType": "Organization", "name": "Trust"})
    hospital = make(api, {"resourceType": "Organization", "name": "Hospital", "partOf": ref("Organization", trust)})
    ward = make(api, {"resourceType": "Organization", "name": "Ward", "partOf": ref("Organization", hospital)})
    patient = make(api, person("Patient", "Inpatient", managingOrganization=ref("Organization", ward)))
    return {"observation": make(api, observation(patient)), "patient": patient, "ward": ward, "hospital": hospital,
            "trust": trust}


def test_include_iterate_follows_references_to_a_fixed_point(api, hierarchy):
    query = [("_id", hierarchy["observation"]), ("_include", "Observation:patient"),
             ("_include:iterate", "Patient:organization"), ("_include:iterate", "Organization:partof")]
    bundle = bundle_of(api, "Observation", query)
    assert ids(bundle) == [hierarchy["observation"]]
    assert ids(bundle, "include") == sorted(hierarchy[k] for k in ("patient", "ward", "hospital", "trust"))
    plain = [("_id", hierarchy["observation"]), ("_include", "Observation:patient")]
    assert ids(bundle_of(api, "Observation", plain), "include") == [hierarchy["patient"]]


def test_include_recurse_is_the_older_name_of_iterate(api, hierarchy):
    query = [("_id", hierarchy["ward"]), ("_include:recurse", "Organization:partof")]
    assert ids(bundle_of(api, "Organization", query), "include") == sorted([hierarchy["hospital"], hierarchy["trust"]])


def test_include_iterate_stops_on_a_cycle(api):
    first = make(api, {"resourceType": "Organization", "name": "First"})
    second = make(api, {"resourceType": "Organization", "name": "Second", "partOf": ref("Organization", first)})
    api.put(f"Organization/{first}", {"resourceType": "Organization", "id": first, "name": "First",
                                      "partOf": ref("Organization", second)})
    bundle = bundle_of(api, "Organization", [("_id", first), ("_include:iterate", "Organization:partof")])
    assert ids(bundle) == [first] and ids(bundle, "include") == [second]


def test_revinclude_iterate(api, cast, hierarchy):
    provenance = make(api, {"resourceType": "Provenance", "recorded": "2024-01-01T00:00:00Z",
                            "target": [ref("Observation", hierarchy["observation"])],
                            "agent": [{"who": ref("Practitioner", cast["carol"].fhir_id)}]})
    query = [("_id", hierarchy["patient"]), ("_revinclude", "Observation:patient"),
             ("_revinclude:iterate", "Provenance:target")]
    assert ids(bundle_of(api, "Patient", query), "include") == sorted([hierarchy["observation"], provenance])
    query = [("_id", hierarchy["trust"]), ("_revinclude:iterate", "Organization:partof")]
    assert ids(bundle_of(api, "Organization", query), "include") == sorted([hierarchy["hospital"], hierarchy["ward"]])


def test_include_iterate_never_shows_what_the_requester_cannot_see(api, cast):
    alice, bob = cast["alice"].fhir_id, cast["bob"].fhir_id
    bobs = make(api, observation(bob))
    middle = make(api, observation(alice, focus=[ref("Observation", bobs)]))
    start = make(api, observation(alice, focus=[ref("Observation", middle)]))
    query = [("_id", start), ("_include:iterate", "Observation:focus")]
    assert ids(bundle_of(api, "Observation", query), "include") == sorted([middle, bobs])
    as_alice = bundle_of(FhirClient(user=cast["alice"]), "Observation", query)
    assert ids(as_alice) == [start] and ids(as_alice, "include") == [middle]


def test_malformed_iterate_is_400(api):
    refused(api, "Observation", {"_include:iterate": "Patient:name"})
    refused(api, "Observation", {"_include:iterate": "Nothing:subject"})


# ---- uri :above and :below --------------------------------------------------------------------------------------


@pytest.fixture
def located(api, cast) -> dict[str, str]:
    def document(url: str) -> str:
        return make(api, {"resourceType": "DocumentReference", "status": "current",
                          "subject": ref("Patient", cast["alice"].fhir_id),
                          "content": [{"attachment": {"url": url}}]})

    return {name: document(url) for name, url in {
        "root": "http://acme.org/fhir", "one": "http://acme.org/fhir/docs/1", "two": "http://acme.org/fhir/docs/2",
        "sibling": "http://acme.org/fhirx/docs/3", "upper": "http://acme.org/FHIR/docs/4"}.items()}


@pytest.mark.parametrize(("value", "expected"), [
    ("location", {"http://acme.org/fhir": ["root"], "http://acme.org/fhir/docs": []}),
    ("location:below", {"http://acme.org/fhir": ["root", "one", "two"], "http://acme.org/fhir/": ["one", "two"],
                        "http://acme.org/fhir/docs/1": ["one"], "http://acme.org/fh": [],
                        "http://acme.org/FHIR": ["upper"]}),
    ("location:above", {"http://acme.org/fhir/docs/1/_history/2": ["root", "one"],
                        "http://acme.org/fhir/docs": ["root"], "http://acme.org/fhirx/docs/3": ["sibling"],
                        "http://acme.org": []}),
])
def test_uri_above_and_below_go_by_path_segment_and_keep_case(api, located, value, expected):
    for uri, names in expected.items():
        assert found(api, "DocumentReference", {value: uri}) == sorted(located[n] for n in names), uri


def test_above_and_below_on_a_token_are_still_refused(api):
    refused(api, "Observation", {"code:below": "8867"})


def test_capability_statement_lists_composite_parameters(api):
    observation_entry = next(r for r in api.get("metadata").json()["rest"][0]["resource"]
                             if r["type"] == "Observation")
    params = {p["name"]: p["type"] for p in observation_entry["searchParam"]}
    assert params["component-code-value-quantity"] == params["code-value-quantity"] == "composite"
