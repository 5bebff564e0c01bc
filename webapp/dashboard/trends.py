"""Trends of a patient's vitals and labs for the care team: one series per measured quantity (a blood pressure's
systolic and diastolic are two), oldest first, with the reference range where the record gives one. Read through
the clinician's audited Repository; drawn in the page by Chart.js (static/trends.js)."""

from __future__ import annotations

from dataclasses import dataclass, field

from agent.memory.recall import concept_text
from fhir.access import requester_for_user
from fhir.release import REJECTED, confirmation_of
from fhir.store import Repository
from webapp.accounts.models import User

MAX_OBSERVATIONS = 1000  # the newest, one search: a plot of more points than this says nothing more at a glance


@dataclass
class Series:
    key: str  # system|code
    label: str
    unit: str
    points: list[dict] = field(default_factory=list)  # {"t": ISO date-time, "v": number, "level": confirmation}
    low: float | None = None
    high: float | None = None

    def as_json(self) -> dict:
        return {"label": self.label, "unit": self.unit, "points": self.points, "low": self.low, "high": self.high}


def _quantities(observation: dict) -> list[tuple[dict, dict, list]]:
    """(code, valueQuantity, referenceRange) of the observation itself and of each of its components."""
    found = []
    if isinstance(observation.get("valueQuantity", {}).get("value"), int | float):
        found.append((observation.get("code") or {}, observation["valueQuantity"],
                      observation.get("referenceRange") or []))
    for component in observation.get("component") or []:
        if isinstance(component.get("valueQuantity", {}).get("value"), int | float):
            found.append((component.get("code") or {}, component["valueQuantity"],
                          component.get("referenceRange") or []))
    return found


def newest_observations(reader: User, patient: User, count: int = MAX_OBSERVATIONS) -> list[dict]:
    """The patient's newest observations as `reader` may see them, newest first: one sorted search that the trends,
    the record's recent observations and the timeline of one page all share (a patient with 10,000 readings costs
    one scan, not three)."""
    if not patient.fhir_id:
        return []
    repo = Repository(requester_for_user(reader), channel="app")
    return repo.search("Observation", [("patient", f"Patient/{patient.fhir_id}"), ("_sort", "-date"),
                                       ("_count", str(count)), ("_total", "none")]).matches


def patient_trends(reader: User, patient: User, min_points: int = 2, observations: list[dict] | None = None
                   ) -> list[Series]:
    """Series with at least `min_points` values, the most recently measured first, as `reader` may see them (a
    clinician: the record; the patient: what was released to them)."""
    if not patient.fhir_id:
        return []
    if observations is None:
        observations = newest_observations(reader, patient)
    series: dict[str, Series] = {}
    for observation in reversed(observations):  # oldest first
        when = observation.get("effectiveDateTime") or observation.get("issued") or ""
        level = confirmation_of(observation)
        if not when or level == REJECTED or observation.get("status") == "entered-in-error":
            continue
        for code, quantity, ranges in _quantities(observation):
            coding = (code.get("coding") or [{}])[0]
            key = f"{coding.get('system', '')}|{coding.get('code', '')}" if coding.get("code") else concept_text(code)
            unit = quantity.get("unit") or quantity.get("code") or ""
            entry = series.setdefault(key, Series(key, concept_text(code), unit))
            entry.points.append({"t": when[:16], "v": quantity["value"], "level": level or "recorded"})
            for reference in ranges[:1]:  # the newest range given wins
                entry.low = reference.get("low", {}).get("value", entry.low)
                entry.high = reference.get("high", {}).get("value", entry.high)
    chosen = [s for s in series.values() if len(s.points) >= min_points]
    return sorted(chosen, key=lambda s: s.points[-1]["t"], reverse=True)
