"""What a specialist agent is: a name, what it is for, its own instructions and its own tool subset."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Agent:
    name: str
    purpose: str  # one line, for the docs and the trajectory
    instructions: str  # added to the system prompt when this agent speaks through the model
    tools: frozenset[str] = frozenset()  # the only tools its model calls may use (agent/policies checks)
