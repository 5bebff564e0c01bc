"""What a red flag leaves in the record: a FHIR Flag with its level, reasons and response deadline."""

from __future__ import annotations

from datetime import datetime, timedelta

from agent.safety.rules import Level
from agent.safety.triage import TriageResult
from fhir.extensions import extension_definition, extension_url

TRIAGE_LEVEL_SYSTEM = "https://continuum.health/fhir/CodeSystem/triage-level"
TRIAGE_MESSAGE_SYSTEM = "https://continuum.health/fhir/sid/triage-message"
DEADLINE_EXTENSION = extension_url("response-deadline")
DISPLAY = {Level.EMERGENCY: "Emergency red flag", Level.URGENT: "Urgent: to be seen today"}

# The definition of the deadline extension, so that FHIR validators (and readers) know what it is.
DEADLINE_DEFINITION = extension_definition(
    "response-deadline", "ResponseDeadline", "Response deadline",
    "When a clinician must have responded to the red flag that this Flag records.", context="Flag",
    elements=[
        {"id": "Extension.extension", "path": "Extension.extension", "max": "0"},
        {"id": "Extension.url", "path": "Extension.url", "fixedUri": extension_url("response-deadline")},
        {"id": "Extension.value[x]", "path": "Extension.value[x]", "min": 1, "type": [{"code": "dateTime"}]},
    ])


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
