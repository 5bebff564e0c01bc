"""The safety agent: what needs a human. The deterministic red-flag triage (agent/safety) has already run
on the message before any turn; this agent escalates what the model notices later, turns what only a
clinician may do into proposals, and holds the reply's sentence gate (agent/policies/advice.py)."""

from __future__ import annotations

from agent.agents.base import Agent
from agent.evidence.grounding import Grounder
from agent.policies.advice import SentenceGate

AGENT = Agent(
    name="safety",
    purpose="escalates danger and passes clinician-only actions to the care team as proposals",
    instructions="If what the patient said needs the care team soon, escalate with the reason. A prescription, "
                 "medication change, test or diagnosis is never done here: propose it to the clinician.",
    tools=frozenset({"escalate", "propose_to_clinician", "schedule_checkin"}),
)


def gate(phase: str, grounder: Grounder | None = None, sources: list[str] | None = None,
         language: str = "en") -> SentenceGate:
    """While the history is being taken, advice is withheld sentence by sentence; with a grounder, every
    sentence's claims are checked before it is released."""
    return SentenceGate(active=phase == "inquiry", grounder=grounder, sources=sources, language=language)
