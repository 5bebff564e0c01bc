"""propose_to_clinician: what the agent may not do itself (prescribe, change medication, order a test, diagnose)
becomes a proposal that waits for a clinician."""

from __future__ import annotations

from agent.tools.base import Tool, ToolContext

PROPOSAL_KINDS = ("medication-change", "prescription", "test-order", "diagnosis", "referral")
PROPOSAL_SYSTEM = "https://continuum.health/fhir/CodeSystem/agent-proposal"


def handle(context: ToolContext, arguments: dict) -> str:
    task = {
        "resourceType": "Task", "status": "requested", "intent": "proposal", "priority": "routine",
        "code": {"coding": [{"system": PROPOSAL_SYSTEM, "code": arguments["kind"]}]},
        "description": arguments["summary"][:1000],
        "for": {"reference": f"Patient/{context.patient_id}"},
        "requester": {"display": "Continuum agent"},
        "note": [{"text": f"Why: {arguments['reason'][:1000]}"}],
    }
    written = context.repo.create(task).resource
    context.notes.append(f"proposed Task/{written['id']}")
    return "The proposal is waiting for the care team to review; tell the patient a clinician will decide."


TOOL = Tool(
    name="propose_to_clinician",
    description="Propose to the care team something only a clinician may do: a prescription, a medication change, "
                "a test, a diagnosis or a referral. A clinician reviews it; nothing happens until they approve.",
    parameters={"type": "object", "properties": {
        "kind": {"type": "string", "enum": list(PROPOSAL_KINDS)},
        "summary": {"type": "string", "minLength": 5, "maxLength": 500},
        "reason": {"type": "string", "minLength": 5, "maxLength": 1000}},
        "required": ["kind", "summary", "reason"], "additionalProperties": False},
    handler=handle,
    phases=frozenset({"advice"}),  # proposing treatment before the history is taken is premature
)
