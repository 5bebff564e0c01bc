"""Every tool the agent has, by name. Add a tool: write its file, import its TOOL here."""

from __future__ import annotations

from agent.tools import escalate, propose_to_clinician, recall_record, record_fact, search_evidence
from agent.tools.base import Tool

TOOLS: dict[str, Tool] = {tool.name: tool for tool in (
    recall_record.TOOL, record_fact.TOOL, propose_to_clinician.TOOL, escalate.TOOL, search_evidence.TOOL,
)}


def tools_for(role: str, phase: str) -> list[Tool]:
    """The tools offered to the model for this role and phase (the policies check every call again)."""
    return [tool for tool in TOOLS.values() if role in tool.roles and phase in tool.phases]
