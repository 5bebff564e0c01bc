"""The summary agent: a short note for the care team once the history is taken (or a red flag cut it short).

On the CPU plan it is written from the structured picture without a model call; on the full plan
(native tool calling, e.g. vLLM) the model writes it from the conversation with these instructions.

The note is also drafted as a SOAP Composition for the care team to edit, sign and release
(agent/memory/summaries.py builds it from the picture and the record; webapp/actions/summaries.py writes it)."""

from __future__ import annotations

from agent.agents.base import Agent
from agent.inquiry.picture import Picture
from agent.inquiry.slots import SLOTS
from agent.models import InquiryState

AGENT = Agent(
    name="summary",
    purpose="writes the clinician-facing summary of the history",
    instructions="Write a clinician-facing summary of this consultation in at most 6 short lines: chief "
                 "complaint, onset and course, key positives and negatives, medications and allergies, red "
                 "flags, and what is still unknown. Use only what the patient said or the record holds.",
    tools=frozenset(),
)


def due(picture: Picture, previous: InquiryState | None) -> bool:
    """Once per episode: when the consultation reaches advice (history taken, red flag, or enough asking)."""
    if picture.complaint is None or picture.phase != "advice":
        return False
    return not (previous is not None and previous.phase == "advice"
                and previous.episode_started_at == picture.episode_started_at)


def from_picture(picture: Picture) -> str:
    """The deterministic summary: the picture's slots in clinical order, with where each came from."""
    assert picture.complaint is not None
    lines = [f"Chief complaint: {picture.complaint.label}" + (" (red flag fired)" if picture.red_flag else "")]
    for name, slot in SLOTS.items():
        if name in picture.slots:
            known = picture.slots[name]
            lines.append(f"{slot.label}: {known['value']} [{known['source']}]")
    if picture.missing:
        lines.append("Not established: " + ", ".join(SLOTS[name].label.lower() for name in picture.missing))
    return "\n".join(lines)
