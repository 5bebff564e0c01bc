"""The clinical picture for the chief complaint, rebuilt at every turn from the last one.

A turn's picture = the previous turn's picture (same episode) + what the new patient messages
say + what the record holds. A slot is known when the patient answered the question the agent
asked about it, mentioned it in their own words (even to deny it), or the record holds it. The
phase is `inquiry` until the complaint's minimum history is known; a red flag, or MAX_ROUNDS turns
spent asking, moves it to `advice` sooner. No model is involved: it is fast and cannot be talked
out of its rules.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.utils import timezone

from agent.inquiry.complaints import BY_NAME, GENERAL, Complaint, chief_complaint
from agent.inquiry.slots import LANGUAGES, SLOTS
from agent.models import InquiryState
from agent.safety.normalize import clauses_as_written
from webapp.chat.models import Author, Message, Turn

EPISODE_HOURS = 72  # a complaint not mentioned for this long is a new episode
MAX_ROUNDS = 3  # turns spent asking before advising with what is known: patients may not answer everything
QUESTIONS_PER_TURN = 2  # "the most informative missing question or two"
MAX_EPISODE_MESSAGES = 20
PATIENT_LEVEL = ("medications", "allergies", "history", "risk_factors")  # carried across episodes
RED_FLAG_LEVELS = ("emergency", "urgent")


@dataclass
class Picture:
    complaint: Complaint | None
    slots: dict[str, dict]
    episode_started_at: datetime
    rounds: int
    red_flag: bool
    message_id: int
    phase: str = "advice"
    reason: str = ""
    missing: list[str] = field(default_factory=list)
    ask: list[str] = field(default_factory=list)

    @property
    def complaint_name(self) -> str:
        return self.complaint.name if self.complaint else ""

    def question(self, slot: str, language: str) -> str:
        if slot == "red_flags" and self.complaint and self.complaint.red_flag_question and language == "en":
            return self.complaint.red_flag_question
        questions = SLOTS[slot].questions
        return questions.get(language if language in LANGUAGES else "en", questions["en"])

    def known_lines(self) -> list[str]:
        return [f"{SLOTS[name].label}: {slot['value']}" for name, slot in self.slots.items() if name in SLOTS]


def record_sections(summary: str) -> dict[str, list[str]]:
    """The record summary's sections (agent/memory/recall.py: 'Title:' then '- item' lines): the model
    sees this same text, so what it holds is what the agent 'knows' from the record."""
    sections: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in summary.splitlines():
        if line.endswith(":") and not line.startswith("- "):
            current = sections.setdefault(line[:-1], [])
        elif line.startswith("- ") and current is not None:
            current.append(line[2:])
    return sections


def previous_state(turn: Turn) -> InquiryState | None:
    return (InquiryState.objects.filter(conversation_id=turn.conversation_id, turn_id__lt=turn.id)
            .order_by("-turn_id").first())


def assess(turn: Turn, record_summary: str = "", previous: InquiryState | None = None) -> Picture:
    return complete(open_episode(turn, previous), record_summary)


def continues(previous: Complaint | None, named: Complaint | None) -> bool:
    """Whether a message carries on the episode of ``previous``: it names no complaint, the same one, or only a
    general symptom ("it still hurts", "I feel tired too"), which belongs to the complaint being discussed rather
    than starting a history of its own."""
    return previous is not None and named in (None, GENERAL, previous)


def open_episode(turn: Turn, previous: InquiryState | None = None) -> Picture:
    """The picture from the conversation alone (complaint, what the patient said, red flags); its phase as if the
    record held nothing. Filling slots from the record (``complete``) can only move it from inquiry to advice,
    never back: a turn that is advising here will advise (the harness starts its evidence search early then)."""
    now = timezone.now()
    horizon = now - timedelta(hours=EPISODE_HOURS)
    recent = previous is not None and previous.created_at >= horizon
    since_id = previous.message_id if recent else 0
    rows = list(Message.objects.filter(conversation_id=turn.conversation_id, author=Author.PATIENT,
                                       id__gt=since_id, id__lte=turn.message_id, created_at__gte=horizon)
                .order_by("-id").values("id", "text", "triage_level")[:MAX_EPISODE_MESSAGES])
    rows.reverse()
    # The newest complaint mentioned is the one under discussion.
    new_complaint = next((c for c in (chief_complaint(r["text"]) for r in reversed(rows)) if c is not None), None)
    previous_complaint = BY_NAME.get(previous.complaint) if recent and previous.complaint else None
    continuing = continues(previous_complaint, new_complaint)
    if continuing:
        picture = Picture(previous_complaint, dict(previous.slots), previous.episode_started_at,
                          previous.rounds + (previous.phase == "inquiry"), previous.red_flag, turn.message_id)
        if rows and previous.asked:  # the patient's reply answers what the agent asked, even "I don't know"
            for name in previous.asked:
                picture.slots.setdefault(name, {"value": rows[0]["text"][:200], "source": "answer",
                                                "message_id": rows[0]["id"]})
    else:
        carried = {k: v for k, v in (previous.slots if previous else {}).items() if k in PATIENT_LEVEL}
        picture = Picture(new_complaint, carried, now, 0, False, turn.message_id)
    for row in rows:
        parts = clauses_as_written(row["text"])
        for name, slot in SLOTS.items():
            if name in picture.slots:
                continue
            for written, folded in parts:
                if slot.pattern.search(folded):
                    picture.slots[name] = {"value": written[:200], "source": "conversation", "message_id": row["id"]}
                    break
        picture.red_flag = picture.red_flag or row["triage_level"] in RED_FLAG_LEVELS
    _decide_phase(picture)
    return picture


@dataclass(frozen=True)
class Ahead:
    """What ``open_episode`` will most likely decide for a turn, guessed from the message and the previous state
    alone (no other message, no record): before the turn is claimed, it starts the evidence query's embedding."""

    complaint_name: str
    advises: bool


