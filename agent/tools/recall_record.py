"""recall_record: read the patient's record (allergies, flags, problems, medications, recent observations)."""

from __future__ import annotations

from agent.memory.recall import recall
from agent.tools.base import Tool, ToolContext


def handle(context: ToolContext, arguments: dict) -> str:
    return recall(context.repo, context.patient_id, budget_chars=arguments.get("budget_chars", 2000))


TOOL = Tool(
    name="recall_record",
    description="Read what the patient's record already holds, so you never ask again what is known.",
    parameters={"type": "object", "properties": {
        "budget_chars": {"type": "integer", "minimum": 200, "maximum": 4000,
                         "description": "how much text to return at most"}},
        "additionalProperties": False},
    handler=handle,
)
