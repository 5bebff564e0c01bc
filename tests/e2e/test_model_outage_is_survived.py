"""With the model server down, the patient is told their message is saved, and it is answered
once the (real) server is back."""

import asyncio

import pytest

from tests.conftest import ModelServer
from tests.support.cast import PASSWORD, make_patient
from tests.support.chat_client import ChatSocket, conversation_path, login, run_async
from webapp.chat.models import Author, Message, Turn, TurnStatus

pytestmark = pytest.mark.e2e


def test_message_waits_for_the_model_and_is_answered_when_it_returns(live_stack_factory, tmp_path):
    model = ModelServer("small", tmp_path)  # its own server: this test stops it
    stack = live_stack_factory(model.base_url, MODEL_MAX_TOKENS="40", MODEL_CONNECT_TIMEOUT_SECONDS="1")
    patient = make_patient()
    http = login(stack.base_url, patient.username, PASSWORD)

    async def scenario():
        socket = await ChatSocket.open(stack.base_url, conversation_path(http), dict(http.cookies))
        await socket.say("Is it fine to take ibuprofen for back pain?")
        delayed = await socket.until(lambda e: e["type"] == "turn.delayed", 60)
        assert Message.objects.filter(conversation=patient.conversation, author=Author.PATIENT).count() == 1
        await asyncio.to_thread(model.start)
        reply = await socket.reply_to(180)
        await socket.close()
        return delayed, reply

    try:
        delayed, reply = run_async(scenario())
    finally:
        model.stop()
    assert "saved" in delayed["text"] and "answered" in delayed["text"]
    assert reply["text"].strip()
    turn = Turn.objects.get(conversation=patient.conversation)
    assert turn.status == TurnStatus.DONE and turn.attempts >= 2