def guess_ahead(text: str, red_flag: bool, previous: dict | None, now: datetime | None = None) -> Ahead:
    """``open_episode``'s rules on the newest message. ``red_flag``: a patient message since the previous state was
    triaged a red flag. ``previous``: the previous state's phase, complaint, missing, asked, rounds and created_at
    (None: there is none). A continuing episode advises once it already did, once the patient answers the last
    missing slots the agent asked about (an answer counts, even "I don't know"), or once the rounds run out; a new
    one only without a complaint. A red flag advises at once. Slots the message fills by itself are not guessed:
    such a turn is found to advise later, and embeds then."""
    now = now or timezone.now()
    named = chief_complaint(text)
    recent = previous is not None and previous["created_at"] >= now - timedelta(hours=EPISODE_HOURS)
    before = BY_NAME.get(previous["complaint"]) if recent and previous["complaint"] else None
    if continues(before, named):
        advises = (red_flag or previous["phase"] == "advice" or set(previous["missing"]) <= set(previous["asked"])
                   or previous["rounds"] + (previous["phase"] == "inquiry") >= MAX_ROUNDS)
        return Ahead(before.name, advises)
    return Ahead(named.name if named else "", red_flag or named is None)


def complete(picture: Picture, record_summary: str) -> Picture:
    """What the record adds to an episode's picture, and the phase the turn is in."""
    sections = record_sections(record_summary)
    for name, slot in SLOTS.items():
        if name not in picture.slots and slot.record_section and sections.get(slot.record_section):
            picture.slots[name] = {"value": "; ".join(sections[slot.record_section])[:200], "source": "record",
                                   "message_id": None}
    _decide_phase(picture)
    return picture


def _decide_phase(picture: Picture) -> None:
    complaint = picture.complaint
    picture.ask = []  # decided again once the record is in: only an inquiry asks
    if complaint is None:
        picture.phase, picture.reason = "advice", "no symptom to take a history for"
        return
    picture.missing = [name for name in complaint.needs if name not in picture.slots]
    if picture.red_flag:
        picture.phase, picture.reason = "advice", "a red flag fired: advise on how soon to be seen"
    elif not picture.missing:
        picture.phase, picture.reason = "advice", "the minimum history is taken"
    elif picture.rounds >= MAX_ROUNDS:
        picture.phase, picture.reason = "advice", f"asked for {picture.rounds} turns: advise with what is known"
    else:
        picture.phase, picture.reason = "inquiry", "taking the history"
        optional = [name for name in complaint.also if name not in picture.slots]
        picture.ask = (picture.missing + optional)[:QUESTIONS_PER_TURN]


def save_state(turn: Turn, picture: Picture, summary: str = "") -> None:
    """Store the picture as this turn's state (a retried turn overwrites its own row), in one INSERT ... ON CONFLICT:
    update_or_create took a transaction, a locking read and a savepoint around the insert, six round trips."""
    fields = {
        "conversation_id": turn.conversation_id, "message_id": picture.message_id,
        "complaint": picture.complaint_name,
        "episode_started_at": picture.episode_started_at,
        "phase": picture.phase, "reason": picture.reason, "slots": picture.slots, "missing": picture.missing,
        "asked": picture.ask, "rounds": picture.rounds, "red_flag": picture.red_flag, "summary": summary}
    InquiryState.objects.bulk_create([InquiryState(turn=turn, **fields)], update_conflicts=True,
                                     unique_fields=["turn"], update_fields=list(fields))
