"""_text and _content: words in a resource's narrative or in any of its string values (fhir/search/text.py)."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest

from tests.support.fhir import FhirClient, condition, make, observation

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite_pass]


def found(api: FhirClient, resource_type: str, params: dict) -> list[str]:
    response = api.get(f"{resource_type}?{urlencode(params)}")
    assert response.status_code == 200, response.content
    return sorted(e["resource"]["id"] for e in response.json().get("entry", []))


def refused(api: FhirClient, resource_type: str, params: dict, status: int = 400) -> str:
    response = api.get(f"{resource_type}?{urlencode(params)}")
    assert response.status_code == status, response.content
    assert response.json()["resourceType"] == "OperationOutcome"
    return response.json()["issue"][0]["diagnostics"]


def narrative(xhtml: str) -> dict:
    return {"status": "generated", "div": f'<div xmlns="http://www.w3.org/1999/xhtml">{xhtml}</div>'}


@pytest.fixture
def notes(api, cast) -> dict[str, str]:
    alice, bob = cast["alice"].fhir_id, cast["bob"].fhir_id
    return {
        "asthma": make(api, condition(alice, text="Asthma, moderate persistent") | {
            "text": narrative("<p>Moderate <b>persistent</b> asthma since childhood</p>")}),
        "eczema": make(api, condition(alice, code="43116000", text="Eczema of the hands") | {
            "text": narrative("<table><tr><td>Eczema, Müller clinic</td></tr></table>")}),
        "bob's": make(api, condition(bob, text="Asthma, mild intermittent")),
        "glucose": make(api, observation(alice, code="2339-0", value=5.4, unit="mmol/L",
                                         note=[{"text": "Fasting glucose, taken at home_meter"}])),
    }


def test_text_finds_words_in_the_narrative_not_in_its_tags(api, notes):
    assert found(api, "Condition", {"_text": "persistent"}) == [notes["asthma"]]
    assert found(api, "Condition", {"_text": "CHILDHOOD"}) == [notes["asthma"]]  # any case
    assert found(api, "Condition", {"_text": "asthma childhood"}) == [notes["asthma"]]  # every word
    assert found(api, "Condition", {"_text": "asthma eczema"}) == []
    assert sorted(found(api, "Condition", {"_text": "childhood,eczema"})) == sorted([notes["asthma"],
                                                                                    notes["eczema"]])
    assert found(api, "Condition", {"_text": "mild"}) == []  # bob's condition has no narrative: code.text is not it
    for tag in ("div", "table", "xhtml", "td"):
        assert found(api, "Condition", {"_text": tag}) == [], tag
    assert found(api, "Condition", {"_text": "müller"}) == [notes["eczema"]]  # beyond ASCII, any case too


def test_content_finds_words_in_any_string_but_not_element_names(api, cast, notes):
    assert sorted(found(api, "Condition", {"_content": "asthma"})) == sorted([notes["asthma"], notes["bob's"]])
    assert found(api, "Condition", {"_content": "intermittent"}) == [notes["bob's"]]
    assert found(api, "Observation", {"_content": "fasting"}) == [notes["glucose"]]
    assert found(api, "Observation", {"_content": "home_meter"}) == [notes["glucose"]]  # _ is no wildcard
    assert found(api, "Observation", {"_content": "home meter"}) == [notes["glucose"]]
    assert found(api, "Observation", {"_content": "homexmeter"}) == []
    assert found(api, "Observation", {"_content": "2339"}) == [notes["glucose"]]  # codes are strings too
    for name in ("valueQuantity", "subject", "coding", "resourceType"):
        assert found(api, "Observation", {"_content": name}) == [], name
    # With other criteria, as narrowing.
    alice = f"Patient/{cast['alice'].fhir_id}"
    assert found(api, "Condition", {"_content": "asthma", "subject": alice}) == [notes["asthma"]]


def test_text_and_content_keep_to_what_the_requester_may_see(cast, notes):
    as_alice = FhirClient(user=cast["alice"])
    assert found(as_alice, "Condition", {"_content": "asthma"}) == [notes["asthma"]]
    as_dave = FhirClient(user=cast["dave"])  # a clinician on nobody's care team
    assert found(as_dave, "Condition", {"_content": "asthma"}) == []


def test_through_a_chain_and_has(api, cast, notes):
    api.put(f"Patient/{cast['bob'].fhir_id}", api.get(f"Patient/{cast['bob'].fhir_id}").json() | {
        "text": narrative("<p>Prefers morning appointments</p>")})
    assert found(api, "Condition", {"subject:Patient._text": "morning"}) == [notes["bob's"]]
    assert found(api, "Patient", {"_has:Condition:subject:_content": "eczema"}) == [cast["alice"].fhir_id]


@pytest.mark.parametrize("params, message, status", [
    ({"_content": "%"}, "no word", 400),
    ({"_text": "--"}, "no word", 400),
    ({"_content": " ".join(["w"] * 11)}, "at most 10 words", 413),  # too-costly, as too many values are
    ({"_text:exact": "asthma"}, "not supported", 400),
    ({"_content:missing": "true"}, "not supported", 400),
    ({"_sort": "_text"}, "cannot sort", 400),
])
def test_malformed_values_are_refused(api, notes, params, message, status):
    assert message in refused(api, "Condition", params, status)


def test_the_capability_statement_lists_them(api):
    statement = api.get("metadata").json()
    condition_entry = next(r for r in statement["rest"][0]["resource"] if r["type"] == "Condition")
    assert {"name": "_text", "type": "special"} in condition_entry["searchParam"]
    assert {"name": "_content", "type": "special"} in condition_entry["searchParam"]
