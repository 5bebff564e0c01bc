"""FHIR search through the REST API, parameter type by parameter type, against http://hl7.org/fhir/R4/search.html."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode, urlsplit

import pytest

from tests.support.fhir import FhirClient, condition, make, observation

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite_pass]

FORM = "application/x-www-form-urlencoded"
UCUM = "http://unitsofmeasure.org"


# ---- helpers ----------------------------------------------------------------------------------------------------


def get(api: FhirClient, resource_type: str, params: list[tuple[str, str]] | dict, **headers: str):
    """GET [type]?params, every value percent-encoded as a real client would ('+' becomes %2B)."""
    return api.get(f"{resource_type}?{urlencode(params)}", **headers)


def bundle_of(api: FhirClient, resource_type: str, params: list[tuple[str, str]] | dict, **headers: str) -> dict:
    response = get(api, resource_type, params, **headers)
    assert response.status_code == 200, response.content
    bundle = response.json()
    assert bundle["resourceType"] == "Bundle" and bundle["type"] == "searchset"
    return bundle


def ids(bundle: dict, mode: str = "match") -> list[str]:
    return [e["resource"]["id"] for e in bundle.get("entry", []) if e["search"]["mode"] == mode]


def found(api: FhirClient, resource_type: str, params: list[tuple[str, str]] | dict) -> list[str]:
    """The ids of the matches, in the order the server returned them."""
    return ids(bundle_of(api, resource_type, params))


def follow(api: FhirClient, url: str) -> dict:
    parts = urlsplit(url)
    response = api.get(f"{parts.path}?{parts.query}")
    assert response.status_code == 200, response.content
    return response.json()


def link(bundle: dict, relation: str) -> str | None:
    return next((item["url"] for item in bundle.get("link", []) if item["relation"] == relation), None)


def patient(family: str | None = None, given: list[str] | None = None, **extra) -> dict:
    name = {k: v for k, v in (("family", family), ("given", given)) if v}
    return {"resourceType": "Patient", **({"name": [name]} if name else {}), **extra}


def coded(patient_id: str, system: str, code: str, **extra) -> dict:
    return observation(patient_id, **extra) | {"code": {"coding": [{"system": system, "code": code}]}}


# ---- token ------------------------------------------------------------------------------------------------------


def test_token_code_alone_matches_that_code_in_any_system(api, cast):
    loinc = make(api, observation(cast["alice"].fhir_id, code="8867-4"))
    other_system = make(api, coded(cast["alice"].fhir_id, "http://example.org/codes", "8867-4"))
    make(api, observation(cast["alice"].fhir_id, code="2339-0"))
    assert sorted(found(api, "Observation", {"code": "8867-4"})) == sorted([loinc, other_system])


def test_token_system_and_code_must_both_match(api, cast):
    loinc = make(api, observation(cast["alice"].fhir_id, code="8867-4"))
    make(api, coded(cast["alice"].fhir_id, "http://example.org/codes", "8867-4"))
    make(api, observation(cast["alice"].fhir_id, code="2339-0"))
    assert found(api, "Observation", {"code": "http://loinc.org|8867-4"}) == [loinc]


@pytest.fixture
def identified(api, cast) -> dict[str, str]:
    """Observations identified as urn:lab|A-1, (no system)|A-1, urn:other|A-1 and urn:lab|B-2."""
    def with_identifier(**identifier: str) -> str:
        return make(api, observation(cast["alice"].fhir_id, identifier=[identifier]))

    return {"lab A-1": with_identifier(system="urn:lab", value="A-1"), "A-1": with_identifier(value="A-1"),
            "other A-1": with_identifier(system="urn:other", value="A-1"),
            "lab B-2": with_identifier(system="urn:lab", value="B-2")}


@pytest.mark.parametrize(("value", "expected"), [
    ("A-1", ["lab A-1", "A-1", "other A-1"]),
    ("urn:lab|A-1", ["lab A-1"]),
    ("|A-1", ["A-1"]),
    ("urn:lab|", ["lab A-1", "lab B-2"]),
    ("urn:nowhere|A-1", []),
])
def test_identifier_token_forms_code_system_code_no_system_and_system_only(api, identified, value, expected):
    assert sorted(found(api, "Observation", {"identifier": value})) == sorted(identified[e] for e in expected)


def test_token_not_excludes_the_value_and_keeps_resources_without_one(api, cast):
    female = make(api, patient("Female", gender="female"))
    male = make(api, patient("Male", gender="male"))
    alice = cast["alice"].fhir_id  # no gender recorded
    result = found(api, "Patient", [("gender:not", "male"), ("_id", f"{female},{male},{alice}")])
    assert sorted(result) == sorted([female, alice])


def test_token_text_searches_concept_text_and_coding_display(api, cast):
    hypertension = make(api, condition(cast["alice"].fhir_id) | {"code": {
        "coding": [{"system": "http://snomed.info/sct", "code": "59621000", "display": "Essential hypertension"}],
        "text": "High blood pressure"}})
    asthma = make(api, condition(cast["alice"].fhir_id, code="195967001", text="Asthma"))
    assert found(api, "Condition", {"code:text": "high blood"}) == [hypertension]
    assert found(api, "Condition", {"code:text": "ESSENTIAL"}) == [hypertension]
    assert found(api, "Condition", {"code:text": "asth"}) == [asthma]
    assert found(api, "Condition", {"code": "Asthma"}) == []  # the text is not a code


def test_patient_identifier_finds_the_patient_by_system_and_value(api, cast):
    result = found(api, "Patient", {"identifier": "https://continuum.health/fhir/sid/username|alice"})
    assert result == [cast["alice"].fhir_id]


def test_boolean_token_active_matches_true_and_false(api, cast):
    inactive = make(api, patient("Gone", active=False))
    active = make(api, patient("Here", active=True))
    assert found(api, "Patient", {"active": "false"}) == [inactive]
    assert sorted(found(api, "Patient", {"active": "true"})) == sorted(
        [active, cast["alice"].fhir_id, cast["bob"].fhir_id])


def test_code_token_gender_matches_exactly_that_code(api, cast):
    female = make(api, patient("Female", gender="female"))
    make(api, patient("Male", gender="male"))
    make(api, patient("Unknown", gender="unknown"))
    assert found(api, "Patient", {"gender": "female"}) == [female]


# ---- string -----------------------------------------------------------------------------------------------------


@pytest.fixture
def people(api) -> dict[str, str]:
    return {"Müller": make(api, patient("Müller", ["Anna"])), "Smith": make(api, patient("Smith", ["John"])),
            "Goldsmith": make(api, patient("Goldsmith", ["Eve", "Johanna"]))}


def test_string_search_is_starts_with_and_case_insensitive(api, people):
    assert found(api, "Patient", {"family": "smi"}) == [people["Smith"]]
    assert found(api, "Patient", {"family": "SMITH"}) == [people["Smith"]]
    assert found(api, "Patient", {"family": "mith"}) == []


def test_string_search_ignores_accents(api, people):
    assert found(api, "Patient", {"family": "muller"}) == [people["Müller"]]
    assert found(api, "Patient", {"family": "MÜLL"}) == [people["Müller"]]


def test_string_exact_matches_the_whole_value_with_case_and_accents(api, people):
    assert found(api, "Patient", {"family:exact": "Müller"}) == [people["Müller"]]
    assert found(api, "Patient", {"family:exact": "Muller"}) == []
    assert found(api, "Patient", {"family:exact": "müller"}) == []
    assert found(api, "Patient", {"family:exact": "Müll"}) == []


def test_string_contains_matches_anywhere_in_the_value(api, people):
    assert sorted(found(api, "Patient", {"family:contains": "SMITH"})) == sorted(
        [people["Smith"], people["Goldsmith"]])
    assert found(api, "Patient", {"family:contains": "ull"}) == [people["Müller"]]


def test_human_name_parts_are_searched_by_family_given_and_name(api, cast, people):
    assert found(api, "Patient", {"given": "anna"}) == [people["Müller"]]
    assert sorted(found(api, "Patient", {"given": "jo"})) == sorted([people["Smith"], people["Goldsmith"]])
    assert found(api, "Patient", {"given": "smith"}) == []
    assert found(api, "Patient", {"name": "gold"}) == [people["Goldsmith"]]
    assert found(api, "Patient", {"name": "eve"}) == [people["Goldsmith"]]
    assert found(api, "Patient", {"name": "alic"}) == [cast["alice"].fhir_id]  # HumanName.text


def test_escaped_comma_is_part_of_the_value_not_a_separator(api):
    flat = make(api, patient("Flat", address=[{"line": ["Flat 1, Harbour View"]}]))
    road = make(api, patient("Road", address=[{"line": ["Harbour Road"]}]))
    assert found(api, "Patient", {"address": "flat 1\\, harbour"}) == [flat]
    assert sorted(found(api, "Patient", {"address": "flat 1,harbour"})) == sorted([flat, road])


def test_escaped_pipe_is_part_of_a_token_code(api, cast):
    piped = make(api, observation(cast["alice"].fhir_id, identifier=[{"system": "urn:lab", "value": "A|B"}]))
    assert found(api, "Observation", {"identifier": "A\\|B"}) == [piped]
    assert found(api, "Observation", {"identifier": "urn:lab|A\\|B"}) == [piped]


# ---- reference --------------------------------------------------------------------------------------------------


@pytest.fixture
def records(api, cast) -> dict[str, str]:
    """An observation for alice and one for bob."""
    return {"alice": make(api, observation(cast["alice"].fhir_id)), "bob": make(api, observation(cast["bob"].fhir_id))}


def test_reference_by_type_and_id(api, cast, records):
    assert found(api, "Observation", {"subject": f"Patient/{cast['alice'].fhir_id}"}) == [records["alice"]]


def test_reference_by_bare_id(api, cast, records):
    assert found(api, "Observation", {"patient": cast["bob"].fhir_id}) == [records["bob"]]


def test_reference_by_absolute_url_on_this_server(api, cast, records):
    url = f"http://localhost/fhir/Patient/{cast['alice'].fhir_id}"
    assert found(api, "Observation", {"subject": url}) == [records["alice"]]


def test_reference_type_modifier_restricts_the_target_type(api, cast, records):
    assert found(api, "Observation", {"subject:Patient": cast["alice"].fhir_id}) == [records["alice"]]
    assert found(api, "Observation", {"subject:Device": cast["alice"].fhir_id}) == []


@pytest.fixture
def zebedee(api) -> tuple[str, str]:
    """A patient named Zebedee Quist born 1980-05-05, and an observation about him."""
    zebedee = make(api, patient("Quist", ["Zebedee"], birthDate="1980-05-05"))
    return zebedee, make(api, observation(zebedee))


def test_chained_search_through_patient_name(api, zebedee, records):
    assert found(api, "Observation", {"patient.name": "zebed"}) == [zebedee[1]]
    assert found(api, "Observation", {"patient.family": "quist"}) == [zebedee[1]]
    assert found(api, "Observation", {"patient.name": "nobody"}) == []


def test_chained_search_with_type_modifier_and_date(api, zebedee, records):
    assert found(api, "Observation", {"subject:Patient.birthdate": "1980-05-05"}) == [zebedee[1]]
    assert found(api, "Observation", {"subject:Patient.birthdate": "lt1980"}) == []


def test_reference_missing_true_and_false(api, cast):
    encounter = make(api, {"resourceType": "Encounter", "status": "finished", "class": {"code": "AMB"},
                           "subject": {"reference": f"Patient/{cast['alice'].fhir_id}"}})
    during = make(api, observation(cast["alice"].fhir_id, encounter={"reference": f"Encounter/{encounter}"}))
    outside = make(api, observation(cast["alice"].fhir_id))
    assert found(api, "Observation", {"encounter:missing": "true"}) == [outside]
    assert found(api, "Observation", {"encounter:missing": "false"}) == [during]


# ---- date -------------------------------------------------------------------------------------------------------


@pytest.fixture
def dated(api, cast) -> dict[str, str]:
    """Observations at five moments, two with a timezone (E is the 15th locally but the 16th in UTC)."""
    moments = {"A": "2024-03-10", "B": "2024-03-15T10:30:00+02:00", "C": "2024-04-01", "D": "2023-12-31",
               "E": "2024-03-15T23:30:00-05:00"}
    return {name: make(api, observation(cast["alice"].fhir_id, when=when)) for name, when in moments.items()}


@pytest.mark.parametrize(("value", "expected"), [
    ("2024", "ABCE"),
    ("2024-03", "ABE"),
    ("2024-03-15", "B"),
    ("2024-03-16", "E"),
    ("2024-03-15T08:30:00Z", "B"),
    ("2024-03-15T10:30:00+02:00", "B"),
    ("2024-03-15T10:30:00Z", ""),
    ("eq2024-03", "ABE"),
    ("ne2024-03", "CD"),
    ("gt2024-03-15", "CE"),
    ("lt2024-03-15", "AD"),
    ("ge2024-03-15", "BCE"),
    ("le2024-03-10", "AD"),
    ("sa2024-03", "C"),
    ("eb2024-03-15", "AD"),
    ("gt2024-03-15T09:00:00+01:00", "BCE"),
])
def test_date_prefixes_at_every_precision(api, dated, value, expected):
    assert sorted(found(api, "Observation", {"date": value})) == sorted(dated[name] for name in expected)


def test_date_ap_matches_within_a_tenth_of_the_gap_to_now(api, cast):
    today = datetime.now(UTC).date()
    target = today - timedelta(days=1000)
    near = make(api, observation(cast["alice"].fhir_id, when=target.isoformat()))
    make(api, observation(cast["alice"].fhir_id, when=(target - timedelta(days=400)).isoformat()))
    make(api, observation(cast["alice"].fhir_id, when=today.isoformat()))
    # 50 days from the target, about 950 days before today: 'approximately' stretches about 95 days either side.
    assert found(api, "Observation", {"date": f"ap{(target + timedelta(days=50)).isoformat()}"}) == [near]


def test_unencoded_plus_in_a_timezone_is_read_as_plus(api, dated):
    response = api.get("Observation?date=2024-03-15T10:30:00+02:00")  # '+' arrives as a space
    assert response.status_code == 200
    assert ids(response.json()) == [dated["B"]]


def test_a_date_beyond_what_the_server_can_compare_is_stored_but_not_date_searchable(api, cast):
    response = api.post("Observation", observation(cast["alice"].fhir_id, when="0001-01-01T00:00:00+05:00"))
    assert response.status_code == 201  # in UTC that is the year 0, which no datetime holds
    assert found(api, "Observation", {"date:missing": "true"}) == [response.json()["id"]]
    assert found(api, "Observation", {"date": "le0002"}) == []


@pytest.fixture
def encounters(api, cast) -> dict[str, str]:
    def encounter(**period: str) -> str:
        return make(api, {"resourceType": "Encounter", "status": "finished", "class": {"code": "AMB"},
                          "subject": {"reference": f"Patient/{cast['alice'].fhir_id}"}, "period": period})

    return {"closed": encounter(start="2024-01-10", end="2024-01-20"), "open": encounter(start="2024-02-01")}


@pytest.mark.parametrize(("value", "expected"), [
    ("2024-01", ["closed"]),
    ("2024-01-15", []),  # eq needs the whole period inside the day
    ("ge2024-01-15", ["closed", "open"]),
    ("lt2024-01-15", ["closed"]),
    ("gt2030-01-01", ["open"]),  # no end: still going
    ("sa2024-01-20", ["open"]),
    ("eb2024-02-01", ["closed"]),
    ("le2024-01-05", []),
])
def test_encounter_date_searches_its_period(api, encounters, value, expected):
    assert sorted(found(api, "Encounter", {"date": value})) == sorted(encounters[e] for e in expected)


def test_last_updated_is_searchable_by_instant_and_prefix(api, cast):
    created = api.post("Observation", observation(cast["alice"].fhir_id)).json()
    instant = created["meta"]["lastUpdated"]
    assert found(api, "Observation", {"_lastUpdated": instant}) == [created["id"]]
    assert found(api, "Observation", {"_lastUpdated": f"ge{instant}"}) == [created["id"]]
    assert found(api, "Observation", {"_lastUpdated": f"lt{instant}"}) == []
    assert found(api, "Observation", {"_lastUpdated": f"gt{instant}"}) == []
    assert found(api, "Observation", {"_lastUpdated": "gt2000-01-01"}) == [created["id"]]
    assert found(api, "Observation", {"_lastUpdated": "lt2000-01-01"}) == []


def test_missing_on_a_date(api, cast):
    born = make(api, patient("Born", birthDate="1990-01-01"))
    assert found(api, "Patient", {"birthdate:missing": "false"}) == [born]
    assert born not in found(api, "Patient", {"birthdate:missing": "true"})
    assert cast["alice"].fhir_id in found(api, "Patient", {"birthdate:missing": "true"})


def test_tag_searches_meta_tags(api, cast):
    tag = {"system": "http://example.org/tags", "code": "urgent"}
    tagged = make(api, observation(cast["alice"].fhir_id, meta={"tag": [tag]}))
    make(api, observation(cast["alice"].fhir_id))
    assert found(api, "Observation", {"_tag": "http://example.org/tags|urgent"}) == [tagged]
    assert found(api, "Observation", {"_tag": "http://example.org/other|urgent"}) == []


def test_an_updated_resource_is_found_by_its_new_value_only(api, cast):
    created = api.post("Observation", observation(cast["alice"].fhir_id, code="8867-4")).json()
    api.put(f"Observation/{created['id']}", created | {"code": {"coding": [{"system": "http://loinc.org",
                                                                             "code": "2339-0"}]}})
    assert found(api, "Observation", {"code": "2339-0"}) == [created["id"]]
    assert found(api, "Observation", {"code": "8867-4"}) == []


def test_a_deleted_resource_is_found_by_nothing(api, records):
    assert api.delete(f"Observation/{records['alice']}").status_code == 204
    assert found(api, "Observation", {}) == [records["bob"]]
    assert found(api, "Observation", {"code": "8867-4"}) == [records["bob"]]


# ---- quantity ---------------------------------------------------------------------------------------------------


def measured(api, cast, *values: float, unit: str = "mg") -> dict[float, str]:
    return {v: make(api, observation(cast["alice"].fhir_id, value=v, unit=unit)) for v in values}


def test_quantity_eq_uses_the_precision_of_the_value_given(api, cast):
    made = measured(api, cast, 5.44, 5.46, 5.5, 5.54, 5.56)
    assert sorted(found(api, "Observation", {"value-quantity": "5.5"})) == sorted(made[v] for v in (5.46, 5.5, 5.54))
    assert found(api, "Observation", {"value-quantity": "5.50"}) == [made[5.5]]


@pytest.mark.parametrize(("value", "expected"), [
    ("gt5", [6]), ("lt5", [4]), ("ge5", [5, 6]), ("le5", [4, 5]), ("ne5", [4, 6]), ("eq5", [5]), ("5", [5]),
    ("sa5", [6]), ("eb5", [4]),
])
def test_quantity_comparison_prefixes(api, cast, value, expected):
    made = measured(api, cast, 4, 5, 6)
    assert sorted(found(api, "Observation", {"value-quantity": value})) == sorted(made[v] for v in expected)


def test_quantity_ap_is_within_ten_percent_for_positive_and_negative_values(api, cast):
    made = measured(api, cast, 80, 95, 108, -9.5, -12)
    assert sorted(found(api, "Observation", {"value-quantity": "ap100"})) == sorted([made[95], made[108]])
    assert found(api, "Observation", {"value-quantity": "ap-10"}) == [made[-9.5]]


def test_quantity_with_system_and_code(api, cast):
    mg = measured(api, cast, 5.4, unit="mg")[5.4]
    kg = measured(api, cast, 5.4, unit="kg")[5.4]
    assert found(api, "Observation", {"value-quantity": f"5.4|{UCUM}|mg"}) == [mg]
    assert found(api, "Observation", {"value-quantity": "5.4||kg"}) == [kg]
    assert found(api, "Observation", {"value-quantity": "5.4|http://example.org/units|mg"}) == []
    assert sorted(found(api, "Observation", {"value-quantity": "5.4"})) == sorted([mg, kg])


# ---- several values, several parameters -------------------------------------------------------------------------


def test_comma_separated_values_are_alternatives(api, cast):
    pulse = make(api, observation(cast["alice"].fhir_id, code="8867-4"))
    glucose = make(api, observation(cast["alice"].fhir_id, code="2339-0"))
    make(api, observation(cast["alice"].fhir_id, code="8310-5"))
    assert sorted(found(api, "Observation", {"code": "8867-4,2339-0"})) == sorted([pulse, glucose])


def test_repeated_parameters_must_all_match(api, cast):
    january = make(api, observation(cast["alice"].fhir_id, when="2024-01-15"))
    make(api, observation(cast["alice"].fhir_id, when="2024-02-15"))
    make(api, observation(cast["alice"].fhir_id, when="2023-12-15"))
    make(api, observation(cast["alice"].fhir_id, when="2024-01-20", status="amended"))
    query = [("date", "ge2024-01-01"), ("date", "lt2024-02-01"), ("status", "final")]
    assert found(api, "Observation", query) == [january]


def test_id_matches_one_or_several_ids(api, records):
    assert found(api, "Observation", {"_id": records["alice"]}) == [records["alice"]]
    assert sorted(found(api, "Observation", {"_id": f"{records['alice']},{records['bob']},nope"})) == sorted(
        records.values())


# ---- paging -----------------------------------------------------------------------------------------------------


def test_next_links_page_through_every_result_exactly_once(api, cast):
    made = {make(api, observation(cast["alice"].fhir_id)) for _ in range(7)}
    page = bundle_of(api, "Observation", {"_count": "3"})
    assert page["total"] == 7 and link(page, "previous") is None
    seen, pages = ids(page), 1
    while (url := link(page, "next")) is not None:
        page = follow(api, url)
        seen += ids(page)
        pages += 1
        assert pages <= 3
    assert pages == 3
    assert sorted(seen) == sorted(made)


def test_previous_link_returns_the_page_before(api, cast):
    for _ in range(5):
        make(api, observation(cast["alice"].fhir_id))
    first = bundle_of(api, "Observation", {"_count": "2", "_sort": "_id"})
    second = follow(api, link(first, "next"))
    assert ids(follow(api, link(second, "previous"))) == ids(first)


def test_offset_skips_results_in_sort_order(api, cast):
    made = [make(api, observation(cast["alice"].fhir_id, when=f"2024-01-0{day}")) for day in range(1, 6)]
    assert found(api, "Observation", {"_sort": "date", "_count": "2", "_offset": "2"}) == made[2:4]


def test_count_zero_gives_the_total_and_no_next_link(api, cast):
    for _ in range(3):
        make(api, observation(cast["alice"].fhir_id))
    bundle = bundle_of(api, "Observation", {"_count": "0"})
    assert bundle["total"] == 3 and "entry" not in bundle
    assert link(bundle, "next") is None


# ---- sort -------------------------------------------------------------------------------------------------------


@pytest.fixture
def by_date(api, cast) -> list[str]:
    """Observations on 2024-01-01..03, created out of order: ids in date order."""
    created = {day: make(api, observation(cast["alice"].fhir_id, when=f"2024-01-0{day}")) for day in (2, 3, 1)}
    return [created[day] for day in (1, 2, 3)]


def test_sort_by_date_ascending_and_descending(api, by_date):
    assert found(api, "Observation", {"_sort": "date"}) == by_date
    assert found(api, "Observation", {"_sort": "-date"}) == by_date[::-1]


def test_sort_by_several_keys(api, cast):
    a1 = make(api, observation(cast["alice"].fhir_id, code="1111-1", when="2024-01-01"))
    b2 = make(api, observation(cast["alice"].fhir_id, code="2222-2", when="2024-01-02"))
    a3 = make(api, observation(cast["alice"].fhir_id, code="1111-1", when="2024-01-03"))
    assert found(api, "Observation", {"_sort": "code,-date"}) == [a3, a1, b2]
    assert found(api, "Observation", [("_sort", "-code"), ("_sort", "date")]) == [b2, a1, a3]


def test_sort_by_string(api):
    zeta, alpha, mu = (make(api, patient(name)) for name in ("Zeta", "alpha", "Mu"))
    query = {"_id": f"{zeta},{alpha},{mu}"}
    assert found(api, "Patient", query | {"_sort": "family"}) == [alpha, mu, zeta]
    assert found(api, "Patient", query | {"_sort": "-family"}) == [zeta, mu, alpha]


def test_sort_on_a_repeating_value_uses_its_lowest_ascending_and_highest_descending(api):
    amy_zoe = make(api, patient("One", ["Amy", "Zoe"]))
    mia = make(api, patient("Two", ["Mia"]))
    query = {"_id": f"{amy_zoe},{mia}"}
    assert found(api, "Patient", query | {"_sort": "given"}) == [amy_zoe, mia]
    assert found(api, "Patient", query | {"_sort": "-given"}) == [amy_zoe, mia]


def test_default_order_is_newest_first(api, cast):
    first = make(api, observation(cast["alice"].fhir_id))
    second = make(api, observation(cast["alice"].fhir_id))
    assert found(api, "Observation", {}) == [second, first]


# ---- _include and _revinclude -----------------------------------------------------------------------------------


@pytest.fixture
def visit(api, cast) -> dict[str, str]:
    """An encounter of alice's and an observation made during it."""
    encounter = make(api, {"resourceType": "Encounter", "status": "finished", "class": {"code": "AMB"},
                           "subject": {"reference": f"Patient/{cast['alice'].fhir_id}"}})
    seen = make(api, observation(cast["alice"].fhir_id, encounter={"reference": f"Encounter/{encounter}"}))
    return {"encounter": encounter, "observation": seen}


