"""Events to the open tabs of a conversation, sent through the channel layer."""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import os
import threading

from channels.layers import get_channel_layer
from django.db import transaction

log = logging.getLogger(__name__)

SEND_TIMEOUT_SECONDS = 5.0


class _SenderLoop:
    """One event loop per process, in a daemon thread, for sending from sync code.

    async_to_sync would start a fresh loop for every call, and the Redis channel
    layer keeps its connection pool per loop: a streaming turn sends many events,
    so reusing one loop (and its pool) saves a connection per event."""

    def __init__(self) -> None:
        self._pid = -1
        self._loop: asyncio.AbstractEventLoop | None = None
        self._in_order: asyncio.Lock | None = None
        self._lock = threading.Lock()

    def loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None or self._pid != os.getpid():  # a forked worker needs its own
                self._loop = asyncio.new_event_loop()
                self._in_order = asyncio.Lock()  # FIFO: events leave in the order they were handed over
                self._pid = os.getpid()
                threading.Thread(target=self._loop.run_forever, name="channel-sender", daemon=True).start()
            return self._loop

    def submit(self, group: str, message: dict) -> concurrent.futures.Future:
        loop = self.loop()
        return asyncio.run_coroutine_threadsafe(self._send(group, message), loop)

    async def _send(self, group: str, message: dict) -> None:
        async with self._in_order:  # bounded, so one hung send (Redis away) cannot hold up the rest for long
            await asyncio.wait_for(get_channel_layer().group_send(group, message), SEND_TIMEOUT_SECONDS)


_sender = _SenderLoop()


def send_event(group: str, event: dict, wait: bool = True) -> None:
    """Send, in order with everything this process sent before. ``wait=False`` hands the event over without waiting
    for Redis (a streamed delta: the turn goes on while it leaves; the next event that waits follows it). A lost event
    is never fatal: tabs resync from the database on reconnect."""
    message = {"type": "conversation.event", "event": event}
    try:
        future = _sender.submit(group, message)
    except Exception:
        log.warning("could not send %s to %s", event.get("type"), group, exc_info=True)
        return
    if wait:
        try:
            future.result(timeout=SEND_TIMEOUT_SECONDS)
        except Exception:  # the channel layer (Redis) is down: the database still holds the truth
            log.warning("could not send %s to %s", event.get("type"), group, exc_info=True)
    else:
        future.add_done_callback(_log_failure(event.get("type"), group))


def _log_failure(kind: str | None, group: str):
    def check(future: concurrent.futures.Future) -> None:
        if not future.cancelled() and future.exception() is not None:
            log.warning("could not send %s to %s", kind, group, exc_info=future.exception())
    return check


def send_event_on_commit(group: str, event: dict) -> None:
    transaction.on_commit(lambda: send_event(group, event))


def enqueue_turn(turn_id: int, countdown: float = 0) -> bool:
    """Put a turn on the Celery queue. False if the broker is unreachable (the reconciler retries)."""
    from webapp.celery import app

    try:
        app.send_task("agent.tasks.run_turn", args=[turn_id], countdown=countdown or None,
                      retry=True, retry_policy={"max_retries": 2, "interval_start": 0.2, "interval_step": 0.5})
    except Exception:
        log.warning("could not enqueue turn %s; the reconciler will", turn_id, exc_info=True)
        return False
    return True
