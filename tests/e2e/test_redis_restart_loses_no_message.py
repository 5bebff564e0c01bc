"""Redis restarts and loses its queue: every stored message is still answered (by the reconciler)."""


import pytest

from tests.support.cast import PASSWORD, make_patient
from tests.support.chat_client import ChatSocket, conversation_path, login, run_async
from webapp.chat.models import Author, Message, Turn, TurnStatus

pytestmark = pytest.mark.e2e


def test_queued_turns_lost_with_redis_are_answered(live_stack_factory, scripted_model):
    stack = live_stack_factory(scripted_model.base_url, own_redis=True, worker=False)
    patients = [make_patient(), make_patient()]

    async def send(patient, text):
        http = login(stack.base_url, patient.username, PASSWORD)
        socket = await ChatSocket.open(stack.base_url, conversation_path(http), dict(http.cookies))
        await socket.say(text)
        ack = await socket.until(lambda e: e["type"] == "ack")
        await socket.close()
        return ack, http, conversation_path(http)

    # No worker is running: the turns sit in Redis's queue...
    sent = [run_async(send(p, f"message from {p.username}")) for p in patients]
    # ...which a crash and restart of Redis wipes out.
    stack.restart_redis()
    stack.start_worker("after-restart")

    async def resume(http, path, after):
        socket = await ChatSocket.open(stack.base_url, path, dict(http.cookies))
        await socket.send({"type": "resume", "after": after})
        reply = await socket.reply_to(90)
        await socket.close()
        return reply

    for (ack, http, path), patient in zip(sent, patients, strict=True):
        reply = run_async(resume(http, path, ack["message_id"]))
        assert reply["text"] == f"Scripted reply to: message from {patient.username}"
        assert Message.objects.filter(conversation=patient.conversation, author=Author.AGENT).count() == 1
        assert Turn.objects.get(conversation=patient.conversation).status == TurnStatus.DONE
