"""schedule_checkin: the agent arranges to ask the patient again later ("blood pressure in 3 days", "how is the
rash after a week").

Inside an active follow-up plan that a clinician approved, and that covers it (its period and what its check-ins
are about), the agent schedules the check-in itself. Outside one it only proposes it: a draft plan waits for a
clinician, and the model is told to say so rather than promise a check-in. "In 3 days" is counted on the patient's
calendar and sent at a daytime hour on their clock (webapp/followup/local_time.py)."""

from __future__ import annotations

from agent.tools.base import Tool, ToolContext, ToolError


def handle(context: ToolContext, arguments: dict) -> str:
    from webapp.actions.followup import do_agent_check_in

    try:
        result = do_agent_check_in(context.repo, context.patient_id, arguments["topic"], arguments["question"],
                                   int(arguments["in_days"]))
    except LookupError:
        raise ToolError("this conversation has no patient record to schedule a check-in in") from None
    what = result.resource["resourceType"] + "/" + result.resource["id"]
    if result.outcome == "proposed":
        context.notes.append(f"proposed follow-up {what}")
        return (f"Not scheduled: there is no approved follow-up plan for this, so it was proposed to the care team "
                f"({result.zone_text}). Tell the patient their care team will decide whether to check in; do not "
                "promise a check-in.")
    if result.resource["resourceType"] == "CarePlan":
        return "This check-in was already proposed and is waiting for the care team. Do not promise a check-in."
    context.notes.append(f"scheduled check-in {what}")
    return (f"Scheduled within the approved follow-up plan: the question will be sent on {result.zone_text}. "
            "Tell the patient when you will check in.")


TOOL = Tool(
    name="schedule_checkin",
    description="Arrange to ask the patient a follow-up question in a few days (e.g. their blood pressure in 3 "
                "days, how a rash looks after a week). Scheduled if their approved follow-up plan covers it; "
                "otherwise proposed to the care team.",
    parameters={"type": "object", "properties": {
        "topic": {"type": "string", "minLength": 2, "maxLength": 100},
        "question": {"type": "string", "minLength": 5, "maxLength": 500},
        "in_days": {"type": "integer", "minimum": 1, "maximum": 90}},
        "required": ["topic", "question", "in_days"], "additionalProperties": False},
    handler=handle,
    phases=frozenset({"advice"}),  # following up comes after the history is taken, as proposals do
)