def test_include_adds_the_referenced_resource_as_an_include_entry(api, cast, visit):
    bundle = bundle_of(api, "Observation", {"_id": visit["observation"], "_include": "Observation:subject"})
    assert ids(bundle) == [visit["observation"]]
    assert ids(bundle, "include") == [cast["alice"].fhir_id]
    assert bundle["total"] == 1


def test_include_with_a_target_type_only_follows_references_to_that_type(api, cast, visit):
    query = {"_id": visit["observation"]}
    as_patient = bundle_of(api, "Observation", query | {"_include": "Observation:subject:Patient"})
    as_device = bundle_of(api, "Observation", query | {"_include": "Observation:subject:Device"})
    assert ids(as_patient, "include") == [cast["alice"].fhir_id]
    assert ids(as_device, "include") == []


def test_include_star_follows_every_reference(api, cast, visit):
    bundle = bundle_of(api, "Observation", {"_id": visit["observation"], "_include": "Observation:*"})
    assert sorted(ids(bundle, "include")) == sorted([cast["alice"].fhir_id, visit["encounter"]])


def test_revinclude_adds_resources_pointing_at_the_matches(api, cast, records):
    bundle = bundle_of(api, "Patient", {"_id": cast["alice"].fhir_id, "_revinclude": "Observation:subject"})
    assert ids(bundle) == [cast["alice"].fhir_id]
    assert ids(bundle, "include") == [records["alice"]]


