"""OCR rows of a lab report become coded, preliminary, unconfirmed Observations in a DiagnosticReport."""

from __future__ import annotations

import pytest

from fhir.release import UNCONFIRMED, confirmation_of
from fhir.validation import validate_resource
from perception.labs.loinc import TESTS, match_test
from perception.labs.parse import parse_rows
from perception.labs.resources import lab_report_resources
from perception.labs.rows import LabRow

LOINC = "http://loinc.org"

NAME_VALUE_UNIT_RANGE_FLAG = [
    "St Elsewhere Pathology Laboratory",
    ["Patient: Jane Doe", "DOB: 01/02/1960"],
    ["Collected: 12/03/2025 08:30", "Reported: 13/03/2025"],
    "Specimen: Serum",
    ["Test", "Result", "Units", "Reference Range", "Flag"],
    "FULL BLOOD COUNT",
    ["Haemoglobin", "15.2H", "g/dL", "13.0 - 17.0"],
    ["WBC", "11.5", "x10⁹/L", "4.0-11.0", "H"],
    ["Platelets", "25O", "10*9/L", "150 - 400"],
    "Sodlum    14O  mmol/l   135 - 145",
    "Potassium   5,8   mmol/L  3.5-5.3",
    ["Glucose (fasting)", "99", "mg/dl", "70-99"],
    ["CRP", "<5", "mg/L", "<5.0"],
    ["Urine Nitrite", "Negative", "Negative"],
    ["Zonulin", "42", "ng/mL", "20-60"],
    ["Creatinine", "1a9", "umol/L", "60-110"],
    "Page 1 of 2",
]
NAME_VALUE_FLAG_UNIT_RANGE = [
    ["Test", "Result", "Flag", "Units", "Range"],
    ["Hb", "12.1", "L", "g/dL", "(13.0-17.0)"],
    ["ALT (SGPT)", "55", "*", "IU/L", "< 40"],
    ["HbA1c", "6.5", "H", "%", "4.0-5.6"],
]
NAME_RANGE_UNIT_VALUE = [
    ["Test", "Reference range", "Units", "Result"],
    ["Haemoglobin", "13.0-17.0", "g/dL", "12.1 L"],
    ["CRP", "<5.0", "mg/L", "<5"],
    ["Ferritin", "30-400", "ug/L", "l2"],
]


def by_name(rows: list[LabRow]) -> dict[str, LabRow]:
    return {row.name: row for row in rows}


def observation_for(resources: list[tuple[dict, str]], text: str) -> dict:
    return next(r for r, _ in resources if r["resourceType"] == "Observation" and r["code"]["text"] == text)


@pytest.fixture
def resources() -> list[tuple[dict, str]]:
    return lab_report_resources(parse_rows(NAME_VALUE_UNIT_RANGE_FLAG), "alice-1", "doc-1", "Continuum lab reader")


# ---- the LOINC table -----------------------------------------------------------------------------------------

def test_the_table_maps_at_least_sixty_tests_with_distinct_codes() -> None:
    codes = [coding.code for test in TESTS for coding in test.codings]
    assert len(TESTS) >= 60
    assert len(codes) == len(set(codes))


@pytest.mark.parametrize(("printed", "key"), [
    ("Hgb", "haemoglobin"), ("HAEMOGLOBIN", "haemoglobin"), ("Haemoqlobin", "haemoglobin"),
    ("W.B.C.", "wbc"), ("Sodlum", "sodium"), ("S. Creatinine", "creatinine"), ("SGPT", "alt"),
    ("ALT (SGPT)", "alt"), ("LDL-C", "ldl"), ("HbAlc", "hba1c"), ("Glucose, fasting", "fasting_glucose"),
    ("NT-proBNP", "nt_probnp"), ("eGFR (CKD-EPI)", "egfr"), ("Potasium", "potassium"),
])
def test_printed_names_match_their_test_despite_ocr_noise(printed: str, key: str) -> None:
    test = match_test(printed)
    assert test is not None and test.key == key


@pytest.mark.parametrize("printed", ["Comment", "Patient", "Creatine", "Troponin", "Protein", "Zonulin", "Ka", ""])
def test_random_and_ambiguous_words_match_no_test(printed: str) -> None:
    assert match_test(printed) is None


# ---- parsing -------------------------------------------------------------------------------------------------

