"""A parsed lab report -> preliminary, unconfirmed FHIR resources: Observations, a DiagnosticReport, a Provenance.

Each recognised row becomes an Observation coded with LOINC, its value in the test's canonical UCUM unit (what
was printed, when different, is kept in a note). A row whose name matches no LOINC test, or whose unit fits
none of the test's codes, still becomes an Observation, with the printed name as ``code.text`` only: a result
the patient was given is never dropped, and a wrong code would be worse than none; whoever verifies it can
code it. Everything stays ``preliminary`` and tagged unconfirmed until a person confirms it.

    written = repo.create_many(lab_report_resources(report, patient_id, document_id, "Continuum lab reader"))
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from fhir.persistence import instant, new_id, now
from fhir.release import UNCONFIRMED, with_confirmation
from fhir.store import PARTICIPANT_TYPE
from perception.labs.loinc import LOINC_SYSTEM, LabTest, UnitCode, match_test
from perception.labs.parse import ParsedReport
from perception.labs.rows import LabRow
from perception.labs.units import UCUM_SYSTEM, safe_convert, to_ucum

OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
DIAGNOSTIC_SERVICE = "http://terminology.hl7.org/CodeSystem/v2-0074"
INTERPRETATION_SYSTEM = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
INTERPRETATIONS = {"H": "High", "L": "Low", "N": "Normal", "HH": "Critical high", "LL": "Critical low",
                   "A": "Abnormal"}
LAB_REPORT = ("11502-2", "Laboratory report")


@dataclass(frozen=True)
class Measure:
    """What the Observation stores for one row: the coding chosen for the unit, and the (converted) numbers."""

    coding: UnitCode | None  # None: the Observation gets code.text only
    value: float | None
    unit: str  # UCUM code, "" when unknown
    unit_text: str  # the unit as shown to people
    low: float | None
    high: float | None
    converted: bool = False
    why_uncoded: str = ""


def _significant(value: float) -> float:
    """Converted values keep four significant figures: 99 mg/dL is 5.495 mmol/L, not 5.49511545."""
    return float(f"{value:.4g}")


def _as_printed(row: LabRow) -> Measure:
    ucum = to_ucum(row.unit) if row.unit else None
    return Measure(None, row.value, ucum or "", row.unit, row.low, row.high)


def _convert_all(row: LabRow, value: float, ucum: str, test: LabTest) -> Measure | None:
    """Into the first of the test's codes the printed unit converts to (the canonical one first)."""
    for coding in test.codings:
        if not coding.unit:
            continue
        converted = safe_convert(value, ucum, coding.unit, test.conversion_analyte)
        if converted is None:
            continue
        bounds = [None if b is None else safe_convert(b, ucum, coding.unit, test.conversion_analyte)
                  for b in (row.low, row.high)]
        changed = coding.unit != ucum
        low, high = (_significant(b) if changed and b is not None else b for b in bounds)
        return Measure(coding, _significant(converted) if changed else converted, coding.unit, coding.unit, low,
                       high, converted=changed)
    return None


def measure(row: LabRow, value: float | None, test: LabTest | None) -> Measure:
    """The coding and numbers for a row's (numeric or comparator) value; ``value`` None for text results."""
    if test is None:
        return _as_printed(row)
    if value is None:  # "Negative", "Trace": the test is known, there is nothing to convert
        return Measure(test.codings[0], None, "", "", row.low, row.high)
    ucum = to_ucum(row.unit) if row.unit else None
    if ucum is None:
        if not row.unit and not test.alternatives:
            return Measure(test.codings[0], value, "", "", row.low, row.high)
        why = (f"the unit {row.unit!r} is not a UCUM unit" if row.unit
               else f"no unit was printed, and {test.key} is coded by its unit")
        return replace(_as_printed(row), why_uncoded=why)
    found = _convert_all(row, value, ucum, test)
    if found is None:
        return Measure(None, value, ucum, row.unit, row.low, row.high,
                       why_uncoded=f"{row.unit} does not fit the units of {test.display}")
    return found


# ---- interpretation ------------------------------------------------------------------------------------------

def _from_range(value: float, low: float | None, high: float | None) -> str:
    if low is not None and value < low:
        return "L"
    if high is not None and value > high:
        return "H"
    return "N" if low is not None or high is not None else ""


def interpretation(row: LabRow, comparator: str = "") -> str:
    """The printed flag; computed from the range when none is printed (or when "*" gives no direction)."""
    flag = row.flag if row.flag in INTERPRETATIONS else ""
    if flag not in ("", "A") or row.value is None and not comparator:
        return flag
    if comparator:  # "<5" against a range up to 5.0 is within it; anything else we cannot tell
        bound = _comparator(row.text)[1]
        inside = (comparator.startswith("<") and row.high is not None and bound is not None and bound <= row.high) \
            or (comparator.startswith(">") and row.low is not None and bound is not None and bound >= row.low)
        return flag or ("N" if inside else "")
    computed = _from_range(row.value, row.low, row.high)  # type: ignore[arg-type]
    return computed if flag == "A" and computed in ("H", "L") else (flag or computed)


def _comparator(text: str) -> tuple[str, float | None]:
    match = re.fullmatch(r"\s*(<=|>=|<|>)\s*(\d+(?:\.\d+)?)\s*", text or "")
    return (match.group(1), float(match.group(2))) if match else ("", None)


# ---- resources -----------------------------------------------------------------------------------------------

