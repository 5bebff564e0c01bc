"""A clinician replies in a patient's conversation, takes it over (the agent stays silent and says so) and hands it
back; an admin's kill switch pauses the agent for everyone (a fixed reply, red flags still caught, clinicians
alerted). Only the care team acts in a conversation, only admins flip the switch."""

from __future__ import annotations

import pytest
from django.test import Client

from agent.models import AgentSwitch
from tests.support.cast import PASSWORD
from webapp.actions.handover import do_set_agent_paused, do_take_over
from webapp.actions.messages import do_send_patient_message
from webapp.chat.models import Author, Message, Turn, TurnStatus

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.sqlite_pass]


def logged_in(user) -> Client:
    client = Client()
    assert client.login(username=user.username, password=PASSWORD)
    return client


def last(conversation, author: str) -> Message | None:
    return Message.objects.filter(conversation=conversation, author=author).order_by("-id").first()


def test_a_clinician_replies_takes_over_and_hands_back(cast):
    alice, carol = cast["alice"], cast["carol"]
    conversation = alice.conversation
    do_send_patient_message(alice, conversation, "My knee still hurts")
    pending = Turn.objects.get(conversation=conversation, status=TurnStatus.PENDING)
    client = logged_in(carol)
    base = f"/patients/{conversation.public_id}"

    assert client.post(f"{base}/reply", {"text": "Hello Alice, Carol here."}).status_code == 302
    reply = last(conversation, Author.CLINICIAN)
    assert reply.text == "Hello Alice, Carol here." and reply.sender == carol

    client.post(f"{base}/take-over")
    conversation.refresh_from_db()
    assert conversation.taken_over_by == carol
    pending.refresh_from_db()
    assert pending.status == TurnStatus.FAILED  # the agent will not answer over the clinician
    assert "has joined the conversation" in last(conversation, Author.SYSTEM).text
    do_send_patient_message(alice, conversation, "Thanks Carol, it's worse on stairs")
    assert not Turn.objects.filter(conversation=conversation, status=TurnStatus.PENDING).exists()
    # Red flags are still caught while a human has the conversation.
    do_send_patient_message(alice, conversation, "now I have crushing chest pain and I'm sweating")
    assert conversation.messages.filter(author=Author.SYSTEM, text__contains="Call 999 now").exists()
    page = client.get(f"/chat/{conversation.public_id}/").content.decode()
    assert 'id="taken-over"' in page and 'id="hand-back"' in page

    client.post(f"{base}/hand-back")
    conversation.refresh_from_db()
    assert conversation.taken_over_by is None
    assert "handed the conversation back" in last(conversation, Author.SYSTEM).text
    do_send_patient_message(alice, conversation, "One more question about my knee")
    assert Turn.objects.filter(conversation=conversation, status=TurnStatus.PENDING).exists()


def test_only_the_care_team_acts_in_a_conversation(cast):
    alice = cast["alice"]
    base = f"/patients/{alice.conversation.public_id}"
    assert logged_in(cast["dave"]).post(f"{base}/take-over").status_code == 404
    assert logged_in(cast["dave"]).post(f"{base}/reply", {"text": "hi"}).status_code == 404
    assert logged_in(cast["bob"]).post(f"{base}/reply", {"text": "hi"}).status_code == 403
    assert not Message.objects.filter(conversation=alice.conversation, author=Author.CLINICIAN).exists()
    with pytest.raises(PermissionError):
        do_take_over(cast["dave"], alice.conversation)


def test_the_kill_switch_pauses_the_agent_for_everyone(cast):
    alice, bob, root = cast["alice"], cast["bob"], cast["root"]
    do_send_patient_message(bob, bob.conversation, "My rash is itchy")
    waiting = Turn.objects.get(conversation=bob.conversation, status=TurnStatus.PENDING)
    assert logged_in(cast["carol"]).post("/system/agent/", {"paused": "1", "reason": "x"}).status_code == 403
    admin = logged_in(root)
    assert admin.post("/system/agent/", {"paused": "1", "reason": "model misbehaving"}).status_code == 302
    assert AgentSwitch.current().paused and AgentSwitch.current().changed_by == root
    waiting.refresh_from_db()
    assert waiting.status == TurnStatus.FAILED

    do_send_patient_message(alice, alice.conversation, "Can I take ibuprofen for my knee?")
    assert not Turn.objects.filter(conversation=alice.conversation, status=TurnStatus.PENDING).exists()
    assert "The assistant is paused right now" in last(alice.conversation, Author.SYSTEM).text
    do_send_patient_message(alice, alice.conversation, "my throat is swelling and I can't breathe")
    # The red-flag layer needs no agent.
    assert alice.conversation.messages.filter(author=Author.SYSTEM, text__contains="Call 999 now").exists()
    assert "paused for everyone" in logged_in(cast["carol"]).get("/patients/").content.decode()

    do_set_agent_paused(root, False)
    do_send_patient_message(alice, alice.conversation, "Hello again")
    assert Turn.objects.filter(conversation=alice.conversation, status=TurnStatus.PENDING).exists()
    with pytest.raises(PermissionError):
        do_set_agent_paused(cast["carol"], True)