def test_revinclude_provenance_by_target(api, cast, records):
    provenance = make(api, {"resourceType": "Provenance", "recorded": "2024-01-01T00:00:00Z",
                            "target": [{"reference": f"Observation/{records['alice']}"}],
                            "agent": [{"who": {"reference": f"Practitioner/{cast['carol'].fhir_id}"}}]})
    bundle = bundle_of(api, "Observation", {"_id": records["alice"], "_revinclude": "Provenance:target"})
    assert ids(bundle, "include") == [provenance]
    assert ids(bundle_of(api, "Observation", {"_id": records["bob"], "_revinclude": "Provenance:target"}),
               "include") == []


def test_a_resource_both_matched_and_included_appears_once_as_a_match(api):
    linked = make(api, patient("Linked"))
    linking = make(api, patient("Linking", link=[{"other": {"reference": f"Patient/{linked}"}, "type": "seealso"}]))
    bundle = bundle_of(api, "Patient", [("_id", f"{linked},{linking}"), ("_include", "Patient:link"),
                                        ("_revinclude", "Patient:link")])
    entries = [(e["resource"]["id"], e["search"]["mode"]) for e in bundle["entry"]]
    assert sorted(entries) == sorted([(linked, "match"), (linking, "match")])


def test_includes_never_show_what_the_requester_cannot_see(api, cast):
    about_bob = make(api, observation(cast["alice"].fhir_id, focus=[{"reference": f"Patient/{cast['bob'].fhir_id}"}]))
    query = {"_id": about_bob, "_include": "Observation:focus"}
    assert ids(bundle_of(api, "Observation", query), "include") == [cast["bob"].fhir_id]
    alice = FhirClient(user=cast["alice"])
    as_alice = bundle_of(alice, "Observation", query)
    assert ids(as_alice) == [about_bob] and ids(as_alice, "include") == []