def _quantity(value: float, m: Measure) -> dict:
    quantity: dict = {"value": value}
    if m.unit_text:
        quantity["unit"] = m.unit_text
    if m.unit:
        quantity |= {"system": UCUM_SYSTEM, "code": m.unit}
    return quantity


def _number_text(value: float | None) -> str:
    return "" if value is None else f"{value:g}"


def _printed(row: LabRow) -> str:
    result = row.text if row.value is None else _number_text(row.value)
    unit = f" {row.unit}" if row.unit else ""
    if row.low is not None or row.high is not None:
        low, high = _number_text(row.low), _number_text(row.high)
        span = f"{low}-{high}" if low and high else (f"<={high}" if high else f">={low}")
        return f"As printed: {result}{unit} (reference range {span}{unit})"
    return f"As printed: {result}{unit}"


def _code(row: LabRow, m: Measure) -> dict:
    if m.coding is None:
        return {"text": row.name}
    return {"coding": [{"system": LOINC_SYSTEM, "code": m.coding.code, "display": m.coding.display}],
            "text": row.name}


def _value(row: LabRow, m: Measure, comparator: str) -> dict:
    if m.value is None:
        return {"valueString": row.text} if row.text else {}
    quantity = _quantity(m.value, m)
    return {"valueQuantity": {**quantity, "comparator": comparator} if comparator else quantity}


def _reference_range(row: LabRow, m: Measure) -> list[dict]:
    limits = {k: _quantity(v, m) for k, v in (("low", m.low), ("high", m.high)) if v is not None}
    if limits:
        return [limits]
    return [{"text": row.text}] if row.value is not None and row.text else []


def _notes(row: LabRow, m: Measure) -> list[dict]:
    notes = [_printed(row)] if m.converted else []
    if m.coding is None:
        notes.append(f"Not coded: {m.why_uncoded or 'no LOINC test matched the printed name'}.")
    return [{"text": note} for note in notes]


def observation(row: LabRow, report: ParsedReport, patient_id: str, document_reference_id: str) -> dict:
    test = match_test(row.name)
    comparator, bound = _comparator(row.text) if row.value is None else ("", None)
    m = measure(row, row.value if row.value is not None else bound, test)
    resource: dict = {
        "resourceType": "Observation",
        "status": "preliminary",
        "category": [{"coding": [{"system": OBSERVATION_CATEGORY, "code": "laboratory", "display": "Laboratory"}]}],
        "code": _code(row, m),
        "subject": {"reference": f"Patient/{patient_id}"},
        **({"effectiveDateTime": when} if (when := report.collected or report.reported) else {}),
        **_value(row, m, comparator),
        "derivedFrom": [{"reference": f"DocumentReference/{document_reference_id}"}],
    }
    if flag := interpretation(row, comparator):
        resource["interpretation"] = [{"coding": [{"system": INTERPRETATION_SYSTEM, "code": flag,
                                                   "display": INTERPRETATIONS[flag]}]}]
    if ranges := _reference_range(row, m):
        resource["referenceRange"] = ranges
    if notes := _notes(row, m):
        resource["note"] = notes
    if report.specimen:
        resource["specimen"] = {"display": report.specimen}
    return resource


def diagnostic_report(report: ParsedReport, patient_id: str, result_ids: list[str]) -> dict:
    resource: dict = {
        "resourceType": "DiagnosticReport",
        "status": "preliminary",
        "category": [{"coding": [{"system": DIAGNOSTIC_SERVICE, "code": "LAB", "display": "Laboratory"}]}],
        "code": {"coding": [{"system": LOINC_SYSTEM, "code": LAB_REPORT[0], "display": LAB_REPORT[1]}]},
        "subject": {"reference": f"Patient/{patient_id}"},
        "result": [{"reference": f"Observation/{i}"} for i in result_ids],
    }
    if when := report.collected or report.reported:
        resource["effectiveDateTime"] = when
    if report.laboratory:
        resource["performer"] = [{"display": report.laboratory}]
    if report.specimen:
        resource["specimen"] = [{"display": report.specimen}]
    return resource


def provenance(targets: list[str], document_reference_id: str, author_display: str) -> dict:
    return {
        "resourceType": "Provenance",
        "target": [{"reference": target} for target in targets],
        "recorded": instant(now()),
        "activity": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-DataOperation",
                                 "code": "CREATE"}]},
        "agent": [{"type": {"coding": [{"system": PARTICIPANT_TYPE, "code": "author"}]},
                   "who": {"display": author_display}}],
        "entity": [{"role": "source", "what": {"reference": f"DocumentReference/{document_reference_id}"}}],
    }


def lab_report_resources(report: ParsedReport, patient_id: str, document_reference_id: str,
                         author_display: str) -> list[tuple[dict, str]]:
    """(resource, new id) pairs for Repository.create_many: one Observation per row, the DiagnosticReport that
    lists them, and one Provenance naming the DocumentReference they were read from. All unconfirmed."""
    observations = [(observation(row, report, patient_id, document_reference_id), new_id()) for row in report.rows]
    report_id = new_id()
    result_ids = [i for _, i in observations]
    resources = [*observations, (diagnostic_report(report, patient_id, result_ids), report_id)]
    targets = [f"Observation/{i}" for i in result_ids] + [f"DiagnosticReport/{report_id}"]
    resources.append((provenance(targets, document_reference_id, author_display), new_id()))
    return [(with_confirmation(resource, UNCONFIRMED), fhir_id) for resource, fhir_id in resources]
