"""Readings -> unconfirmed FHIR Observations, written once each through the agent's Repository.

Each Observation carries an identifier made of the message id, the kind and its place among that message's
readings of that kind: recording a message again (a retried task) finds what the first run wrote.
"""

from __future__ import annotations

from datetime import datetime

from agent.measurements.kinds import DIASTOLIC, KINDS, LOINC_SYSTEM, OBSERVATION_CATEGORY, SYSTOLIC, UCUM_SYSTEM, Kind
from agent.measurements.parse import Measurement
from agent.memory.record import MESSAGE_SYSTEM
from fhir.persistence import instant, new_id, now
from fhir.release import UNCONFIRMED, with_confirmation
from fhir.store import PARTICIPANT_TYPE, Repository

MEASUREMENT_SYSTEM = "https://continuum.health/fhir/sid/reported-measurement"
LABELS = {"blood-pressure": "Blood pressure", "heart-rate": "Heart rate", "body-temperature": "Body temperature",
          "oxygen-saturation": "Oxygen saturation", "body-weight": "Body weight", "peak-flow": "Peak flow",
          "blood-glucose": "Blood glucose"}
CATEGORY_DISPLAY = {"vital-signs": "Vital Signs", "laboratory": "Laboratory"}


def identifiers(message_id: int, measurements: list[Measurement]) -> list[str]:
    """``<message>:<kind>:<n>``, n counting that kind's readings in the message from 1."""
    seen: dict[str, int] = {}
    values = []
    for m in measurements:
        seen[m.kind] = seen.get(m.kind, 0) + 1
        values.append(f"{message_id}:{m.kind}:{seen[m.kind]}")
    return values


def _quantity(value: float, kind: Kind) -> dict:
    number = round(value, kind.decimals)
    return {"value": int(number) if kind.decimals == 0 else number, "unit": kind.unit_text, "system": UCUM_SYSTEM,
            "code": kind.unit}


def _coding(code: str, display: str) -> dict:
    return {"system": LOINC_SYSTEM, "code": code, "display": display}


def observation(measurement: Measurement, patient_id: str, identifier: str, at: datetime) -> dict:
    """One reading as the patient reported it: theirs (performer), when they said it, not yet confirmed."""
    kind = KINDS[measurement.kind]
    resource: dict = {
        "resourceType": "Observation",
        "identifier": [{"system": MEASUREMENT_SYSTEM, "value": identifier}],
        "status": "preliminary",
        "category": [{"coding": [{"system": OBSERVATION_CATEGORY, "code": kind.category,
                                  "display": CATEGORY_DISPLAY[kind.category]}]}],
        "code": {"coding": [_coding(c.code, c.display) for c in kind.codings], "text": LABELS[kind.key]},
        "subject": {"reference": f"Patient/{patient_id}"},
        "effectiveDateTime": at.isoformat(),
        "performer": [{"reference": f"Patient/{patient_id}"}],
        "note": [{"text": f"Reported by the patient in chat as \"{measurement.printed}\"."}],
    }
    if measurement.kind == "blood-pressure":
        resource["component"] = [
            {"code": {"coding": [_coding(part.code, part.display)]}, "valueQuantity": _quantity(value, kind)}
            for part, value in ((SYSTOLIC, measurement.values[0]), (DIASTOLIC, measurement.values[1]))]
    else:
        resource["valueQuantity"] = _quantity(measurement.value, kind)
    return with_confirmation(resource, UNCONFIRMED)


def _provenance(target: str, repo: Repository, patient_id: str, message_id: int) -> dict:
    return {
        "resourceType": "Provenance",
        "target": [{"reference": target}],
        "recorded": instant(now()),
        "activity": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-DataOperation",
                                 "code": "CREATE"}]},
        "agent": [{"type": {"coding": [{"system": PARTICIPANT_TYPE, "code": "author"}]},
                   "who": {"display": repo.requester.display}},
                  {"type": {"coding": [{"system": PARTICIPANT_TYPE, "code": "informant"}]},
                   "who": {"reference": f"Patient/{patient_id}"}}],
        "entity": [{"role": "source", "what": {"identifier": {"system": MESSAGE_SYSTEM, "value": str(message_id)}}}],
    }


def record_measurements(repo: Repository, patient_id: str, message_id: int, at: datetime,
                        measurements: list[Measurement]) -> list[tuple[dict, bool]]:
    """Write each reading not written before, with a Provenance naming the message; (Observation, created) each.
    The caller serialises runs for one message (two runs at once could both find nothing and both write)."""
    written = []
    for measurement, identifier in zip(measurements, identifiers(message_id, measurements), strict=True):
        existing = repo.conditional_match("Observation", f"identifier={MEASUREMENT_SYSTEM}|{identifier}")
        if existing is not None:
            written.append((existing, False))
            continue
        fact_id = new_id()
        resource = observation(measurement, patient_id, identifier, at)
        created, _ = repo.create_many([(resource, fact_id),
                                       (_provenance(f"Observation/{fact_id}", repo, patient_id, message_id),
                                        new_id())])
        written.append((created.resource, True))
    return written