# ---- what comes back: _summary, _elements, _total ---------------------------------------------------------------


def test_summary_count_gives_the_total_and_no_entries(api, cast, records):
    bundle = bundle_of(api, "Observation", {"_summary": "count", "subject": f"Patient/{cast['alice'].fhir_id}"})
    assert bundle["total"] == 1
    assert "entry" not in bundle


def test_elements_keeps_only_the_listed_elements_and_marks_them_subsetted(api, records):
    bundle = bundle_of(api, "Observation", {"_id": records["alice"], "_elements": "status,code"})
    resource = bundle["entry"][0]["resource"]
    assert set(resource) == {"resourceType", "id", "meta", "status", "code"}
    assert {"system": "http://terminology.hl7.org/CodeSystem/v3-ObservationValue", "code": "SUBSETTED"} in \
        resource["meta"]["tag"]


def test_total_none_leaves_out_the_total(api, records):
    bundle = bundle_of(api, "Observation", {"_total": "none"})
    assert "total" not in bundle
    assert sorted(ids(bundle)) == sorted(records.values())


def test_elements_names_a_choice_element_by_its_base_name(api, records):
    resource = bundle_of(api, "Observation", {"_id": records["alice"], "_elements": "value"})["entry"][0]["resource"]
    assert set(resource) == {"resourceType", "id", "meta", "valueQuantity"}


