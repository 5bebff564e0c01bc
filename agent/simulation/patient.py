"""The simulated patient: the fact unit decides what is true and what was asked, the affective unit how it is
said, and a model (optional) phrases it. Without a model the patient states the facts plainly, which keeps
scripted runs deterministic.
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass, field

from agent.model.client import ModelClient
from agent.simulation.cases import Case, Fact
from agent.simulation.facts import Problem, answerable, check, covered
from agent.simulation.personas import Persona

log = logging.getLogger(__name__)

MAX_TOKENS = 120
REGENERATIONS = 1  # a reply the checker rejects is regenerated once, then replaced by the plain facts
# The case says nothing about it: in an OSCE script, what is not there is not there. Said plainly, never by a
# model (which, given nothing, invents: "yes, a mild allergy to penicillin").
NOTHING_TO_ADD = "No, not that I know of."
NO_QUESTION = "Okay. What do you think it is, and what should I do?"

PROMPT = """You are role-playing a patient in a medical consultation, so a doctor can practise. \
You are a {demographics}. {persona}
Answer the doctor's last message in the first person, in one to three short sentences, in your own words and in \
your way of speaking. Use ONLY the facts listed below; if they do not answer the question, say you do not know \
or have not noticed. Never name a diagnosis, a test result or an examination finding, and never invent \
numbers, dates, medicines or symptoms. Do not give advice.
Facts you may use now:
{facts}"""


@dataclass
class Answer:
    text: str
    facts: list[Fact]
    problems: list[Problem] = field(default_factory=list)  # what the checker caught (then fixed)
    fallback: bool = False  # the plain facts were used


_FIRST_PERSON = ((re.compile(r"\b(?:the patient|he|she)\b", re.I), "I"), (re.compile(r"\b(?:his|her)\b", re.I), "my"),
                 (re.compile(r"\bI (reports?|mentions?|presents?|has|is|denies|shares)\b"),
                  lambda m: "I " + {"has": "have", "is": "am"}.get(m.group(1), m.group(1).rstrip("s"))))


def first_person(text: str) -> str:
    """The actor script's third person ("The patient reports ...") as the patient says it ("I report ...")."""
    for pattern, replacement in _FIRST_PERSON:
        text = pattern.sub(replacement, text)
    return text


def plain(facts: list[Fact]) -> str:
    """The facts as a patient would state them, without a model."""
    if not facts:
        return NOTHING_TO_ADD
    lines = []
    for fact in facts:
        text = first_person(fact.text)
        text = text[0].upper() + text[1:]
        lines.append(text if text.endswith((".", "!", "?")) else text + ".")
    return " ".join(lines)


class SimulatedPatient:
    def __init__(self, case: Case, persona: Persona, client: ModelClient | None = None) -> None:
        self.case = case
        self.persona = persona
        self.client = client
        self.revealed: set[Fact] = set()  # facts told in reply to a question (not the opening)
        self.opened: set[Fact] = set()  # facts the opening statement volunteered
        self.asked_own = False
        self.problems: list[Problem] = []  # everything the checker caught over the consultation
        self.model_seconds = 0.0

    def opening(self) -> str:
        """The first message: who they are and what brings them."""
        text = f"Hello. I'm a {self.case.demographics}. {self.case.complaint[0].upper()}{self.case.complaint[1:]}."
        self.opened = {f for f in self.case.facts if covered(f, text, 0.7)}
        return text

    @property
    def elicited(self) -> set[Fact]:
        """History items the doctor drew out (volunteered ones do not count)."""
        return {f for f in self.revealed if f in set(self.case.history_items) and f not in self.opened}

    def answer(self, doctor: str) -> Answer:
        if "?" not in doctor:
            if self.persona.asks and not self.asked_own:
                self.asked_own = True
                return Answer(self.persona.asks, [])
            return Answer(NO_QUESTION, [])
        facts = answerable(doctor, self.case, self.revealed | self.opened)
        self.revealed.update(facts)
        if self.client is None or not facts:
            return Answer(plain(facts), facts)
        problems: list[Problem] = []
        extra = ""
        for _ in range(REGENERATIONS + 1):
            text = self._phrase(doctor, facts, extra)
            found = check(text, self.case, doctor)
            if text and not found:
                return Answer(text, facts, problems)
            problems += found
            extra = "\nYour previous answer was rejected: " + "; ".join(map(str, found)) + ". Stick to the facts."
        self.problems += problems
        return Answer(plain(facts), facts, problems, fallback=True)

    def _phrase(self, doctor: str, facts: list[Fact], extra: str) -> str:
        system = PROMPT.format(demographics=self.case.demographics, persona=self.persona.describe(),
                               facts="\n".join(f"- {f.text}" for f in facts) or "- (none: you do not know)") + extra
        started = time.monotonic()
        try:
            completion = self.client.complete([{"role": "system", "content": system},
                                               {"role": "user", "content": f"The doctor says: {doctor}"}],
                                              max_tokens=MAX_TOKENS, temperature=0.3)
        finally:
            self.model_seconds += time.monotonic() - started
        return completion.content.strip().strip('"')
