"""The memory agent: reads the patient's record for the turn (deterministically, no model call) and records
what the patient reports, unconfirmed, for a clinician to confirm."""

from __future__ import annotations

from agent.agents.base import Agent

AGENT = Agent(
    name="memory",
    purpose="reads the record for the turn and records what the patient reports (unconfirmed)",
    instructions="Record each new fact the patient reported in their last message (a symptom with its onset, "
                 "a condition, a medication they take, an allergy, a home measurement), once. Do not record "
                 "what the record already holds or what the patient only asked about.",
    tools=frozenset({"recall_record", "record_fact"}),
)