def test_summary_true_keeps_only_the_summary_elements(api, cast):
    noted = make(api, observation(cast["alice"].fhir_id, note=[{"text": "taken after a run"}],
                                  interpretation=[{"text": "high"}]))
    resource = bundle_of(api, "Observation", {"_id": noted, "_summary": "true"})["entry"][0]["resource"]
    assert set(resource) == {"resourceType", "id", "meta", "status", "code", "subject", "effectiveDateTime",
                             "valueQuantity"}
    assert "SUBSETTED" in [tag["code"] for tag in resource["meta"]["tag"]]


def test_summary_text_keeps_the_narrative_and_the_mandatory_elements(api, cast):
    narrated = make(api, observation(cast["alice"].fhir_id, text={
        "status": "generated", "div": '<div xmlns="http://www.w3.org/1999/xhtml">Pulse 72/min</div>'}))
    resource = bundle_of(api, "Observation", {"_id": narrated, "_summary": "text"})["entry"][0]["resource"]
    assert set(resource) == {"resourceType", "id", "meta", "text", "status", "code"}


def test_summary_data_leaves_out_only_the_narrative(api, cast):
    narrated = make(api, observation(cast["alice"].fhir_id, text={
        "status": "generated", "div": '<div xmlns="http://www.w3.org/1999/xhtml">Pulse 72/min</div>'}))
    full = api.get(f"Observation/{narrated}").json()
    resource = bundle_of(api, "Observation", {"_id": narrated, "_summary": "data"})["entry"][0]["resource"]
    assert set(resource) == set(full) - {"text"}


