"""Who may see what. Views, consumers and the agent all ask here."""

from __future__ import annotations

from django.http import Http404

from webapp.accounts.models import CareTeamMembership, Role, User


def clinician_cares_for(clinician: User, patient_id: int) -> bool:
    return CareTeamMembership.objects.filter(clinician=clinician, patient_id=patient_id).exists()


def can_view_patient(user: User, patient_id: int) -> bool:
    if not user.is_authenticated or not user.is_active:
        return False
    if user.role == Role.PATIENT:
        return user.pk == patient_id
    if user.role == Role.CLINICIAN:
        return clinician_cares_for(user, patient_id)
    return False


def get_conversation_for_user(user: User, conversation_public_id):
    """The conversation if ``user`` may see it; Http404 otherwise (no existence leak)."""
    from webapp.chat.models import Conversation

    try:
        conversation = Conversation.objects.select_related("patient").get(public_id=conversation_public_id)
    except (Conversation.DoesNotExist, ValueError):
        raise Http404("No such conversation") from None
    if not can_view_patient(user, conversation.patient_id):
        raise Http404("No such conversation")
    return conversation
