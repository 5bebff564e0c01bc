"""Humans in the loop: a clinician replies in a patient's conversation, takes it over (the agent pauses there and
says so) and hands it back; an admin pauses the agent for everyone (the kill switch)."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from agent.models import AgentSwitch
from webapp.accounts.access import clinician_cares_for
from webapp.accounts.models import Role, User, language_and_emergency_number
from webapp.actions.events import send_event_on_commit
from webapp.actions.flags import alerts_group
from webapp.chat.models import Author, Conversation, Message, Turn, TurnStatus

PAUSED_REPLY = ("The assistant is paused right now. Your message is saved and your care team can see it. "
                "If this is urgent, call {emergency_number} or contact your clinic.")


def agent_paused() -> bool:
    return AgentSwitch.objects.filter(pk=1, paused=True).exists()


def _require_care_team(clinician: User, conversation: Conversation) -> None:
    if clinician.role != Role.CLINICIAN or not clinician_cares_for(clinician, conversation.patient_id):
        raise PermissionError("only the patient's care team acts in this conversation")


def _system_message(conversation: Conversation, text: str) -> Message:
    message = Message.objects.create(conversation=conversation, author=Author.SYSTEM, text=text)
    send_event_on_commit(conversation.group_name, message.as_event())
    return message


def _cancel_pending_turns(turns, reason: str) -> None:
    """Turns waiting to answer will not: the agent is not to speak now (a running one finishes its reply)."""
    for turn in turns.filter(status=TurnStatus.PENDING):
        turn.status, turn.last_error, turn.finished_at = TurnStatus.FAILED, reason, timezone.now()
        turn.save(update_fields=["status", "last_error", "finished_at"])
        send_event_on_commit(turn.conversation.group_name, {"type": "turn.restart", "turn": turn.id})


def do_send_clinician_message(clinician: User, conversation: Conversation, text: str) -> Message:
    """A care-team clinician writes in the patient's conversation (the agent does not answer it)."""
    _require_care_team(clinician, conversation)
    if not text.strip():
        raise ValueError("The message is empty.")
    with transaction.atomic():
        message = Message.objects.create(conversation=conversation, author=Author.CLINICIAN, sender=clinician,
                                         text=text.strip())
        send_event_on_commit(conversation.group_name, message.as_event())
    return message


def do_take_over(clinician: User, conversation: Conversation) -> None:
    _require_care_team(clinician, conversation)
    with transaction.atomic():
        locked = Conversation.objects.select_for_update().get(pk=conversation.pk)
        if locked.taken_over_by_id == clinician.pk:
            return
        locked.taken_over_by, locked.taken_over_at = clinician, timezone.now()
        locked.save(update_fields=["taken_over_by", "taken_over_at"])
        _cancel_pending_turns(Turn.objects.filter(conversation=locked), f"taken over by {clinician.username}")
        name = clinician.get_full_name() or clinician.username
        _system_message(locked, f"{name} from your care team has joined the conversation. The assistant is paused "
                                "until they hand it back.")


def do_hand_back(clinician: User, conversation: Conversation) -> None:
    _require_care_team(clinician, conversation)
    with transaction.atomic():
        locked = Conversation.objects.select_for_update().get(pk=conversation.pk)
        if locked.taken_over_by_id is None:
            return
        locked.taken_over_by, locked.taken_over_at = None, None
        locked.save(update_fields=["taken_over_by", "taken_over_at"])
        name = clinician.get_full_name() or clinician.username
        _system_message(locked, f"{name} has handed the conversation back to the assistant.")


def do_set_agent_paused(admin: User, paused: bool, reason: str = "") -> AgentSwitch:
    """The kill switch. Pausing cancels every waiting turn; clinicians are alerted either way."""
    if admin.role != Role.ADMIN:
        raise PermissionError("only admins pause or resume the agent")
    with transaction.atomic():
        switch = AgentSwitch.objects.select_for_update().get_or_create(pk=1)[0]
        switch.paused, switch.reason = paused, reason.strip()[:500]
        switch.changed_by, switch.changed_at = admin, timezone.now()
        switch.save()
        if paused:
            _cancel_pending_turns(Turn.objects.filter(conversation__simulated=False), "agent paused by an admin")
        event = {"type": "alert.agent_paused" if paused else "alert.agent_resumed", "reason": switch.reason,
                 "by": admin.username}
        for clinician_id in User.objects.filter(role=Role.CLINICIAN, is_active=True).values_list("pk", flat=True):
            send_event_on_commit(alerts_group(clinician_id), event)
    return switch


def paused_reply(conversation: Conversation) -> Message:
    """The fixed answer to a patient while the kill switch is on (no model involved)."""
    number = language_and_emergency_number(conversation.patient_id)[1]
    return _system_message(conversation, PAUSED_REPLY.format(emergency_number=number))
