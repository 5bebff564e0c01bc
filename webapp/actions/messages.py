"""A patient's message: stored first, then checked, then answered by a queued turn."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from agent.models import AgentSwitch
from agent.safety.replies import red_flag_reply
from agent.safety.rules import Level
from agent.safety.triage import TriageResult, triage_message
from webapp.accounts.models import User, language_and_emergency_number
from webapp.actions.events import enqueue_turn, send_event_on_commit
from webapp.actions.flags import do_raise_red_flag
from webapp.actions.followup import do_mark_check_ins_answered
from webapp.actions.handover import paused_reply
from webapp.actions.measurements import queue_measurements
from webapp.chat.models import Author, Conversation, Message, Turn, TurnStatus
from webapp.followup.models import CheckInDelivery

log = logging.getLogger(__name__)


class EmptyMessage(ValueError):
    """A message with no text: there is nothing to store."""


def too_long_reply(limit: int) -> str:
    return (
        f"Your message is longer than {limit} characters, so I have saved it but not answered it. "
        "Could you send the most important part in a shorter message?"
    )


@dataclass
class SendResult:
    message: Message
    created: bool
    # Warnings for the sender: ("too_long", text) or ("rate_limited", text).
    notices: list[tuple[str, str]] = field(default_factory=list)


def do_send_patient_message(patient: User, conversation: Conversation, text: str, client_id: str = "") -> SendResult:
    """Store the message before anything else, then queue (or coalesce) the turn that answers it.

    A limit may refuse the agent's turn, never the storing of text.
    """
    if not text.strip():
        raise EmptyMessage("The message is empty.")
    if conversation.patient_id != patient.pk:
        raise PermissionError("patients write only in their own conversation")
    client_id = client_id[:64]
    try:  # a frame sent again (a reconnecting tab) hits the unique client id: no lookup first, on every message
        with transaction.atomic():
            message = Message.objects.create(conversation=conversation, author=Author.PATIENT, sender=patient,
                                             text=text, client_id=client_id)
    except IntegrityError:
        return SendResult(Message.objects.get(conversation=conversation, client_id=client_id), created=False)
    send_event_on_commit(conversation.group_name, message.as_event())
    result = SendResult(message, created=True)
    circumstances = read_circumstances(message)

    # The deterministic red-flag check runs on every stored message (oversized and
    # flooded ones too), synchronously, before any turn is queued: an emergency
    # reply never waits behind a busy queue or depends on the model.
    triage = do_triage_message(message, circumstances.previous_agent_text)
    # Readings it reports ("my BP was 150/95") are recorded on a worker after commit, whoever answers: the
    # agent, a clinician who has taken over, or nobody (paused); finding them takes microseconds.
    queue_measurements(message)
    if circumstances.open_check_ins:
        answer_check_ins(conversation, message)
    if triage.level == Level.EMERGENCY:
        return result  # the fixed emergency reply is the answer; no model turn
    if circumstances.taken_over:
        return result  # a clinician has taken the conversation over: they answer, not the agent
    if circumstances.agent_paused and not conversation.simulated:
        paused_reply(conversation)  # the kill switch: a fixed answer, no model
        return result
    limit = settings.CHAT_MAX_MESSAGE_CHARS
    if len(text) > limit:
        reply = too_long_reply(limit)
        with transaction.atomic():
            notice = Message.objects.create(conversation=conversation, author=Author.SYSTEM, text=reply)
        send_event_on_commit(conversation.group_name, notice.as_event())
        result.notices.append(("too_long", reply))
        return result
    if circumstances.recent_patient_messages > settings.CHAT_RATE_LIMIT_MESSAGES:
        result.notices.append((
            "rate_limited",
            "You are sending messages quickly. They are all saved and will be answered together.",
        ))
    do_queue_turn(conversation, message)
    return result


@dataclass(frozen=True)
class Circumstances:
    """What decides how a just-stored message is handled, as the database has it now."""

    previous_agent_text: str  # the agent's last words before it: triage reads answers to its question
    taken_over: bool  # a clinician answers here, not the agent
    agent_paused: bool  # the admin's kill switch
    recent_patient_messages: int  # in the rate-limit window, this one included
    open_check_ins: bool  # follow-up check-ins this message may answer


def read_circumstances(message: Message) -> Circumstances:
    """Every check a stored message goes through, in one statement. Five ORM queries before: their building cost
    more CPU than the database's work (about 1 ms of the 1.3 ms this replaces), on every message. Read fresh: a
    consumer's conversation object is as old as its socket."""
    window = timezone.now() - timedelta(seconds=settings.CHAT_RATE_LIMIT_WINDOW_SECONDS)
    with connection.cursor() as cursor:
        cursor.execute(_CIRCUMSTANCES_SQL, [Author.AGENT.value, message.id, Author.PATIENT.value,
                                            connection.ops.adapt_datetimefield_value(window), message.conversation_id])
        previous, taken_over_by, paused, recent, open_check_ins = cursor.fetchone()
    return Circumstances(previous or "", taken_over_by is not None, bool(paused), recent, bool(open_check_ins))


