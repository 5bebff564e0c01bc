"""A patient marks an agent message as wrong: the care team is alerted and the turn's trajectory records it (so
review and training data carry the patient's word)."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import timezone

from agent.models import Trajectory
from webapp.accounts.models import CareTeamMembership, User
from webapp.actions.flags import send_to_care_team
from webapp.chat.models import Author, Message, MessageReport

MAX_REASON_CHARS = 1000


def do_report_message(patient: User, message_id: int, reason: str) -> MessageReport:
    """LookupError when the message is not an agent message in the patient's own conversation."""
    message = (Message.objects.select_related("conversation")
               .filter(id=message_id, author=Author.AGENT, conversation__patient=patient).first())
    if message is None:
        raise LookupError("no such agent message in your conversation")
    reason = reason.strip()[:MAX_REASON_CHARS]
    try:
        with transaction.atomic():
            report = MessageReport.objects.create(message=message, reporter=patient, reason=reason)
            trajectory = (Trajectory.objects.select_for_update().filter(turn_id=message.turn_id)
                          .order_by("-attempt").first())
            if trajectory is not None:
                trajectory.steps = [*trajectory.steps, {"kind": "patient_report", "reason": reason,
                                                        "at_time": timezone.now().isoformat()}]
                trajectory.save(update_fields=["steps"])
            event = {"type": "alert.message_reported", "patient": patient.get_full_name() or patient.username,
                     "patient_id": patient.fhir_id, "message_id": message.id, "reason": reason,
                     "conversation": str(message.conversation.public_id)}
            send_to_care_team(patient, event)
    except IntegrityError:  # reported before: one report per message and patient
        return MessageReport.objects.get(message=message, reporter=patient)
    return report


def do_resolve_reports(clinician: User, message: Message) -> int:
    """A care-team clinician has reviewed what the patient reported about this message."""
    if not CareTeamMembership.objects.filter(clinician=clinician, patient_id=message.conversation.patient_id).exists():
        raise PermissionError("only the patient's care team reviews their reports")
    return MessageReport.objects.filter(message=message, resolved_at__isnull=True).update(
        resolved_by=clinician, resolved_at=timezone.now())
