"""The chat websocket. Thin: check who is speaking and where, validate the frame,
call one action, answer. Events for the conversation arrive through its group."""

from __future__ import annotations

import logging
from copy import copy

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.db import connection
from django.http import Http404
from django.utils import timezone
from django.utils.crypto import constant_time_compare

from webapp.accounts.access import get_conversation_for_user
from webapp.accounts.models import User
from webapp.actions.messages import EmptyMessage, SendResult, do_send_patient_message
from webapp.chat.frames import BadFrame, ResumeFrame, SendFrame, parse_frame
from webapp.chat.models import Message, Turn, TurnStatus

log = logging.getLogger(__name__)

BACKLOG_LIMIT = 500


class ChatConsumer(AsyncJsonWebsocketConsumer):
    conversation = None

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=4401)
            return
        try:
            self.conversation = await database_sync_to_async(get_conversation_for_user)(
                user, self.scope["url_route"]["kwargs"]["conversation_id"]
            )
        except Http404:
            await self.close(code=4403)
            return
        await self.channel_layer.group_add(self.conversation.group_name, self.channel_name)
        await self.accept()

    async def disconnect(self, code: int) -> None:
        if self.conversation is not None:
            try:
                await self.channel_layer.group_discard(self.conversation.group_name, self.channel_name)
            except Exception:
                log.debug("group_discard failed", exc_info=True)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if text_data is None:
            await self.error("bad_frame", "Frames must be JSON text.")
            return
        if len(text_data.encode()) > settings.CHAT_MAX_FRAME_BYTES:
            await self.error("frame_too_large", f"Frames are limited to {settings.CHAT_MAX_FRAME_BYTES} bytes.")
            return
        try:
            frame = parse_frame(text_data)
        except BadFrame as exc:
            await self.error("bad_frame", f"Malformed frame ({exc}).")
            return
        if isinstance(frame, SendFrame):
            await self.send_message(frame)
        elif isinstance(frame, ResumeFrame):
            await self.resume(frame.after)
        else:
            await self.send_json({"type": "pong"})

    async def send_message(self, frame: SendFrame) -> None:
        user = self.scope["user"]
        if self.conversation.patient_id != user.pk:
            await self.error("forbidden", "Only the patient writes in this conversation here.")
            return
        try:
            # One hop to the sync thread, not two: Channels runs every consumer's database work on one thread.
            result = await database_sync_to_async(_send_if_session_live)(self.scope, user, self.conversation, frame)
        except EmptyMessage:
            await self.error("empty", "The message is empty.", client_id=frame.client_id)
            return
        if result is None:
            await self.error("session_expired", "Your session has ended. Please log in again.")
            await self.close(code=4401)
            return
        await self.send_json({"type": "ack", "client_id": frame.client_id, "message_id": result.message.id,
                              "duplicate": not result.created})
        for code, text in result.notices:
            await self.send_json({"type": "notice", "code": code, "message": text, "client_id": frame.client_id})

    async def resume(self, after: int) -> None:
        """Everything the tab missed since message ``after``, then the turn in progress."""
        messages, turn = await database_sync_to_async(_backlog)(self.conversation.id, after)
        for message in messages:
            await self.send_json(message.as_event())
        if turn is not None:
            await self.send_json(turn.as_event())
        await self.send_json({"type": "resumed", "last_id": messages[-1].id if messages else after})

    async def conversation_event(self, event: dict) -> None:
        await self.send_json(event["event"])

    async def error(self, code: str, message: str, **extra) -> None:
        await self.send_json({"type": "error", "code": code, "message": message, **extra})


def _send_if_session_live(scope: dict, user, conversation, frame: SendFrame) -> SendResult | None:
    """The message stored and its turn queued; None (nothing stored) if the session has ended."""
    if not session_is_live(scope, user):
        return None
    return do_send_patient_message(user, conversation, frame.text, frame.client_id)


def session_is_live(scope: dict, user) -> bool:
    """Whether the socket's session still stands, checked on every message: it may have been logged out or timed out
    since the socket opened, or its user deactivated, or their password changed elsewhere (which ends every session
    it did not make, as Django's own check on each page request does). One query for the session and the user: the
    ORM's session load and a second read of the user cost a third of the web's work on a message."""
    session_key = getattr(scope.get("session"), "session_key", None)
    if not session_key:
        return False
    with connection.cursor() as cursor:
        cursor.execute(_SESSION_SQL, [session_key, connection.ops.adapt_datetimefield_value(timezone.now()), user.pk])
        row = cursor.fetchone()
    if row is None:  # logged out, expired, or the user deactivated
        return False
    data = SessionStore().decode(row[0])  # signed: a tampered row decodes as empty
    if str(data.get(SESSION_KEY)) != str(user.pk) or BACKEND_SESSION_KEY not in data:
        return False
    current = copy(user)
    current.password = row[1]
    return constant_time_compare(data.get(HASH_SESSION_KEY, ""), current.get_session_auth_hash())


_SESSION_SQL = f"""
SELECT s.session_data, u.password FROM {Session._meta.db_table} s, {User._meta.db_table} u
WHERE s.session_key = %s AND s.expire_date > %s AND u.id = %s AND u.is_active
"""


def _backlog(conversation_id: int, after: int) -> tuple[list[Message], Turn | None]:
    rows = Message.objects.filter(conversation_id=conversation_id, id__gt=after).select_related("upload").order_by("id")
    messages = list(rows[:BACKLOG_LIMIT])
    turn = (
        Turn.objects.filter(conversation_id=conversation_id, status__in=[TurnStatus.RUNNING, TurnStatus.PENDING])
        .order_by("-id")
        .first()
    )
    return messages, turn