_CIRCUMSTANCES_SQL = f"""
SELECT (SELECT m.text FROM {Message._meta.db_table} m
         WHERE m.conversation_id = c.id AND m.author = %s AND m.id < %s ORDER BY m.id DESC LIMIT 1),
       c.taken_over_by_id,
       EXISTS (SELECT 1 FROM {AgentSwitch._meta.db_table} s WHERE s.id = 1 AND s.paused),
       (SELECT COUNT(*) FROM {Message._meta.db_table} m
         WHERE m.conversation_id = c.id AND m.author = %s AND m.created_at >= %s),
       EXISTS (SELECT 1 FROM {CheckInDelivery._meta.db_table} d WHERE d.conversation_id = c.id AND d.closed_at IS NULL)
FROM {Conversation._meta.db_table} c WHERE c.id = %s
"""


def answer_check_ins(conversation: Conversation, message: Message) -> None:
    """A reply after a follow-up check-in answers it. After the red-flag check, and never fatal: the message is
    stored and must still be answered."""
    try:
        do_mark_check_ins_answered(conversation, message)
    except Exception:
        log.exception("could not mark the check-ins of conversation %s answered", conversation.pk)


def do_triage_message(message: Message, previous: str | None = None) -> TriageResult:
    """Triage a stored patient message, record the result on it, and send the fixed
    reply for an emergency or urgent result. ``previous``: the agent's last words before it, if already read."""
    if previous is None:
        previous = read_circumstances(message).previous_agent_text
    question = previous if "?" in previous else ""
    try:
        triage = triage_message(message.text, question)
    except Exception:  # a bug in the rules must not lose the message: treat it as urgent
        log.exception("triage failed on message %s", message.id)
        triage = TriageResult(Level.URGENT, ["triage error: treated as urgent"])
    message.triage_level, message.triage_reasons = triage.level, triage.reasons
    if triage.level not in (Level.EMERGENCY, Level.URGENT):
        Message.objects.filter(id=message.id).update(triage_level=triage.level, triage_reasons=triage.reasons)
        return triage
    reply = red_flag_reply(triage.level, *language_and_emergency_number(message.conversation.patient_id))
    with transaction.atomic():
        Message.objects.filter(id=message.id).update(triage_level=triage.level, triage_reasons=triage.reasons)
        notice = Message.objects.create(conversation_id=message.conversation_id, author=Author.SYSTEM, text=reply)
        send_event_on_commit(message.conversation.group_name, notice.as_event())
    do_raise_red_flag(message, triage)  # after the reply is committed: the record and alerts never delay it
    if triage.level == Level.EMERGENCY:
        log.warning("EMERGENCY in conversation %s: %s", message.conversation.public_id, "; ".join(triage.reasons))
    return triage


def do_queue_turn(conversation: Conversation, message: Message) -> Turn:
    """One pending turn per conversation (a unique constraint): a new message joins it rather than starting another.
    The insert comes first: a pending turn is rare (a worker claims it within milliseconds), so the usual case is one
    statement, not a locking read and then an insert."""
    now = timezone.now()
    try:
        with transaction.atomic():
            turn = Turn.objects.create(conversation=conversation, message=message, enqueued_at=now,
                                       next_attempt_at=now)
    except IntegrityError:  # one is pending: it answers this message too
        with transaction.atomic():
            turn = Turn.objects.select_for_update().filter(conversation=conversation,
                                                           status=TurnStatus.PENDING).first()
            if turn is not None:
                turn.message = message
                turn.save(update_fields=["message"])
                return turn  # already queued; the worker reads the newest message when it runs
            # claimed in between: this message needs a turn of its own
            turn = Turn.objects.create(conversation=conversation, message=message, enqueued_at=now,
                                       next_attempt_at=now)
    if not conversation.simulated:  # a simulated consultation runs its turns itself (agent/simulation)
        transaction.on_commit(lambda: enqueue_turn(turn.id))
    return turn
