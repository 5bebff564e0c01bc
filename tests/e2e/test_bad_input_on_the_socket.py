"""Bad frames get clear errors; nothing stored is lost or corrupted; a flood is coalesced."""

import json

import pytest

from tests.support.cast import PASSWORD, make_patient
from tests.support.chat_client import ChatSocket, conversation_path, login, run_async
from webapp.chat.models import Author, Message, Turn, TurnStatus

pytestmark = pytest.mark.e2e


@pytest.fixture
def stack(live_stack_factory, scripted_model):
    return live_stack_factory(scripted_model.base_url, CHAT_MAX_MESSAGE_CHARS="200", CHAT_MAX_FRAME_BYTES="4096",
                              CHAT_RATE_LIMIT_MESSAGES="3", CHAT_RATE_LIMIT_WINDOW_SECONDS="60")


def open_socket(stack, patient):
    http = login(stack.base_url, patient.username, PASSWORD)
    return ChatSocket.open(stack.base_url, conversation_path(http), dict(http.cookies))


MALFORMED = [
    "this is not json",
    "[]",
    '{"type": "shout", "text": "hi"}',
    '{"type": "send"}',
    '{"type": "send", "text": 5}',
    '{"type": "send", "text": "hi", "admin": true}',
    '{"type": "resume", "after": -1}',
    '{"text": "no type"}',
]


def test_malformed_and_empty_frames_get_errors_and_store_nothing(stack):
    patient = make_patient()

    async def scenario():
        socket = await open_socket(stack, patient)
        codes = []
        for raw in MALFORMED:
            await socket.send(raw)
            codes.append((await socket.until(lambda e: e["type"] == "error"))["code"])
        await socket.ws.send(b"\x00\x01binary")
        codes.append((await socket.until(lambda e: e["type"] == "error"))["code"])
        for text in ("", "   ", "\n\t"):
            await socket.say(text)
            codes.append((await socket.until(lambda e: e["type"] == "error"))["code"])
        await socket.send(json.dumps({"type": "send", "text": "y" * 5000}))
        codes.append((await socket.until(lambda e: e["type"] == "error"))["code"])
        await socket.send({"type": "ping"})
        assert (await socket.next_event())["type"] == "pong"  # the socket is still usable
        await socket.close()
        return codes

    codes = run_async(scenario())
    assert codes == ["bad_frame"] * len(MALFORMED) + ["bad_frame"] + ["empty"] * 3 + ["frame_too_large"]
    assert not Message.objects.filter(conversation=patient.conversation).exists()


def test_an_oversized_message_is_stored_in_full_and_answered_with_a_request_to_shorten(stack):
    patient = make_patient()
    text = "My symptoms: " + "tired and dizzy, " * 20

    async def scenario():
        socket = await open_socket(stack, patient)
        await socket.say(text)
        notice = await socket.until(lambda e: e["type"] == "notice")
        system = await socket.until(lambda e: e["type"] == "message" and e["author"] == "system")
        await socket.close()
        return notice, system

    notice, system = run_async(scenario())
    assert notice["code"] == "too_long" and "200 characters" in notice["message"]
    assert "shorter" in system["text"]
    assert Message.objects.get(conversation=patient.conversation, author=Author.PATIENT).text == text


def test_a_flood_is_stored_answered_and_coalesced(stack):
    patient = make_patient()
    texts = [f"flood message {i}" for i in range(12)]

    async def scenario():
        socket = await open_socket(stack, patient)
        for text in texts:
            await socket.say(text)
        acks = [await socket.until(lambda e: e["type"] == "ack") for _ in texts]
        # Wait until the reply that answers the last message arrives.
        while True:
            reply = await socket.reply_to(60)
            if Turn.objects.get(id=reply["turn"]).message.text == texts[-1]:
                break
        await socket.close()
        return acks, socket.events

    acks, events = run_async(scenario())
    assert len({a["message_id"] for a in acks}) == len(texts)
    stored = list(Message.objects.filter(conversation=patient.conversation, author=Author.PATIENT)
                  .values_list("text", flat=True))
    assert stored == texts
    assert any(e["type"] == "notice" and e["code"] == "rate_limited" for e in events)
    turns = Turn.objects.filter(conversation=patient.conversation)
    assert turns.count() <= 3, "a flood must be coalesced, not answered message by message"
    assert not turns.filter(status__in=[TurnStatus.PENDING, TurnStatus.RUNNING]).exists()