def test_name_value_unit_range_flag_rows_are_read_with_glued_flags_and_ocr_noise() -> None:
    report = parse_rows(NAME_VALUE_UNIT_RANGE_FLAG)
    rows = by_name(report.rows)
    assert rows["Haemoglobin"] == LabRow("Haemoglobin", 15.2, "g/dL", 13.0, 17.0, "H")
    assert rows["WBC"] == LabRow("WBC", 11.5, "x10⁹/L", 4.0, 11.0, "H")
    assert rows["Platelets"].value == 250.0  # "25O"
    assert rows["Sodlum"].value == 140.0 and rows["Sodlum"].unit == "mmol/l"
    assert rows["Potassium"].value == 5.8  # "5,8"
    assert rows["CRP"] == LabRow("CRP", None, "mg/L", None, 5.0, "", "<5")
    assert rows["Urine Nitrite"].text == "Negative"


def test_name_value_flag_unit_range_rows_are_read() -> None:
    rows = by_name(parse_rows(NAME_VALUE_FLAG_UNIT_RANGE).rows)
    assert rows["Hb"] == LabRow("Hb", 12.1, "g/dL", 13.0, 17.0, "L")
    assert rows["ALT (SGPT)"] == LabRow("ALT (SGPT)", 55.0, "IU/L", None, 40.0, "A")
    assert rows["HbA1c"] == LabRow("HbA1c", 6.5, "%", 4.0, 5.6, "H")


def test_name_range_unit_value_rows_are_read_using_the_header_order() -> None:
    rows = by_name(parse_rows(NAME_RANGE_UNIT_VALUE).rows)
    assert rows["Haemoglobin"] == LabRow("Haemoglobin", 12.1, "g/dL", 13.0, 17.0, "L")
    assert rows["CRP"] == LabRow("CRP", None, "mg/L", None, 5.0, "", "<5")
    assert rows["Ferritin"].value == 12.0  # "l2"


def test_a_plain_text_line_is_split_on_runs_of_spaces() -> None:
    [row] = parse_rows(["Total Cholesterol   5.2   mmol/L   <5.0   H"]).rows
    assert row == LabRow("Total Cholesterol", 5.2, "mmol/L", None, 5.0, "H")


def test_the_reports_dates_laboratory_and_specimen_are_read() -> None:
    report = parse_rows(NAME_VALUE_UNIT_RANGE_FLAG)
    assert (report.collected, report.reported) == ("2025-03-12", "2025-03-13")
    assert report.laboratory == "St Elsewhere Pathology Laboratory"
    assert report.specimen == "Serum"


def test_a_row_that_looks_like_a_result_but_cannot_be_read_is_kept_as_unparsed() -> None:
    report = parse_rows(NAME_VALUE_UNIT_RANGE_FLAG)
    assert report.unparsed == ["Creatinine  1a9  umol/L  60-110"]
    assert "Creatinine" not in by_name(report.rows)
    assert not any(row.name.startswith(("Page", "FULL", "Patient", "Test")) for row in report.rows)


# ---- resources -----------------------------------------------------------------------------------------------

def test_every_resource_validates_and_is_preliminary_and_unconfirmed(resources) -> None:
    assert [r["resourceType"] for r, _ in resources].count("Observation") == 9
    for resource, _ in resources:
        validate_resource(resource)  # the REST API's validator (fhir.resources R4B models)
        assert confirmation_of(resource) == UNCONFIRMED
        if resource["resourceType"] != "Provenance":
            assert resource["status"] == "preliminary"


def test_observations_carry_loinc_the_printed_name_ucum_and_the_source_document(resources) -> None:
    potassium = observation_for(resources, "Potassium")
    assert potassium["code"]["coding"][0] == {"system": LOINC, "code": "2823-3",
                                              "display": "Potassium [Moles/volume] in Serum or Plasma"}
    assert potassium["valueQuantity"] == {"value": 5.8, "unit": "mmol/L", "system": "http://unitsofmeasure.org",
                                          "code": "mmol/L"}
    assert potassium["category"][0]["coding"][0]["code"] == "laboratory"
    assert potassium["derivedFrom"] == [{"reference": "DocumentReference/doc-1"}]
    assert potassium["effectiveDateTime"] == "2025-03-12"
    assert observation_for(resources, "WBC")["valueQuantity"]["code"] == "10*9/L"


def test_glucose_printed_in_mg_per_dl_is_stored_in_mmol_per_l_with_the_original_kept(resources) -> None:
    glucose = observation_for(resources, "Glucose (fasting)")
    assert glucose["code"]["coding"][0]["code"] == "14771-0"
    assert glucose["valueQuantity"]["code"] == "mmol/L"
    assert glucose["valueQuantity"]["value"] == pytest.approx(5.495, abs=0.001)
    assert glucose["referenceRange"][0]["high"]["value"] == pytest.approx(5.495, abs=0.001)
    assert glucose["note"] == [{"text": "As printed: 99 mg/dl (reference range 70-99 mg/dl)"}]


