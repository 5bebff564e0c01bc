"""request_examination: ask for physical-examination findings or a test result.

Only a simulated consultation has someone to examine the patient (the simulator's measurement role,
agent/simulation/measurement.py): the tool needs the context's "examinations" and is never offered in live
care, where ordering a test stays a proposal for a clinician (agent/policies/actions.py).
"""

from __future__ import annotations

from agent.tools.base import Tool, ToolContext, ToolError


def handle(context: ToolContext, arguments: dict) -> str:
    if context.examine is None:
        raise ToolError("nobody can examine the patient here; propose tests to the clinician instead")
    kind, name = arguments["kind"], arguments["name"].strip()
    context.notes.append(f"requested {kind}: {name}")
    return context.examine(kind, name)


TOOL = Tool(
    name="request_examination",
    description="Get the findings of a physical examination (e.g. 'cardiovascular', 'skin', 'vital signs') or "
                "the result of a test (e.g. 'chest x-ray', 'full blood count') for this patient.",
    parameters={"type": "object", "properties": {
        "kind": {"type": "string", "enum": ["examination", "test"]},
        "name": {"type": "string", "minLength": 2, "maxLength": 100, "description": "what to examine or test"}},
        "required": ["kind", "name"], "additionalProperties": False},
    handler=handle,
    needs="examinations",
)
