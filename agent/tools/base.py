"""What every tool is: a name, a JSON schema for its arguments, who may use it and when, and a handler."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from fhir.store import Repository

# Who is acting: the agent talking to a patient, or (later) one answering a clinician.
PATIENT_AGENT = "patient_agent"
# Where the consultation is: still taking the history, ready to advise, or handling an emergency.
PHASES = frozenset({"inquiry", "advice", "emergency"})


@dataclass
class ToolContext:
    """What a handler may use: the patient's record through the agent's own Repository, and the source message."""

    patient_id: str  # FHIR Patient id
    repo: Repository
    message_id: int | None = None
    conversation_id: int | None = None
    notes: list[str] = field(default_factory=list)  # what handlers did, for the trajectory
    evidence: list = field(default_factory=list)  # passages search_evidence returned (the grounding check uses them)
    # Examination findings and test results on request: only a simulated consultation has someone to examine
    # the patient (agent/simulation/measurement.py); in live care this is None and the tool is not offered.
    examine: Callable[[str, str], str] | None = None

    def can(self, need: str) -> bool:
        """Whether what a tool needs is here (tools that need nothing always are)."""
        return not need or (need == "examinations" and self.examine is not None)


class ToolError(Exception):
    """The call was understood but cannot be done; the message goes back to the model."""


@dataclass(frozen=True)
class Tool:
    name: str
    description: str
    parameters: dict  # JSON schema of the arguments (an object)
    handler: Callable[[ToolContext, dict], str]
    roles: frozenset[str] = frozenset({PATIENT_AGENT})
    phases: frozenset[str] = PHASES
    needs: str = ""  # a capability of the context it needs ("examinations"), offered only where it is there

    def spec(self) -> dict:
        """The OpenAI 'tools' entry for native tool calling."""
        return {"type": "function", "function": {"name": self.name, "description": self.description,
                                                 "parameters": self.parameters}}
