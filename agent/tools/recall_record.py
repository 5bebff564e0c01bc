"""recall_record: read the patient's record (allergies, flags, problems, medications, recent observations)."""

from __future__ import annotations

from agent.memory.recall import recall
from agent.tools.base import Tool, ToolContext

BUDGET_CHARS = 2000  # about 500 tokens of the model's context


def handle(context: ToolContext, arguments: dict) -> str:
    return recall(context.repo, context.patient_id, budget_chars=BUDGET_CHARS)


TOOL = Tool(
    name="recall_record",
    description="Read what the patient's record already holds, so you never ask again what is known.",
    parameters={"type": "object", "properties": {}, "additionalProperties": False},
    handler=handle,
)
