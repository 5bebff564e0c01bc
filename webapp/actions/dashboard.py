"""What a clinician does from the dashboard: read a conversation, close a red flag."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from fhir.access import requester_for_user
from fhir.release import CLINICIAN_VERIFIED, REJECTED
from fhir.store import Repository
from webapp.accounts.models import User
from webapp.actions.flags import send_to_care_team
from webapp.chat.models import Conversation


def do_mark_conversation_read(clinician: User, conversation: Conversation) -> None:
    """Everything in the conversation so far counts as seen by this clinician."""
    from webapp.dashboard.models import ConversationRead

    newest = conversation.messages.order_by("-id").values_list("id", flat=True).first() or 0
    ConversationRead.objects.update_or_create(clinician=clinician, conversation=conversation,
                                              defaults={"last_message_id": newest})


def do_close_flag(clinician: User, flag_id: str) -> dict:
    """The clinician has dealt with a red flag: it becomes inactive (a new version, audited as them), and every
    care-team dashboard drops it. FhirError (404) when the flag is not one of their patients'."""
    repo = Repository(requester_for_user(clinician), channel="app")
    with transaction.atomic():
        flag = repo.read("Flag", flag_id)
        if flag.get("status") != "active":
            return flag
        closed = {**flag, "status": "inactive",
                  "period": {**flag.get("period", {}), "end": timezone.now().isoformat()}}
        written = repo.update("Flag", flag_id, closed).resource
        patient_id = flag.get("subject", {}).get("reference", "").removeprefix("Patient/")
        event = {"type": "alert.flag_closed", "flag_id": flag_id, "patient_id": patient_id,
                 "by": clinician.get_full_name() or clinician.username}
        patient = User.objects.filter(fhir_id=patient_id).first()
        if patient is not None:
            send_to_care_team(patient, event)
    return written


def do_review_fact(clinician: User, resource_type: str, fhir_id: str, verify: bool) -> dict:
    """One click on a recorded fact: verified (it joins the patient's released record) or rejected (hidden from
    the patient). A new version with a Provenance naming the clinician; FhirError when it is not theirs to review."""
    repo = Repository(requester_for_user(clinician), channel="app")
    return repo.set_confirmation(resource_type, fhir_id, CLINICIAN_VERIFIED if verify else REJECTED)
