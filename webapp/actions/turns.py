"""The life of an agent turn: claimed, streamed, completed, deferred or failed, and reconciled.

A turn may be run more than once (a worker died, the broker redelivered, the
reconciler re-enqueued): claiming is atomic and completion stores the reply
once, so running a turn twice is harmless.
"""

from __future__ import annotations

import logging
import os
import socket
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Exists, Q
from django.utils import timezone

from agent.models import AgentSwitch
from webapp.actions.events import enqueue_turn, send_event, send_event_on_commit
from webapp.chat.models import Author, Message, Turn, TurnStatus

log = logging.getLogger(__name__)

DELAY_NOTICE = "Your message is saved and will be answered as soon as the assistant is available again."


class TurnBusy(Exception):
    """Another turn of the same conversation is running; try again shortly."""


def _stale_before() -> timezone.datetime:
    return timezone.now() - timedelta(seconds=settings.TURN_STALL_SECONDS)


def do_claim_turn(turn_id: int) -> Turn | None:
    """Mark the turn running for this worker. None if there is nothing to do (done, failed, or held)."""
    with transaction.atomic():
        # The turn's runner reads the conversation, its patient (and profile) and the message: one query brings
        # them all. The turn and its conversation are locked (two turns of one conversation are claimed in turn);
        # the rest is only read.
        turn = (Turn.objects.select_for_update(of=("self", "conversation"))
                .select_related("conversation__patient__patient_profile", "message").filter(id=turn_id)
                .annotate(agent_paused=Exists(AgentSwitch.objects.filter(pk=1, paused=True))).first())
        if turn is None or turn.status in (TurnStatus.DONE, TurnStatus.FAILED):
            return None
        if turn.status == TurnStatus.PENDING and not turn.conversation.simulated and (
                turn.conversation.taken_over_by_id or turn.agent_paused):
            _fail(turn, "the agent is paused here")  # queued before a takeover or the kill switch
            return None
        now = timezone.now()
        if turn.status == TurnStatus.RUNNING and turn.heartbeat_at and turn.heartbeat_at > _stale_before():
            raise TurnBusy(f"turn {turn_id} is running elsewhere")
        if turn.status == TurnStatus.PENDING and turn.next_attempt_at and turn.next_attempt_at > now:
            return None  # deferred; its own scheduled task or the reconciler will bring it back
        restarted = bool(turn.partial_text) or turn.attempts > 0
        turn.status = TurnStatus.RUNNING
        turn.attempts += 1
        turn.partial_text = ""
        turn.started_at = turn.started_at or now
        turn.heartbeat_at = now
        turn.claimed_by = f"{socket.gethostname()}:{os.getpid()}"
        # Claimed only if no other turn of the conversation is running, checked by the UPDATE itself: it runs after
        # the conversation's lock is ours, so it sees a claim committed while we waited (one round trip, not two).
        other_running = Turn.objects.filter(conversation_id=turn.conversation_id, status=TurnStatus.RUNNING,
                                            heartbeat_at__gt=_stale_before()).exclude(id=turn.id)
        claimed = Turn.objects.filter(id=turn.id).exclude(Exists(other_running)).update(
            status=turn.status, attempts=turn.attempts, partial_text="", started_at=turn.started_at,
            heartbeat_at=now, claimed_by=turn.claimed_by)
        if not claimed:
            raise TurnBusy(f"conversation of turn {turn_id} has a turn running")
        if restarted:
            # Tabs drop whatever they showed of an earlier attempt.
            send_event_on_commit(turn.conversation.group_name, {"type": "turn.restart", "turn": turn.id})
    return turn


def record_turn_progress(turn: Turn, text: str, delta: str, save: bool = True) -> None:
    """Save the streamed text so far, then tell the tabs. Saving first lets a tab that
    joins mid-stream take the saved text and every delta after it without a gap. The last delta, sent just before
    the reply is stored, is not saved (``save=False``): the stored reply is what a tab joining then reads."""
    if save:
        now = timezone.now()
        Turn.objects.filter(id=turn.id, status=TurnStatus.RUNNING).update(partial_text=text, heartbeat_at=now)
    if delta:  # not waited for: the turn streams on, and the reply's event (which waits) leaves after it
        send_event(turn.conversation.group_name,
                   {"type": "turn.delta", "turn": turn.id, "offset": len(text) - len(delta), "text": delta}, wait=False)


def record_heartbeat(turn_id: int) -> None:
    Turn.objects.filter(id=turn_id, status=TurnStatus.RUNNING).update(heartbeat_at=timezone.now())


def do_complete_turn(turn: Turn, text: str, reasoning: str) -> Message | None:
    """Store the reply once and close the turn. None if another attempt already did.

    Closing the turn first takes its row lock and says whether this attempt is the one that answers."""
    reply = Message(conversation_id=turn.conversation_id, author=Author.AGENT, text=text, reasoning=reasoning,
                    turn_id=turn.id)
    if connection.vendor == "postgresql" and not connection.in_atomic_block:
        return _complete_in_one_statement(turn, reply)
    with transaction.atomic():
        closed = Turn.objects.filter(id=turn.id).exclude(status=TurnStatus.DONE).update(
            status=TurnStatus.DONE, partial_text="", finished_at=timezone.now(), last_error="")
        if not closed:
            return None
        reply.save(force_insert=True)
        send_event_on_commit(turn.conversation.group_name, reply.as_event())
    return reply


