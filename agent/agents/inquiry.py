"""The inquiry agent: takes the history. The picture (agent/inquiry/picture.py) says what is known and
what to ask; this agent turns it into the instructions the model answers with."""

from __future__ import annotations

from agent.agents.base import Agent
from agent.inquiry.picture import Picture

AGENT = Agent(
    name="inquiry",
    purpose="asks the most informative missing question or two until the history is sufficient",
    instructions="You are still taking the history. Do not advise, suggest treatment or name a likely "
                 "diagnosis in this message: acknowledge briefly, then ask only the questions below, in your "
                 "own words, in one short message.",
    tools=frozenset(),
)


def instructions(picture: Picture, language: str) -> str:
    """What the model is told about the consultation this turn."""
    if picture.complaint is None:
        return ""
    known = picture.known_lines()
    lines = [f"Consultation about: {picture.complaint.label}.",
             "Known so far (do not ask again): " + ("; ".join(known) if known else "nothing yet") + "."]
    if picture.phase == "inquiry":
        lines.append(AGENT.instructions)
        lines += [f"{i}. {picture.question(slot, language)}" for i, slot in enumerate(picture.ask, 1)]
    elif picture.missing:
        lines.append(f"Not known: {', '.join(picture.missing)}. {picture.reason.capitalize()}; say what is unknown.")
    return "\n".join(lines)


def fallback_question(picture: Picture, language: str) -> str:
    """Asked by the harness when the model's reply asked nothing while the history is incomplete."""
    return " ".join(picture.question(slot, language) for slot in picture.ask)
