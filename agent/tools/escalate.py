"""escalate: ask the care team to look at this patient soon (an urgent Flag and a live alert)."""

from __future__ import annotations

from agent.safety.rules import Level
from agent.safety.triage import TriageResult
from agent.tools.base import Tool, ToolContext, ToolError


def handle(context: ToolContext, arguments: dict) -> str:
    from webapp.actions.flags import do_raise_red_flag
    from webapp.chat.models import Message

    message = Message.objects.filter(id=context.message_id).select_related("conversation__patient").first()
    if message is None:
        raise ToolError("there is no patient message to escalate from")
    flag = do_raise_red_flag(message, TriageResult(Level.URGENT, [f"agent escalation: {arguments['reason']}"]))
    if flag is None:
        raise ToolError("the escalation could not be recorded; tell the patient to contact their clinic directly")
    context.notes.append(f"escalated: Flag/{flag['id']}")
    return "The care team has been alerted and asked to respond today."


TOOL = Tool(
    name="escalate",
    description="Alert the patient's care team that this patient should be seen today, with the reason.",
    parameters={"type": "object", "properties": {"reason": {"type": "string", "minLength": 5, "maxLength": 500}},
                "required": ["reason"], "additionalProperties": False},
    handler=handle,
)
