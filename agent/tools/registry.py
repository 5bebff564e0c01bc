"""Every tool the agent has, by name. Add a tool: write its file, import its TOOL here."""

from __future__ import annotations

from agent.tools import (
    escalate,
    propose_to_clinician,
    recall_record,
    record_fact,
    request_examination,
    schedule_checkin,
    search_evidence,
)
from agent.tools.base import Tool, ToolContext

TOOLS: dict[str, Tool] = {tool.name: tool for tool in (
    recall_record.TOOL, record_fact.TOOL, propose_to_clinician.TOOL, escalate.TOOL, search_evidence.TOOL,
    request_examination.TOOL, schedule_checkin.TOOL,
)}


def tools_for(role: str, phase: str, context: ToolContext | None = None) -> list[Tool]:
    """The tools offered to the model for this role and phase, and that the context can serve (the policies
    check every call again)."""
    return [tool for tool in TOOLS.values() if role in tool.roles and phase in tool.phases
            and (context.can(tool.needs) if context is not None else not tool.needs)]
