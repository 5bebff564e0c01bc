"""What a red flag leaves in the record: a FHIR Flag with its level, reasons and response deadline."""

from __future__ import annotations

from datetime import datetime, timedelta

from agent.safety.rules import Level
from agent.safety.triage import TriageResult

TRIAGE_LEVEL_SYSTEM = "https://continuum.health/fhir/CodeSystem/triage-level"
TRIAGE_MESSAGE_SYSTEM = "https://continuum.health/fhir/sid/triage-message"
DEADLINE_EXTENSION = "https://continuum.health/fhir/StructureDefinition/response-deadline"
DISPLAY = {Level.EMERGENCY: "Emergency red flag", Level.URGENT: "Urgent: to be seen today"}


def red_flag(patient_id: str, message_id: int, triage: TriageResult, at: datetime, respond_within: timedelta) -> dict:
    """The Flag for one triaged message; its identifier makes writing it twice harmless."""
    return {
        "resourceType": "Flag",
        "identifier": [{"system": TRIAGE_MESSAGE_SYSTEM, "value": str(message_id)}],
        "status": "active",
        "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/flag-category",
                                  "code": "clinical", "display": "Clinical"}]}],
        "code": {"coding": [{"system": TRIAGE_LEVEL_SYSTEM, "code": str(triage.level),
                             "display": DISPLAY[triage.level]}],
                 "text": f"{DISPLAY[triage.level]}: {'; '.join(triage.reasons)}"[:1000]},
        "subject": {"reference": f"Patient/{patient_id}"},
        "period": {"start": at.isoformat()},
        "author": {"display": "Continuum red-flag triage"},
        "extension": [{"url": DEADLINE_EXTENSION, "valueDateTime": (at + respond_within).isoformat()}],
    }