def test_total_none_offers_a_next_page_only_after_a_full_page(api, cast):
    for _ in range(3):
        make(api, observation(cast["alice"].fhir_id))
    first = bundle_of(api, "Observation", {"_total": "none", "_count": "2"})
    assert "total" not in first and len(ids(first)) == 2
    second = follow(api, link(first, "next"))
    assert len(ids(second)) == 1 and link(second, "next") is None
    assert sorted(ids(first) + ids(second)) == sorted(found(api, "Observation", {}))


# ---- unknown parameters -----------------------------------------------------------------------------------------


def test_unknown_parameter_is_ignored_and_reported_in_an_outcome_entry(api, records):
    bundle = bundle_of(api, "Observation", {"colour": "blue", "_id": records["alice"]})
    assert ids(bundle) == [records["alice"]]
    outcomes = [e["resource"] for e in bundle["entry"] if e["search"]["mode"] == "outcome"]
    assert len(outcomes) == 1 and outcomes[0]["resourceType"] == "OperationOutcome"
    assert "colour" in outcomes[0]["issue"][0]["diagnostics"]
    assert outcomes[0]["issue"][0]["severity"] == "warning"


def test_unknown_parameter_with_strict_handling_is_400(api, records):
    response = get(api, "Observation", {"colour": "blue"}, Prefer="handling=strict")
    assert response.status_code == 400
    assert response.json()["resourceType"] == "OperationOutcome"
    assert "colour" in response.json()["issue"][0]["diagnostics"]


