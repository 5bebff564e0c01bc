"""What the model is shown of the conversation (agent/context.py): the newest messages within a character budget,
oldest first, reaching back across as many pages of history as the budget allows and no further."""

from __future__ import annotations

import pytest

from agent.context import build_messages
from webapp.chat.models import Author, Message, Turn

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite_pass]


def conversation_of(patient, count: int) -> Turn:
    """`count` alternating messages (patient first, ten characters each), and a turn answering the last one."""
    for n in range(count):
        author = Author.PATIENT if n % 2 == 0 else Author.AGENT
        last = Message.objects.create(conversation=patient.conversation, author=author, text=f"message{n:03d}")
    Message.objects.create(conversation=patient.conversation, author=Author.SYSTEM, text="a notice, never shown")
    return Turn.objects.create(conversation=patient.conversation, message=last)


def texts(messages: list[dict]) -> list[str]:
    return [m["content"] for m in messages[1:]]


def test_a_long_conversation_is_read_across_pages_up_to_the_budget(cast):
    turn = conversation_of(cast["alice"], 131)  # more than two pages of 50
    assert texts(build_messages(turn, 10_000)) == [f"message{n:03d}" for n in range(131)]
    # 41 messages fit in 410 characters; the oldest kept must be the patient's
    assert texts(build_messages(turn, 410)) == [f"message{n:03d}" for n in range(90, 131)]


def test_messages_after_the_one_answered_are_not_shown(cast):
    turn = conversation_of(cast["alice"], 61)
    Message.objects.create(conversation=cast["alice"].conversation, author=Author.PATIENT, text="later")
    shown = texts(build_messages(turn, 10_000))
    assert shown[-1] == "message060" and "later" not in shown and len(shown) == 61


def test_the_system_prompt_speaks_the_patients_language(cast):
    alice = cast["alice"]
    turn = conversation_of(alice, 1)
    profile = alice.patient_profile
    profile.language, profile.country = "fr", "FR"
    profile.save()
    system = build_messages(Turn.objects.select_related("conversation__patient").get(id=turn.id), 1000)[0]["content"]
    assert profile.emergency_number != "999"
    assert "(fr)" in system and f"call {profile.emergency_number} now" in system
    assert "call 911 now" in build_messages(conversation_of(cast["bob"], 1), 1000)[0]["content"]  # bob: US
