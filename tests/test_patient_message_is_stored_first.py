"""do_send_patient_message: stored before anything else; limits refuse the turn, never the text."""

from datetime import timedelta

import pytest
from django.db import IntegrityError
from django.test import override_settings
from django.utils import timezone

from webapp.actions.messages import EmptyMessage, do_send_patient_message, too_long_reply
from webapp.chat.models import Author, Message, Turn, TurnStatus

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.sqlite_pass]


def send(patient, text, client_id=""):
    return do_send_patient_message(patient, patient.conversation, text, client_id)


def test_it_stores_the_message_and_queues_one_turn(cast):
    alice = cast["alice"]
    result = send(alice, "I have a headache", "c1")
    assert result.created
    stored = Message.objects.get(id=result.message.id)
    assert (stored.author, stored.text, stored.sender) == (Author.PATIENT, "I have a headache", alice)
    turn = Turn.objects.get(conversation=alice.conversation)
    assert (turn.status, turn.message_id) == (TurnStatus.PENDING, stored.id)


@pytest.mark.parametrize("text", ["", "   ", "\n\t "])
def test_it_refuses_empty_messages(cast, text):
    with pytest.raises(EmptyMessage):
        send(cast["alice"], text)
    assert not Message.objects.exists()


def test_a_resent_frame_is_stored_once(cast):
    first = send(cast["alice"], "hello", "same-id")
    again = send(cast["alice"], "hello", "same-id")
    assert not again.created and again.message.id == first.message.id
    assert Message.objects.filter(conversation=cast["alice"].conversation).count() == 1


@override_settings(CHAT_MAX_MESSAGE_CHARS=50)
def test_an_oversized_message_is_stored_in_full_and_answered_with_a_request_to_shorten(cast):
    text = "x" * 51 + " the end"
    result = send(cast["alice"], text)
    assert Message.objects.get(id=result.message.id).text == text
    assert result.notices == [("too_long", too_long_reply(50))]
    notice = Message.objects.get(author=Author.SYSTEM)
    assert "longer than 50 characters" in notice.text
    assert not Turn.objects.exists()


@override_settings(CHAT_RATE_LIMIT_MESSAGES=3, CHAT_RATE_LIMIT_WINDOW_SECONDS=60)
def test_a_flood_is_stored_and_coalesced_into_one_turn(cast):
    results = [send(cast["alice"], f"message {i}") for i in range(8)]
    assert Message.objects.filter(author=Author.PATIENT).count() == 8
    assert [bool(r.notices) for r in results] == [False] * 3 + [True] * 5
    assert results[-1].notices[0][0] == "rate_limited"
    turn = Turn.objects.get()
    assert turn.message_id == results[-1].message.id


def test_patients_write_only_in_their_own_conversation(cast):
    with pytest.raises(PermissionError):
        do_send_patient_message(cast["bob"], cast["alice"].conversation, "hi")


@override_settings(CHAT_RATE_LIMIT_MESSAGES=3, CHAT_RATE_LIMIT_WINDOW_SECONDS=60)
def test_only_messages_inside_the_window_count_towards_the_limit(cast):
    alice = cast["alice"]
    for i in range(4):
        send(alice, f"earlier {i}")
    Message.objects.filter(conversation=alice.conversation).update(created_at=timezone.now() - timedelta(minutes=2))
    Turn.objects.update(status=TurnStatus.DONE)
    assert send(alice, "now").notices == []
    assert send(alice, "now again").notices == []  # 2 in the window
    Message.objects.filter(text="earlier 0").update(created_at=timezone.now() - timedelta(seconds=30))
    send(alice, "and again")
    assert send(alice, "once more").notices[0][0] == "rate_limited"  # 5 in the window


def test_a_message_after_the_turn_was_claimed_gets_a_turn_of_its_own(cast):
    alice = cast["alice"]
    first = send(alice, "I have a headache")
    Turn.objects.filter(message=first.message).update(status=TurnStatus.RUNNING)
    second = send(alice, "and a fever")
    assert list(Turn.objects.order_by("id").values_list("status", "message_id")) == [
        (TurnStatus.RUNNING, first.message.id), (TurnStatus.PENDING, second.message.id)]


def test_a_turn_claimed_between_the_conflict_and_the_lock_still_leaves_one_pending(cast, monkeypatch):
    """The insert hit the pending turn, which a worker then claimed: the message must still get a turn."""
    alice = cast["alice"]
    real_create = Turn.objects.create
    calls = []

    def conflict_once(**fields):
        calls.append(fields)
        if len(calls) == 1:
            raise IntegrityError("one_pending_turn_per_conversation")  # as if a pending turn existed just then
        return real_create(**fields)

    monkeypatch.setattr(Turn.objects, "create", conflict_once)
    result = send(alice, "I have a headache")
    assert len(calls) == 2
    turn = Turn.objects.get()
    assert (turn.status, turn.message_id) == (TurnStatus.PENDING, result.message.id)


def test_triage_reads_the_agents_latest_words(cast):
    alice = cast["alice"]
    Message.objects.create(conversation=alice.conversation, author=Author.AGENT,
                           text="Is the pain spreading to your arm, and are you sweating?")
    Message.objects.create(conversation=alice.conversation, author=Author.AGENT, text="Have you eaten today?")
    result = send(alice, "yes")
    assert Message.objects.get(id=result.message.id).triage_level == "routine"