# ---- hostile and malformed input --------------------------------------------------------------------------------


@pytest.mark.parametrize(("params", "status"), [
    pytest.param([("date", "2024-13-01")], 400, id="month-13"),
    pytest.param([("date", "yesterday")], 400, id="date-in-words"),
    pytest.param([("date", "ge")], 400, id="date-prefix-alone"),
    pytest.param([("date", "2024-02-30")], 400, id="february-30"),
    pytest.param([("date", "0001-01-01T00:00:00+05:00")], 400, id="date-before-year-1-in-utc"),
    pytest.param([("date", "9999-12-31T23:00:00-05:00")], 400, id="date-after-year-9999-in-utc"),
    pytest.param([("_lastUpdated", "2024-01-01T25:00:00Z")], 400, id="hour-25"),
    pytest.param([("value-quantity", "five")], 400, id="number-in-words"),
    pytest.param([("value-quantity", "gt")], 400, id="number-prefix-alone"),
    pytest.param([("value-quantity", "NaN")], 400, id="nan"),
    pytest.param([("value-quantity", "sNaN")], 400, id="signalling-nan"),
    pytest.param([("value-quantity", "Infinity")], 400, id="infinity"),
    pytest.param([("value-quantity", "1e1000001")], 400, id="huge-exponent"),
    pytest.param([("value-quantity", "1" * 400)], 400, id="beyond-float"),
    pytest.param([("value-quantity", "5|a|b|c")], 400, id="quantity-with-four-parts"),
    pytest.param([("value-quantity", "|http://unitsofmeasure.org|mg")], 400, id="quantity-without-number"),
    pytest.param([("code:sideways", "8867-4")], 400, id="unknown-modifier"),
    pytest.param([("code:exact", "8867-4")], 400, id="string-modifier-on-token"),
    pytest.param([("code:in", "http://example.org/ValueSet/vitals")], 400, id="unsupported-in"),
    pytest.param([("status:contains", "fin")], 400, id="contains-on-token"),
    pytest.param([("date:text", "2024")], 400, id="text-on-date"),
    pytest.param([("subject:identifier", "urn:mrn|1")], 400, id="unsupported-identifier"),
    pytest.param([("subject:Practitioner", "1")], 400, id="type-the-reference-cannot-be"),
    pytest.param([("encounter:missing", "maybe")], 400, id="missing-neither-true-nor-false"),
    pytest.param([("code", "x" * 2000)], 413, id="over-long-value"),
    pytest.param([("x" * 300, "1")], 413, id="over-long-name"),
    pytest.param([("code", ",".join(str(n) for n in range(150)))], 413, id="too-many-values"),
    pytest.param([("status", "final")] * 60, 413, id="too-many-parameters"),
    pytest.param([("code", "8867-4\x00")], 400, id="nul-byte"),
    pytest.param([("_count", "-1")], 400, id="negative-count"),
    pytest.param([("_count", "lots")], 400, id="count-in-words"),
    pytest.param([("_offset", "-5")], 400, id="negative-offset"),
    pytest.param([("_sort", "colour")], 400, id="sort-by-unknown"),
    pytest.param([("_sort", "")], 400, id="sort-by-nothing"),
    pytest.param([("_summary", "everything")], 400, id="unknown-summary"),
    pytest.param([("_total", "exact")], 400, id="unknown-total"),
    pytest.param([("_include", "Observation:code")], 400, id="include-through-a-token"),
    pytest.param([("_include", "Patient:organization")], 400, id="include-from-another-type"),
    pytest.param([("_revinclude", "Nothing:subject")], 400, id="revinclude-unknown-type"),
    pytest.param([("focus.patient.name", "alice")], 400, id="chain-without-types-through-too-many"),
    pytest.param([("code.name", "alice")], 400, id="chain-through-a-token"),
    pytest.param([("patient.colour", "blue")], 400, id="chain-to-unknown-parameter"),
    pytest.param([("subject:Patient.colour", "blue")], 400, id="typed-chain-to-unknown-parameter"),
])
def test_malformed_search_is_a_client_error_with_an_operation_outcome(api, records, params, status):
    response = get(api, "Observation", params)
    assert response.status_code == status, response.content
    assert response.json()["resourceType"] == "OperationOutcome"