def test_a_percentage_keeps_its_value_and_takes_the_percentage_code() -> None:
    [(neutrophils, _), *_] = lab_report_resources(parse_rows([["Neutrophils", "62", "%", "40-75"]]), "p", "d", "x")
    assert neutrophils["code"]["coding"][0]["code"] == "770-8"
    assert neutrophils["valueQuantity"]["value"] == 62 and "note" not in neutrophils


def interpretation(observation: dict) -> str | None:
    codings = observation.get("interpretation", [{}])[0].get("coding", [{}])
    return codings[0].get("code")


def test_interpretation_comes_from_the_printed_flag_or_else_from_the_range(resources) -> None:
    assert interpretation(observation_for(resources, "Haemoglobin")) == "H"  # printed, glued
    assert interpretation(observation_for(resources, "Potassium")) == "H"  # 5.8 above 5.3, none printed
    assert interpretation(observation_for(resources, "Sodlum")) == "N"
    assert interpretation(observation_for(resources, "CRP")) == "N"  # "<5" within "<5.0"
    assert interpretation(observation_for(resources, "Urine Nitrite")) is None
    [(hb, _), (alt, _), *_] = lab_report_resources(parse_rows(NAME_VALUE_FLAG_UNIT_RANGE), "p", "d", "x")
    assert interpretation(hb) == "L"
    assert interpretation(alt) == "H"  # "*" says abnormal; the range says which way


def test_a_comparator_result_keeps_its_comparator(resources) -> None:
    assert observation_for(resources, "CRP")["valueQuantity"]["comparator"] == "<"


def test_an_unknown_test_is_kept_with_its_printed_name_only(resources) -> None:
    zonulin = observation_for(resources, "Zonulin")
    assert zonulin["code"] == {"text": "Zonulin"}
    assert zonulin["valueQuantity"]["value"] == 42 and zonulin["valueQuantity"]["code"] == "ng/mL"
    assert interpretation(zonulin) == "N"


def test_a_unit_that_fits_no_code_of_the_test_leaves_it_uncoded() -> None:
    [(glucose, _), *_] = lab_report_resources(parse_rows([["Glucose", "5.4", "g/dL/xyz"]]), "p", "d", "x")
    assert "coding" not in glucose["code"] and "not a UCUM unit" in glucose["note"][0]["text"]


def test_the_report_lists_every_observation_and_the_provenance_names_the_document(resources) -> None:
    observation_ids = [i for r, i in resources if r["resourceType"] == "Observation"]
    [(report, report_id)] = [(r, i) for r, i in resources if r["resourceType"] == "DiagnosticReport"]
    [provenance] = [r for r, _ in resources if r["resourceType"] == "Provenance"]
    assert report["code"]["coding"][0]["code"] == "11502-2"
    assert report["category"][0]["coding"][0]["code"] == "LAB"
    assert report["effectiveDateTime"] == "2025-03-12"
    assert [r["reference"] for r in report["result"]] == [f"Observation/{i}" for i in observation_ids]
    assert {t["reference"] for t in provenance["target"]} == (
        {f"Observation/{i}" for i in observation_ids} | {f"DiagnosticReport/{report_id}"})
    assert provenance["entity"] == [{"role": "source", "what": {"reference": "DocumentReference/doc-1"}}]
    assert provenance["agent"][0]["who"] == {"display": "Continuum lab reader"}


@pytest.mark.django_db
def test_the_resources_are_written_in_one_interaction_into_the_patients_record(cast) -> None:
    from fhir.access import agent_requester
    from fhir.store import Repository

    alice = cast["alice"]
    repo = Repository(agent_requester(alice.fhir_id))
    document = repo.create({"resourceType": "DocumentReference", "status": "current",
                            "subject": {"reference": f"Patient/{alice.fhir_id}"},
                            "content": [{"attachment": {"contentType": "application/pdf", "title": "bloods.pdf"}}]})
    resources = lab_report_resources(parse_rows(NAME_VALUE_UNIT_RANGE_FLAG), alice.fhir_id,
                                     document.resource["id"], "Continuum lab reader")
    written = repo.create_many(resources)
    assert [w.resource["id"] for w in written] == [i for _, i in resources]
    assert all(confirmation_of(w.resource) == UNCONFIRMED for w in written)
