"""One agent turn: load context -> call the model -> stream -> store the reply.

The harness issue grows this into: load context -> policies -> model <-> tools
-> checks -> reply. Nothing here depends on a browser being connected.
"""

from __future__ import annotations

import logging
import threading
import time

from django.conf import settings

from agent.context import build_messages
from agent.model.client import ModelClient, ModelUnavailable, default_client
from agent.model.reasoning import ReasoningSplitter
from webapp.actions.turns import (
    do_claim_turn,
    do_complete_turn,
    do_defer_turn,
    record_heartbeat,
    record_turn_progress,
)
from webapp.chat.models import Message

log = logging.getLogger(__name__)

FLUSH_SECONDS = 0.1  # how often streamed text is saved and sent to tabs
HEARTBEAT_SECONDS = 5.0
EMPTY_REPLY = "I'm sorry, I could not put together an answer just now. Could you say that again in other words?"


class Heartbeat:
    """Keeps the turn's heartbeat fresh while the model thinks, so the reconciler
    only takes over turns whose worker has really gone."""

    def __init__(self, turn_id: int) -> None:
        self._turn_id = turn_id
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(timeout=2)

    def _run(self) -> None:
        from django.db import close_old_connections

        while not self._stop.wait(HEARTBEAT_SECONDS):
            try:
                record_heartbeat(self._turn_id)
            except Exception:
                log.warning("heartbeat of turn %s failed", self._turn_id, exc_info=True)
        close_old_connections()


def run_turn(turn_id: int, client: ModelClient | None = None) -> Message | None:
    """Run (or re-run) a turn. Returns the stored reply, or None if there was nothing to do."""
    turn = do_claim_turn(turn_id)
    if turn is None:
        return None
    client = client or default_client()
    messages = build_messages(turn, settings.MODEL_CONTEXT_CHARS)
    splitter = ReasoningSplitter()
    shown = ""
    unsent = ""
    last_flush = float("-inf")  # the first visible text goes out at once
    try:
        with Heartbeat(turn.id):
            for delta in client.stream_chat(messages):
                if delta.reasoning:
                    splitter.add_reasoning(delta.reasoning)
                if delta.content:
                    visible = splitter.feed(delta.content)
                    if not shown.strip():
                        visible = visible.lstrip()  # no leading blank lines on screen
                    shown += visible
                    unsent += visible
                if unsent and time.monotonic() - last_flush >= FLUSH_SECONDS:
                    record_turn_progress(turn, shown, unsent)
                    unsent, last_flush = "", time.monotonic()
            # Text still unsent is not flushed: the stored reply replaces the
            # streamed text in every tab a moment later.
            splitter.finish()
    except ModelUnavailable as exc:
        log.warning("turn %s deferred: %s", turn.id, exc)
        do_defer_turn(turn, str(exc))
        return None
    text = splitter.answer_text or EMPTY_REPLY
    return do_complete_turn(turn, text, splitter.reasoning_text)

