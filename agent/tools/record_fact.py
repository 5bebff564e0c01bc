"""record_fact: write down what the patient reports, unconfirmed, with the message it came from."""

from __future__ import annotations

from agent.memory.record import KINDS, ReportedFact, record_reported_fact
from agent.tools.base import Tool, ToolContext


def handle(context: ToolContext, arguments: dict) -> str:
    fact = ReportedFact(kind=arguments["kind"], text=arguments["text"], onset=arguments.get("onset"),
                        value=arguments.get("value"), unit=arguments.get("unit"), detail=arguments.get("detail"))
    written = record_reported_fact(context.repo, context.patient_id, fact, context.message_id or 0)
    context.notes.append(f"recorded {written['resourceType']}/{written['id']}")
    return f"Recorded as unconfirmed {written['resourceType']} ({fact.kind}: {fact.text}); the patient and " \
           "their clinician will confirm it."


TOOL = Tool(
    name="record_fact",
    description="Record something the patient reported (a symptom, condition, medication, allergy or a home "
                "measurement) in their record, as unconfirmed. Never use it for a diagnosis of your own.",
    parameters={"type": "object", "properties": {
        "kind": {"type": "string", "enum": list(KINDS)},
        "text": {"type": "string", "minLength": 2, "maxLength": 200, "description": "in the patient's words"},
        "onset": {"type": "string", "pattern": r"^\d{4}(-\d{2}(-\d{2})?)?$", "description": "YYYY-MM-DD"},
        "value": {"type": "number"},
        "unit": {"type": "string", "maxLength": 20},
        "detail": {"type": "string", "maxLength": 200, "description": "reaction of an allergy, dose of a medicine"}},
        "required": ["kind", "text"], "additionalProperties": False},
    handler=handle,
)