def _complete_in_one_statement(turn: Turn, reply: Message) -> Message | None:
    """PostgreSQL, outside a transaction: the turn closed and its reply stored by one statement (the UPDATE in a CTE
    feeds the INSERT, so the reply exists only if this attempt closed the turn). A transaction took four round trips,
    on every turn between the last streamed word and the reply reaching the tabs."""
    fields = [f for f in Message._meta.concrete_fields if not f.primary_key]
    values = [f.get_db_prep_save(f.pre_save(reply, add=True), connection) for f in fields]  # as save() would
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH closed AS (UPDATE {Turn._meta.db_table} SET status = %s, partial_text = '', finished_at = %s, "
            f"last_error = '' WHERE id = %s AND status <> %s RETURNING id) "
            f"INSERT INTO {Message._meta.db_table} ({', '.join(f.column for f in fields)}) "
            f"SELECT {', '.join(['%s'] * len(fields))} FROM closed RETURNING id",
            [TurnStatus.DONE.value, timezone.now(), turn.id, TurnStatus.DONE.value, *values])
        row = cursor.fetchone()
    if row is None:
        return None
    reply.pk = row[0]
    reply._state.adding, reply._state.db = False, connection.alias
    send_event(turn.conversation.group_name, reply.as_event())
    return reply


def retry_delay(attempts: int) -> float:
    """Exponential backoff, capped: 2, 4, 8 ... TURN_RETRY_MAX_SECONDS."""
    return float(min(settings.TURN_RETRY_MAX_SECONDS, 2 ** max(1, attempts)))


def do_defer_turn(turn: Turn, error: str) -> None:
    """The model could not answer now: keep the turn pending, tell the patient once, retry later."""
    with transaction.atomic():
        locked = Turn.objects.select_for_update().get(id=turn.id)
        if locked.status != TurnStatus.RUNNING:
            return
        if locked.attempts >= settings.TURN_MAX_ATTEMPTS:
            _fail(locked, error)
            return
        if Turn.objects.filter(conversation_id=locked.conversation_id, status=TurnStatus.PENDING).exists():
            # Newer messages are already waiting: fold this turn into that one.
            _fail(locked, error, superseded=True)
            return
        delay = retry_delay(locked.attempts)
        now = timezone.now()
        locked.status = TurnStatus.PENDING
        locked.last_error = error[:2000]
        locked.next_attempt_at = now + timedelta(seconds=delay)
        locked.enqueued_at = now
        first_notice = not locked.patient_told_delay
        locked.patient_told_delay = True
        locked.save()
        group = turn.conversation.group_name
        send_event_on_commit(group, {"type": "turn.restart", "turn": locked.id})
        send_event_on_commit(group, {"type": "turn.delayed", "turn": locked.id, "text": DELAY_NOTICE,
                                     "first": first_notice})
        if not turn.conversation.simulated:  # a simulation retries (or stops) itself
            transaction.on_commit(lambda: enqueue_turn(locked.id, countdown=delay))


def _fail(turn: Turn, error: str, superseded: bool = False) -> None:
    turn.status = TurnStatus.FAILED
    turn.last_error = ("superseded by a newer turn: " if superseded else "") + error[:2000]
    turn.finished_at = timezone.now()
    turn.partial_text = ""
    turn.save()
    send_event_on_commit(turn.conversation.group_name, {"type": "turn.restart", "turn": turn.id})
    if not superseded:
        log.error("turn %s failed after %s attempts: %s", turn.id, turn.attempts, error)


def do_reconcile_turns() -> list[int]:
    """Re-enqueue turns the queue has lost track of. Returns the ids re-enqueued.

    - running, but no heartbeat for TURN_STALL_SECONDS: its worker died; back to pending.
    - pending and due, but enqueued more than TURN_STALL_SECONDS ago: the broker lost it
      (or it is still waiting behind a busy worker; a duplicate is harmless).
    """
    stale = _stale_before()
    now = timezone.now()
    requeued: list[int] = []
    with transaction.atomic():
        # A simulated consultation runs its own turns (agent/simulation): never queue them.
        dead = Turn.objects.select_for_update().filter(status=TurnStatus.RUNNING, heartbeat_at__lt=stale).exclude(
            conversation__simulated=True)
        for turn in dead:
            if Turn.objects.filter(conversation_id=turn.conversation_id, status=TurnStatus.PENDING).exists():
                _fail(turn, "worker lost", superseded=True)  # a newer pending turn will answer everything
                continue
            turn.status = TurnStatus.PENDING
            turn.last_error = "worker lost"
            turn.next_attempt_at = now
            turn.enqueued_at = now
            turn.save(update_fields=["status", "last_error", "next_attempt_at", "enqueued_at"])
            requeued.append(turn.id)
        lost = Turn.objects.select_for_update().filter(
            Q(enqueued_at__lt=stale) | Q(enqueued_at__isnull=True),
            status=TurnStatus.PENDING,
        ).filter(Q(next_attempt_at__lte=now) | Q(next_attempt_at__isnull=True)).exclude(conversation__simulated=True)
        for turn in lost:
            turn.enqueued_at = now
            turn.save(update_fields=["enqueued_at"])
            requeued.append(turn.id)
    for turn_id in requeued:
        enqueue_turn(turn_id)
    if requeued:
        log.info("reconciler re-enqueued turns %s", requeued)
    return requeued