def test_since_out_of_range_on_history_is_400(api, records):
    response = api.get(f"Observation/_history?{urlencode({'_since': '0001-01-01T00:00:00+05:00'})}")
    assert response.status_code == 400
    assert response.json()["resourceType"] == "OperationOutcome"


# ---- POST _search -----------------------------------------------------------------------------------------------


def test_post_search_with_a_form_body_finds_what_get_finds(api, cast, by_date, records):
    query = [("subject", f"Patient/{cast['alice'].fhir_id}"), ("date", "ge2024-01-02"), ("date", "lt2025"),
             ("_sort", "-date")]
    response = api.post("Observation/_search", urlencode(query), content_type=FORM)
    assert response.status_code == 200
    assert ids(response.json()) == found(api, "Observation", query) == [by_date[2], by_date[1]]


def test_post_search_with_a_json_body_is_415(api, records):
    response = api.post("Observation/_search", {"status": "final"})
    assert response.status_code == 415
    assert response.json()["resourceType"] == "OperationOutcome"


# ---- who is asking ----------------------------------------------------------------------------------------------


def test_a_patient_finds_only_their_own_record(cast, records):
    alice = FhirClient(user=cast["alice"])
    assert found(alice, "Observation", {}) == [records["alice"]]
    assert found(alice, "Observation", {"subject": f"Patient/{cast['bob'].fhir_id}"}) == []
    revincluded = bundle_of(alice, "Patient", {"_revinclude": "Observation:subject"})
    assert ids(revincluded) == [cast["alice"].fhir_id] and ids(revincluded, "include") == [records["alice"]]

