"""The evidence agent: explains and advises once the history is sufficient, grounded in what the record
holds. Retrieval of authoritative sources with citations (issue 6) adds its search tool here."""

from __future__ import annotations

from agent.agents.base import Agent

AGENT = Agent(
    name="evidence",
    purpose="explains and advises once the history is sufficient",
    instructions="The history is sufficient: explain plainly what this could mean and what the patient can "
                 "safely do now, say when and how soon they should be seen, and what would make it urgent. "
                 "Base what you say on established medical guidance and the patient's record; say what you "
                 "do not know. Do not prescribe or give a diagnosis as certain.",
    tools=frozenset(),
)
