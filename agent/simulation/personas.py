"""The affective unit: personas change how the simulated patient talks, never what is true.

Each persona sets personality, health literacy, language register, worry and social background; the
patient model is told to speak that way. The facts it may state come from the fact unit alone.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Persona:
    name: str
    personality: str
    literacy: str  # health literacy
    register: str  # how they speak
    worry: str
    background: str
    asks: str = ""  # a question of their own this persona brings up once (the termination gate waits for an answer)

    def describe(self) -> str:
        return (f"Personality: {self.personality}. Health literacy: {self.literacy}. Way of speaking: {self.register}. "
                f"Worry: {self.worry}. Background: {self.background}.")


PERSONAS: dict[str, Persona] = {p.name: p for p in (
    Persona("plain", "cooperative and matter-of-fact", "average", "plain everyday English, short sentences",
            "ordinary concern", "not stated"),
    Persona("anxious", "anxious, seeks reassurance", "average", "talks in a hurry and repeats worries",
            "high: fears something serious", "lives alone", asks="Is this something serious?"),
    Persona("stoic", "stoic, plays symptoms down", "average", "very brief answers, understates",
            "low: only came because family insisted", "manual worker"),
    Persona("low_literacy", "polite and unsure", "low: does not know medical words", "simple words, describes "
            "rather than names things", "moderate", "left school early", asks="What does that mean for me?"),
    Persona("talkative", "chatty, drifts off topic", "average", "long, rambling answers with everyday detail",
            "moderate", "retired, busy social life"),
    Persona("expert", "precise and questioning", "high: uses medical terms correctly", "formal, exact",
            "moderate: wants to understand the reasoning", "works in a health-related job",
            asks="What are you thinking it could be, and why?"),
)}
DEFAULT = "plain"


def persona(name: str) -> Persona:
    """The named persona; ValueError names the ones there are."""
    try:
        return PERSONAS[name]
    except KeyError:
        raise ValueError(f"no persona {name!r}; the personas are {', '.join(PERSONAS)}") from None
