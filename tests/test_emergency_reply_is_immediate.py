"""A red flag is answered at once with fixed text, where the message is stored, before any turn."""

import pytest
from django.test import override_settings

from agent.safety.rules import Level
from webapp.actions.messages import do_send_patient_message
from webapp.chat.models import Author, Message, Turn

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.sqlite_pass]


def send(patient, text):
    return do_send_patient_message(patient, patient.conversation, text)


def first_system_message(patient) -> Message:
    """The fixed reply (the care team's alert notice, when someone was alerted, comes after it)."""
    return Message.objects.filter(conversation=patient.conversation, author=Author.SYSTEM).order_by("id").first()


def test_an_emergency_gets_the_fixed_reply_with_the_local_number_and_no_model_turn(cast):
    alice = cast["alice"]  # in the UK
    result = send(alice, "I have crushing chest pain and I'm sweating")
    stored = Message.objects.get(id=result.message.id)
    assert stored.triage_level == Level.EMERGENCY and "chest pain" in stored.triage_reasons[0]
    reply = first_system_message(alice)
    assert "Call 999 now" in reply.text
    assert not Turn.objects.exists()


def test_the_fixed_reply_is_in_the_patients_language(cast):
    from tests.support.cast import make_patient

    pierre = make_patient(language="fr", country="FR")
    send(pierre, "J'ai une douleur à la poitrine et je transpire")
    reply = first_system_message(pierre)
    assert "Appelez le 112" in reply.text


def test_an_urgent_message_is_told_to_be_seen_today_and_still_answered(cast):
    bob = cast["bob"]  # in the US
    send(bob, "I have some chest pain when I climb stairs")
    notice = first_system_message(bob)
    assert "seen by a clinician today" in notice.text and "911" in notice.text
    assert Turn.objects.filter(conversation=bob.conversation).count() == 1


@override_settings(CHAT_MAX_MESSAGE_CHARS=40)
def test_an_oversized_message_is_still_triaged(cast):
    alice = cast["alice"]
    send(alice, "Sorry for the long message but I want to tell you that I want to kill myself tonight")
    texts = list(Message.objects.filter(conversation=alice.conversation, author=Author.SYSTEM)
                 .values_list("text", flat=True))
    assert any("Call 999 now" in t for t in texts)


def test_a_yes_to_the_agents_red_flag_question_is_an_emergency(cast):
    alice = cast["alice"]
    Message.objects.create(conversation=alice.conversation, author=Author.AGENT,
                           text="Is the pain spreading to your arm, and are you sweating?")
    result = send(alice, "yes")
    assert Message.objects.get(id=result.message.id).triage_level == Level.EMERGENCY
    assert Message.objects.filter(author=Author.SYSTEM, text__contains="Call 999 now").exists()


def test_a_routine_message_gets_no_fixed_reply(cast):
    alice = cast["alice"]
    send(alice, "My knee aches after running")
    assert not Message.objects.filter(author=Author.SYSTEM).exists()
    assert Message.objects.get(author=Author.PATIENT).triage_level == Level.ROUTINE
