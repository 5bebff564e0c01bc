"""What the patient-facing agent may do, checked on every tool call, whatever the model was told.

It may ask, explain, look things up, record what the patient reports (unconfirmed), propose to a
clinician and escalate. It may not prescribe, change medication, order tests or record a confirmed
diagnosis: a call to do so is refused, recorded, and the model is told to propose it instead.
"""

from __future__ import annotations

from dataclasses import dataclass

from agent.tools.registry import TOOLS

# Actions a model may try (by these or similar names) that only a clinician may take.
FORBIDDEN_ACTIONS = {
    "prescribe": "prescribing is for clinicians",
    "prescribe_medication": "prescribing is for clinicians",
    "change_medication": "changing medication is for clinicians",
    "stop_medication": "changing medication is for clinicians",
    "adjust_dose": "changing medication is for clinicians",
    "order_test": "ordering tests is for clinicians",
    "order_lab": "ordering tests is for clinicians",
    "record_diagnosis": "a confirmed diagnosis is for clinicians",
    "confirm_diagnosis": "a confirmed diagnosis is for clinicians",
    "diagnose": "a confirmed diagnosis is for clinicians",
}
INSTEAD = "Use propose_to_clinician so the care team can decide."


@dataclass(frozen=True)
class Decision:
    allowed: bool
    code: str  # allowed | forbidden_action | unknown_tool | wrong_role | wrong_agent | wrong_phase | budget
    reason: str


def decide(tool_name: str, *, role: str, phase: str, calls_so_far: int, budget: int,
           agent: str = "", allowed: frozenset[str] | None = None) -> Decision:
    """Whether this call may run. The reason goes back to the model when it may not.

    `agent` and `allowed` are the acting specialist (agent/agents) and its tool subset."""
    key = tool_name.strip().lower()
    if key in FORBIDDEN_ACTIONS:
        return Decision(False, "forbidden_action", f"refused: {FORBIDDEN_ACTIONS[key]}. {INSTEAD}")
    tool = TOOLS.get(tool_name)
    if tool is None:
        return Decision(False, "unknown_tool", f"refused: there is no tool {tool_name!r}; "
                                               f"the tools are {', '.join(sorted(TOOLS))}")
    if role not in tool.roles:
        return Decision(False, "wrong_role", f"refused: {tool_name} is not available to {role}")
    if allowed is not None and tool_name not in allowed:
        return Decision(False, "wrong_agent", f"refused: {tool_name} is not one of the {agent or 'acting'} agent's "
                                              f"tools ({', '.join(sorted(allowed)) or 'none'})")
    if phase not in tool.phases:
        return Decision(False, "wrong_phase", f"refused: {tool_name} cannot be used during {phase}")
    if calls_so_far >= budget:
        return Decision(False, "budget", f"refused: this turn's budget of {budget} tool calls is spent; "
                                         "answer the patient now")
    return Decision(True, "allowed", "")
