"""Who an alert goes to, in order: the patient's care-team chain, each clinician's contacts, and the fallback."""

from __future__ import annotations

from django.conf import settings
from django.db.models import F

from webapp.accounts.models import CareTeamMembership, User
from webapp.alerts.models import AlertContact, ContactChannel


def contacts_for(clinician: User) -> list[tuple[str, str]]:
    """(channel, address) pairs that reach this clinician through the channels ALERT_CHANNELS enables. Without
    contact rows of their own, their account's email address."""
    enabled = set(settings.ALERT_CHANNELS)
    rows = list(AlertContact.objects.filter(clinician=clinician, active=True).order_by("id")
                .values_list("channel", "address"))
    if not AlertContact.objects.filter(clinician=clinician).exists() and clinician.email:
        rows = [(ContactChannel.EMAIL.value, clinician.email)]
    return [(channel, address) for channel, address in rows if channel in enabled]


def escalation_chain(patient: User) -> list[User]:
    """The patient's care team in escalation order: ranked members first (lowest rank first), then the others in
    the order they joined. Clinicians who cannot be reached (inactive, no usable contact) are left out: waiting a
    whole window on someone no message can reach would only delay the next person."""
    memberships = (CareTeamMembership.objects.filter(patient=patient, clinician__is_active=True)
                   .select_related("clinician")
                   .order_by(F("chain_rank__rank").asc(nulls_last=True), "created_at", "id"))
    return [m.clinician for m in memberships if contacts_for(m.clinician)]


def fallback_contacts() -> list[tuple[str, str]]:
    """The on-call addresses that take an alert nobody on the chain acknowledged (settings; may be none)."""
    enabled = set(settings.ALERT_CHANNELS)
    pairs = [(ContactChannel.EMAIL.value, settings.ALERT_FALLBACK_EMAIL),
             (ContactChannel.WEBHOOK.value, settings.ALERT_FALLBACK_WEBHOOK_URL)]
    return [(channel, address) for channel, address in pairs if address and channel in enabled]
