"""Events to the open tabs of a conversation, sent through the channel layer."""

from __future__ import annotations

import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

log = logging.getLogger(__name__)


def send_event(group: str, event: dict) -> None:
    """Send now. A lost event is never fatal: tabs resync from the database on reconnect."""
    layer = get_channel_layer()
    try:
        async_to_sync(layer.group_send)(group, {"type": "conversation.event", "event": event})
    except Exception:  # the channel layer (Redis) is down: the database still holds the truth
        log.warning("could not send %s to %s", event.get("type"), group, exc_info=True)


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
