"""A worker killed mid-turn loses nothing: the turn is finished by the same or another worker."""

import asyncio
import os
import signal
import time

import pytest

from tests.support.cast import PASSWORD, make_patient
from tests.support.chat_client import ChatSocket, conversation_path, login, run_async
from tests.support.scripted_model import Script
from webapp.chat.models import Author, Message, Turn

pytestmark = pytest.mark.e2e

# Sentences, because replies are released to the patient one checked sentence at a time (docs/evidence.md).
ANSWER = " ".join(f"Word{i} here." for i in range(40))


def chat_until_first_delta_then(stack, patient, crash):
    http = login(stack.base_url, patient.username, PASSWORD)

    async def scenario():
        socket = await ChatSocket.open(stack.base_url, conversation_path(http), dict(http.cookies))
        await socket.say("Please explain my blood test.")
        await socket.until(lambda e: e["type"] == "turn.delta")
        await asyncio.to_thread(crash)
        reply = await socket.reply_to(120)
        await socket.close()
        return reply, socket.events

    return run_async(scenario())


def running_turn_pid(patient) -> int:
    turn = Turn.objects.get(conversation=patient.conversation)
    return int(turn.claimed_by.rsplit(":", 1)[1])


def assert_answered_once(patient, reply, events):
    assert reply["text"] == ANSWER
    assert any(e["type"] == "turn.restart" for e in events), "tabs must be told to drop the half-streamed text"
    assert Message.objects.filter(conversation=patient.conversation, author=Author.PATIENT).count() == 1
    assert Message.objects.filter(conversation=patient.conversation, author=Author.AGENT).count() == 1
    assert Turn.objects.get(conversation=patient.conversation).attempts >= 2


def test_killed_pool_process_is_replaced_and_the_turn_finished(live_stack_factory, scripted_model):
    scripted_model.queue(Script(text=ANSWER, delay=0.1), Script(text=ANSWER, delay=0.01))
    stack = live_stack_factory(scripted_model.base_url)
    patient = make_patient()
    reply, events = chat_until_first_delta_then(
        stack, patient, lambda: os.kill(running_turn_pid(patient), signal.SIGKILL))
    assert_answered_once(patient, reply, events)


def test_whole_worker_killed_and_another_finishes_the_turn(live_stack_factory, scripted_model):
    scripted_model.queue(Script(text=ANSWER, delay=0.1), Script(text=ANSWER, delay=0.01))
    stack = live_stack_factory(scripted_model.base_url)
    patient = make_patient()

    def crash():
        stack.services["worker-w1"].kill()  # master and children, like a lost machine
        time.sleep(0.5)
        stack.start_worker("w2")

    reply, events = chat_until_first_delta_then(stack, patient, crash)
    assert_answered_once(patient, reply, events)
