"""Trend rules: deterministic checks of a patient's readings over time, run after new measurements are recorded.

Each rule looks at the newest readings of one measurement (oldest first, rejected and entered-in-error readings
left out) and, when it fires, names the readings that made it fire. The Flag it leaves carries an identifier
made of the rule and those readings, so the same readings never raise it twice; a later reading that keeps the
trend going is a new set and raises a new Flag.

Thresholds (clinical judgement, kept here in one place and stated in docs/dashboard.md):
- rising home blood pressure: three consecutive readings within 14 days, systolic rising at each step ending at
  or above 135 mmHg, or diastolic rising ending at or above 85 mmHg (NICE NG136's home-monitoring threshold);
- weight gain in heart failure: more than 2 kg above any reading of the 3 days before the newest (a common
  heart-failure self-care instruction), only when heart failure is on the record;
- falling peak flow: below 80 % of the personal best (the best earlier reading), or three consecutive falling
  readings within 14 days that have lost at least 10 % (asthma action plans' "yellow zone");
- low oxygen saturation: below 92 % (88 % for a patient with COPD on the record, whose target is 88-92 %);
- low blood glucose: below 4.0 mmol/L ("four is the floor").
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from agent.measurements.kinds import (
    DIASTOLIC,
    GLUCOSE_MG_DL_PER_MMOL_L,
    KG_PER_LB,
    KINDS,
    LOINC_SYSTEM,
    SYSTOLIC,
    fahrenheit_to_celsius,
)
from agent.safety.escalation import DEADLINE_EXTENSION
from fhir.release import REJECTED, confirmation_of
from fhir.store import Repository

TREND_RULE_SYSTEM = "https://continuum.health/fhir/CodeSystem/trend-rule"
TREND_FLAG_SYSTEM = "https://continuum.health/fhir/sid/trend-rule-readings"
SNOMED = "http://snomed.info/sct"
ICD10_SYSTEMS = ("http://hl7.org/fhir/sid/icd-10", "http://hl7.org/fhir/sid/icd-10-cm")

BP_WINDOW = timedelta(days=14)
BP_HOME_SYSTOLIC, BP_HOME_DIASTOLIC = 135.0, 85.0
WEIGHT_WINDOW, WEIGHT_GAIN_KG = timedelta(days=3), 2.0
PEAK_FLOW_OF_BEST, PEAK_FLOW_WINDOW, PEAK_FLOW_FALL = 0.8, timedelta(days=14), 0.1
SPO2_LOW, SPO2_LOW_COPD = 92.0, 88.0
GLUCOSE_LOW = 4.0
READINGS_PER_KIND = 200  # the newest; a personal best older than 200 readings is not this patient's best today


@dataclass(frozen=True)
class Condition:
    snomed: frozenset[str]
    icd10_prefix: str
    words: re.Pattern


# Heart failure: SNOMED CT 84114007 and its commonest recorded children (congestive, chronic congestive, left,
# reduced ejection fraction), ICD-10 I50.*, or the words.
HEART_FAILURE = Condition(frozenset({"84114007", "42343007", "88805009", "85232009", "703272007"}), "I50",
                          re.compile(r"heart failure|cardiac failure|\bchf\b|\bccf\b|\bhfref\b|\bhfpef\b", re.I))
COPD = Condition(frozenset({"13645005"}), "J44", re.compile(r"\bcopd\b|chronic obstructive|emphysema", re.I))


@dataclass(frozen=True)
class Reading:
    id: str  # Observation id
    at: datetime
    values: tuple[float, ...]  # canonical unit; blood pressure: (systolic, diastolic)

    def show(self, unit: str) -> str:
        value = "/".join(f"{v:g}" for v in self.values)
        return f"{value}{'' if unit == '%' else ' '}{unit} ({self.at.strftime('%Y-%m-%d %H:%M')} UTC)"


@dataclass(frozen=True)
class Firing:
    rule: str  # the code in TREND_RULE_SYSTEM
    display: str
    text: str  # names the readings
    readings: tuple[Reading, ...]

    @property
    def identifier(self) -> str:
        """The rule and its readings: the same readings never raise the rule twice."""
        ids = ",".join(sorted(r.id for r in self.readings))
        return f"{self.rule}:{hashlib.sha256(ids.encode()).hexdigest()[:32]}"


# ---- reading the record ---------------------------------------------------------------------------------------

# Units a reading may arrive in from elsewhere (an EHR), converted to the kind's canonical one.
_CONVERSIONS: dict[tuple[str, str], Callable[[float], float]] = {
    ("kg", "[lb_av]"): lambda v: v * KG_PER_LB,
    ("kg", "g"): lambda v: v / 1000,
    ("Cel", "[degF]"): fahrenheit_to_celsius,
    ("mmol/L", "mg/dL"): lambda v: v / GLUCOSE_MG_DL_PER_MMOL_L,
    ("/min", "{beats}/min"): lambda v: v,
    ("L/min", "l/min"): lambda v: v,
}


def _canonical(quantity: dict, unit: str) -> float | None:
    value = quantity.get("value")
    if not isinstance(value, int | float) or isinstance(value, bool):
        return None
    code = quantity.get("code") or quantity.get("unit") or ""
    if code == unit:
        return float(value)
    convert = _CONVERSIONS.get((unit, code))
    return float(convert(value)) if convert else None


def _has_code(concept: dict, code: str) -> bool:
    return any(c.get("system") == LOINC_SYSTEM and c.get("code") == code for c in concept.get("coding") or [])


def _when(observation: dict) -> datetime | None:
    text = observation.get("effectiveDateTime") or (observation.get("effectivePeriod") or {}).get("start")
    if not text or len(text) < 16:  # a date without a time cannot be ordered against readings of the same day
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else None


def readings_of(observations: list[dict], kind_key: str) -> list[Reading]:
    """The usable readings of one kind, oldest first: not rejected, not in error, timed, in a known unit."""
    kind = KINDS[kind_key]
    readings = []
    for observation in observations:
        if confirmation_of(observation) == REJECTED or observation.get("status") in ("entered-in-error",
                                                                                     "cancelled"):
            continue
        at = _when(observation)
        if at is None or not _has_code(observation.get("code") or {}, kind.code):
            continue
        if kind_key == "blood-pressure":
            parts = {}
            for component in observation.get("component") or []:
                for part in (SYSTOLIC, DIASTOLIC):
                    if _has_code(component.get("code") or {}, part.code):
                        parts[part.code] = _canonical(component.get("valueQuantity") or {}, kind.unit)
            values = (parts.get(SYSTOLIC.code), parts.get(DIASTOLIC.code))
        else:
            values = (_canonical(observation.get("valueQuantity") or {}, kind.unit),)
        if None not in values:
            readings.append(Reading(observation["id"], at, values))  # type: ignore[arg-type]
    return sorted(readings, key=lambda r: (r.at, r.id))


def has_condition(conditions: list[dict], condition: Condition) -> bool:
    """Whether a Condition on the record (not refuted, rejected, resolved or in error) is this one."""
    for resource in conditions:
        statuses = {c.get("code") for key in ("clinicalStatus", "verificationStatus")
                    for c in (resource.get(key) or {}).get("coding") or []}
        if statuses & {"refuted", "entered-in-error", "inactive", "resolved", "remission"}:
            continue
        if confirmation_of(resource) == REJECTED:
            continue
        concept = resource.get("code") or {}
        for coding in concept.get("coding") or []:
            code = coding.get("code") or ""
            if coding.get("system") == SNOMED and code in condition.snomed:
                return True
            if coding.get("system") in ICD10_SYSTEMS and code.upper().startswith(condition.icd10_prefix):
                return True
        texts = [concept.get("text") or ""] + [c.get("display") or "" for c in concept.get("coding") or []]
        if any(condition.words.search(text) for text in texts):
            return True
    return False


# ---- the rules ------------------------------------------------------------------------------------------------

def _rising(values: list[float]) -> bool:
    return all(later > earlier for earlier, later in zip(values, values[1:], strict=False))


def rising_blood_pressure(readings: list[Reading]) -> Firing | None:
    last = readings[-3:]
    if len(last) < 3 or last[-1].at - last[0].at > BP_WINDOW:
        return None
    systolic, diastolic = [r.values[0] for r in last], [r.values[1] for r in last]
    if not ((_rising(systolic) and systolic[-1] >= BP_HOME_SYSTOLIC)
            or (_rising(diastolic) and diastolic[-1] >= BP_HOME_DIASTOLIC)):
        return None
    shown = ", ".join(r.show("mmHg") for r in last)
    return Firing("blood-pressure-rising", "Rising home blood pressure",
                  f"Home blood pressure rising over three readings to {last[-1].values[0]:g}/{last[-1].values[1]:g} "
                  f"mmHg: {shown}", tuple(last))


def weight_gain_in_heart_failure(readings: list[Reading], heart_failure: bool) -> Firing | None:
    if not heart_failure or len(readings) < 2:
        return None
    newest = readings[-1]
    earlier = [r for r in readings[:-1] if newest.at - WEIGHT_WINDOW <= r.at < newest.at]
    if not earlier:
        return None
    lightest = min(earlier, key=lambda r: (r.values[0], r.at))
    gain = newest.values[0] - lightest.values[0]
    if gain <= WEIGHT_GAIN_KG:
        return None
    return Firing("weight-gain-heart-failure", "Weight gain in heart failure",
                  f"Weight up {gain:.1f} kg within 3 days in a patient with heart failure: "
                  f"{lightest.show('kg')} then {newest.show('kg')}", (lightest, newest))


def falling_peak_flow(readings: list[Reading]) -> Firing | None:
    if len(readings) < 2:
        return None
    newest = readings[-1]
    best = max(readings[:-1], key=lambda r: (r.values[0], r.at))
    reasons, involved = [], {newest}
    if newest.values[0] < PEAK_FLOW_OF_BEST * best.values[0]:
        share = round(100 * newest.values[0] / best.values[0])
        reasons.append(f"{share}% of the personal best {best.show('L/min')}")
        involved.add(best)
    last = readings[-3:]
    values = [r.values[0] for r in last]
    if (len(last) == 3 and last[-1].at - last[0].at <= PEAK_FLOW_WINDOW and _rising(values[::-1])
            and values[-1] <= (1 - PEAK_FLOW_FALL) * values[0]):
        reasons.append("falling over three readings: " + ", ".join(r.show("L/min") for r in last))
        involved.update(last)
    if not reasons:
        return None
    return Firing("peak-flow-falling", "Falling peak flow",
                  f"Peak flow {newest.show('L/min')}: " + "; ".join(reasons),
                  tuple(sorted(involved, key=lambda r: (r.at, r.id))))


def low_oxygen_saturation(readings: list[Reading], copd: bool) -> Firing | None:
    if not readings:
        return None
    newest, floor = readings[-1], SPO2_LOW_COPD if copd else SPO2_LOW
    if newest.values[0] >= floor:
        return None
    who = " (COPD on the record: threshold 88%)" if copd else ""
    return Firing("oxygen-saturation-low", "Low oxygen saturation",
                  f"Oxygen saturation {newest.show('%')} is below {floor:g}%{who}", (newest,))


def low_blood_glucose(readings: list[Reading]) -> Firing | None:
    if not readings or readings[-1].values[0] >= GLUCOSE_LOW:
        return None
    newest = readings[-1]
    return Firing("blood-glucose-low", "Low blood glucose",
                  f"Blood glucose {newest.show('mmol/L')} is below {GLUCOSE_LOW:g} mmol/L (hypoglycaemia)", (newest,))


# Which measurements each rule reads; the conditions it asks about are read only when one of them is needed.
RULE_KINDS = ("blood-pressure", "body-weight", "peak-flow", "oxygen-saturation", "blood-glucose")


def evaluate(repo: Repository, patient_id: str, kinds: set[str]) -> list[Firing]:
    """Run the rules of the measurements just recorded (``kinds``) over the patient's readings, read through
    ``repo`` (the agent's, so the reads are audited): one batch of searches, one AuditEvent."""
    wanted = [k for k in RULE_KINDS if k in kinds]
    if not wanted:
        return []
    patient = ("patient", f"Patient/{patient_id}")
    searches = [("Observation", [patient, ("code", f"{LOINC_SYSTEM}|{KINDS[k].code}"), ("_sort", "-date"),
                                 ("_count", str(READINGS_PER_KIND)), ("_total", "none")]) for k in wanted]
    needs_conditions = bool({"body-weight", "oxygen-saturation"} & set(wanted))
    if needs_conditions:
        searches.append(("Condition", [patient, ("_count", "500"), ("_total", "none")]))
    results = repo.search_many(searches)
    conditions = results[-1].matches if needs_conditions else []
    readings = {k: readings_of(result.matches, k) for k, result in zip(wanted, results, strict=False)}
    fired = [
        rising_blood_pressure(readings["blood-pressure"]) if "blood-pressure" in readings else None,
        weight_gain_in_heart_failure(readings["body-weight"], has_condition(conditions, HEART_FAILURE))
        if "body-weight" in readings else None,
        falling_peak_flow(readings["peak-flow"]) if "peak-flow" in readings else None,
        low_oxygen_saturation(readings["oxygen-saturation"], has_condition(conditions, COPD))
        if "oxygen-saturation" in readings else None,
        low_blood_glucose(readings["blood-glucose"]) if "blood-glucose" in readings else None,
    ]
    return [f for f in fired if f is not None]


def trend_flag(patient_id: str, firing: Firing, at: datetime, respond_within: timedelta) -> dict:
    """The Flag one firing leaves: clinical, coded with its rule, naming its readings, with a response deadline."""
    return {
        "resourceType": "Flag",
        "identifier": [{"system": TREND_FLAG_SYSTEM, "value": firing.identifier}],
        "status": "active",
        "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/flag-category",
                                  "code": "clinical", "display": "Clinical"}]}],
        "code": {"coding": [{"system": TREND_RULE_SYSTEM, "code": firing.rule, "display": firing.display}],
                 "text": firing.text[:1000]},
        "subject": {"reference": f"Patient/{patient_id}"},
        "period": {"start": at.isoformat()},
        "author": {"display": "Continuum trend rules"},
        "extension": [{"url": DEADLINE_EXTENSION, "valueDateTime": (at + respond_within).isoformat()}],
    }
