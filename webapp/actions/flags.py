"""Red flags: written into the patient's record as a Flag, and sent live to their care team."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from agent.safety.escalation import TRIAGE_MESSAGE_SYSTEM, red_flag
from agent.safety.rules import Level
from agent.safety.triage import TriageResult
from fhir.access import agent_requester
from fhir.store import Repository
from webapp.accounts.models import CareTeamMembership
from webapp.actions.events import send_event_on_commit
from webapp.chat.models import Message

log = logging.getLogger(__name__)


def alerts_group(clinician_id: int) -> str:
    """The channel group of one clinician's live alerts (every open dashboard tab of theirs joins it)."""
    return f"alerts-{clinician_id}"


def respond_within(level: Level) -> timedelta:
    minutes = settings.EMERGENCY_ACK_MINUTES if level == Level.EMERGENCY else settings.URGENT_RESPONSE_MINUTES
    return timedelta(minutes=minutes)


def send_to_care_team(patient, event: dict) -> None:
    """An event to every open dashboard of the patient's care team, after commit (one group per clinician)."""
    for clinician_id in CareTeamMembership.objects.filter(patient=patient).values_list("clinician_id", flat=True):
        send_event_on_commit(alerts_group(clinician_id), event)


def notify_care_team(patient, flag: dict, event: dict) -> None:
    """Tell the patient's care team about a new Flag: every open dashboard live, after commit. Every Flag that
    needs a person (red flags, trend rules, missed check-ins) goes through here. It also gets an alert that
    reaches someone when no dashboard is open (webapp/actions/alerts.py): delivered by a worker after commit,
    never here on the patient's message path, and escalated along the care team until acknowledged."""
    from webapp.actions.alerts import do_create_alert  # it imports alerts_group from here

    send_to_care_team(patient, event)
    try:
        with transaction.atomic():
            do_create_alert(patient, flag, event)
    except Exception:  # the Flag and the live alerts stand even if the alert cannot be recorded
        log.exception("could not create the alert for Flag/%s", flag.get("id"))


def do_raise_red_flag(message: Message, triage: TriageResult) -> dict | None:
    """Write the Flag and alert the care team. Never raises: the fixed reply has already been sent."""
    patient = message.conversation.patient
    if not patient.fhir_id:
        log.error("no FHIR record for patient %s: red flag on message %s not written", patient.pk, message.id)
        return None
    flag = red_flag(patient.fhir_id, message.id, triage, timezone.now(), respond_within(triage.level))
    try:
        with transaction.atomic():
            # The triage layer acts for the agent, in this patient's record only; audited as the agent.
            written = Repository(agent_requester(patient.fhir_id), channel="agent").create(
                flag, if_none_exist=f"identifier={TRIAGE_MESSAGE_SYSTEM}|{message.id}").resource
            event = {"type": "alert.red_flag", "level": str(triage.level), "reasons": list(triage.reasons),
                     "flag_id": written["id"], "patient_id": patient.fhir_id, "patient": patient.get_full_name()
                     or patient.username, "message_id": message.id, "conversation": str(message.conversation.public_id),
                     "respond_by": flag["extension"][0]["valueDateTime"]}
            notify_care_team(patient, written, event)
    except Exception:  # a failure here must not undo the reply the patient already has
        log.exception("could not record the red flag of message %s", message.id)
        return None
    return written
