"""Alerts that reach someone (webapp/alerts): every Flag that needs a person gets one alert, delivered by a worker
(never on the patient's message path), acknowledged by a clinician, or escalated along the patient's care-team chain
when nobody acknowledges it within its level's window; the patient is told who was alerted and what to do meanwhile.

Times are webapp.clock time, so tests move the clock instead of sleeping."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from agent.safety.escalation import TRIAGE_LEVEL_SYSTEM
from fhir.access import agent_requester, requester_for_user
from fhir.errors import FhirError
from fhir.store import Repository
from webapp import clock
from webapp.accounts.emergency import DEFAULT_EMERGENCY_NUMBER
from webapp.accounts.models import PatientProfile, Role, User
from webapp.actions.events import send_event_on_commit
from webapp.actions.flags import send_to_care_team
from webapp.alerts.chain import contacts_for, escalation_chain, fallback_contacts
from webapp.alerts.hours import clinic_open, next_opening, patient_zone
from webapp.alerts.models import Alert, AlertStatus, Delivery, DeliveryStatus
from webapp.alerts.notice import notice_sentences, opening_phrase
from webapp.alerts.record import ACK_EXTENSION, acknowledgement_extension
from webapp.chat.models import Author, Conversation, Message

log = logging.getLogger(__name__)

LEVELS = ("emergency", "urgent")
DELIVER_TASK = "webapp.alerts.tasks.deliver_alert"
JUST_SAID = timedelta(minutes=5)  # a system message this recent, since the patient's last, counts as just said


class DeliveryRetry(Exception):
    """An attempt failed and more are allowed: the task retries after ``countdown`` seconds."""

    def __init__(self, message: str, attempts: int) -> None:
        super().__init__(message)
        self.countdown = min(settings.ALERT_RETRY_BASE_SECONDS * 2 ** (attempts - 1), 300)


def alert_level(flag: dict, event: dict) -> str:
    """Emergency or urgent: the triage code on a red flag, else the event's level, else urgent (a Flag that needs a
    person and says no more is treated as something to see today)."""
    for coding in flag.get("code", {}).get("coding", []):
        if coding.get("system") == TRIAGE_LEVEL_SYSTEM and coding.get("code") in LEVELS:
            return coding["code"]
    level = str(event.get("level", ""))
    return level if level in LEVELS else "urgent"


def escalation_window(level: str) -> timedelta:
    minutes = settings.EMERGENCY_ACK_MINUTES if level == "emergency" else settings.URGENT_RESPONSE_MINUTES
    return timedelta(minutes=minutes)


def enqueue_delivery(delivery_id: int, countdown: float = 0) -> bool:
    """Put a delivery on the Celery queue. False if the broker is unreachable (the escalation sweep re-enqueues)."""
    from webapp.celery import app

    try:
        app.send_task(DELIVER_TASK, args=[delivery_id], countdown=countdown or None, retry=True,
                      retry_policy={"max_retries": 2, "interval_start": 0.2, "interval_step": 0.5})
    except Exception:
        log.warning("could not enqueue alert delivery %s; the escalation sweep will", delivery_id, exc_info=True)
        return False
    return True


def _name(user: User) -> str:
    return user.get_full_name() or user.username


def _notify_step(alert: Alert, step: int, now: datetime) -> list[str]:
    """Send the alert to whoever is at ``step`` of the chain (past its end: the fallback) and schedule the next
    step. Returns the names of the clinicians alerted ([] for the fallback or nobody)."""
    chain = escalation_chain(alert.patient)
    if step < len(chain):
        recipient: User | None = chain[step]
        targets, names = contacts_for(recipient), [_name(recipient)]
    else:
        recipient, targets, names = None, fallback_contacts(), []
        if not targets:
            log.error("alert %s (Flag/%s): nobody left to alert and no fallback configured", alert.id, alert.flag_id)
    for channel, address in targets:
        delivery, created = Delivery.objects.get_or_create(
            alert=alert, step=step, channel=channel, address=address,
            defaults={"recipient": recipient, "created_at": now})
        if created:
            transaction.on_commit(lambda delivery_id=delivery.id: enqueue_delivery(delivery_id))
    alert.step = step
    if recipient is None:  # the fallback was the last resort: nothing further to escalate to
        alert.status, alert.next_escalation_at, alert.stopped_at = AlertStatus.EXHAUSTED, None, now
    else:
        alert.next_escalation_at = now + escalation_window(alert.level)
    alert.save(update_fields=["step", "status", "next_escalation_at", "stopped_at"])
    return names


def do_create_alert(patient: User, flag: dict, event: dict) -> Alert:
    """The alert for a new Flag: its first deliveries (sent by a worker after commit) and the patient's notice.
    Runs inside the caller's transaction; notifying about the same Flag again creates nothing."""
    now = clock.now()
    level = alert_level(flag, event)
    alert, created = Alert.objects.get_or_create(
        flag_id=flag["id"],
        defaults={"patient": patient, "level": level, "summary": flag.get("code", {}).get("text", "")[:1000],
                  "created_at": now})
    if not created:
        return alert
    names = _notify_step(alert, 0, now)
    tell_patient(alert, names, now)
    return alert


def tell_patient(alert: Alert, names: list[str], now: datetime) -> Message | None:
    """A short system message in the patient's conversation: who has been alerted and what to do meanwhile (out of
    hours: that nobody may read it before the clinic opens, and their emergency number). A sentence the triage
    reply has just said in the same words is not said again."""
    conversation = Conversation.objects.filter(patient=alert.patient, simulated=False).first()
    if conversation is None or alert.level not in LEVELS:
        return None
    profile = PatientProfile.objects.filter(user=alert.patient).first()
    number = profile.emergency_number if profile else DEFAULT_EMERGENCY_NUMBER
    language = profile.language if profile else "en"
    zone = patient_zone(profile.time_zone if profile else "UTC")
    opening = None if clinic_open(now, zone) else opening_phrase(language, next_opening(now, zone),
                                                                  now.astimezone(zone).date())
    # Nobody on the chain could be reached but deliveries went out: the fallback (on call) was alerted.
    sentences = notice_sentences(language, names, not names and alert.deliveries.exists(), alert.level, number,
                                 opening)
    # What was just said to the patient (the triage reply to the message that raised this Flag): created_at is
    # the real time a row was written, so this compares with the real clock, not webapp.clock.
    last_patient = (Message.objects.filter(conversation=conversation, author=Author.PATIENT)
                    .order_by("-id").values_list("id", flat=True).first() or 0)
    said = list(Message.objects.filter(conversation=conversation, author=Author.SYSTEM, id__gt=last_patient,
                                       created_at__gte=timezone.now() - JUST_SAID).values_list("text", flat=True))
    sentences = [s for s in sentences if not any(s in text for text in said)]
    if not sentences:
        return None
    message = Message.objects.create(conversation=conversation, author=Author.SYSTEM, text=" ".join(sentences))
    send_event_on_commit(conversation.group_name, message.as_event())
    return message


def do_deliver_alert(delivery_id: int) -> str | None:
    """One attempt at one delivery (the worker's task). Claims it first, so a duplicate task sends nothing twice.
    Raises DeliveryRetry when the attempt failed and another is allowed; the outcome is recorded either way."""
    from webapp.alerts.content import alert_content
    from webapp.alerts.senders import SENDERS

    now = clock.now()
    claimed = Delivery.objects.filter(pk=delivery_id, status=DeliveryStatus.PENDING).update(
        status=DeliveryStatus.SENDING, claimed_at=now, attempts=F("attempts") + 1)
    if not claimed:
        return None  # sent, given up, cancelled, or another worker has it
    delivery = Delivery.objects.select_related("alert", "alert__patient", "recipient").get(pk=delivery_id)
    if delivery.alert.status in (AlertStatus.ACKNOWLEDGED, AlertStatus.CLOSED):
        Delivery.objects.filter(pk=delivery_id).update(status=DeliveryStatus.CANCELLED)
        return DeliveryStatus.CANCELLED
    try:
        SENDERS[delivery.channel](delivery, alert_content(delivery))
    except Exception as error:
        given_up = delivery.attempts >= settings.ALERT_DELIVERY_MAX_ATTEMPTS
        status = DeliveryStatus.FAILED if given_up else DeliveryStatus.PENDING
        Delivery.objects.filter(pk=delivery_id).update(status=status, last_error=f"{type(error).__name__}: {error}"[
            :2000])
        log.warning("alert delivery %s (%s to %s) failed, attempt %s: %s", delivery_id, delivery.channel,
                    delivery.address, delivery.attempts, error)
        if given_up:
            _escalate_now_if_unreachable(delivery.alert_id, delivery.step, now)
            return DeliveryStatus.FAILED
        raise DeliveryRetry(str(error), delivery.attempts) from error
    Delivery.objects.filter(pk=delivery_id).update(status=DeliveryStatus.SENT, sent_at=clock.now(), last_error="")
    return DeliveryStatus.SENT


def _escalate_now_if_unreachable(alert_id: int, step: int, now: datetime) -> None:
    """Every channel of this step has failed for good: the next person should not wait out the window."""
    live = (DeliveryStatus.PENDING, DeliveryStatus.SENDING, DeliveryStatus.SENT)
    if not Delivery.objects.filter(alert_id=alert_id, step=step, status__in=live).exists():
        Alert.objects.filter(pk=alert_id, step=step, status=AlertStatus.OPEN).update(next_escalation_at=now)


def _flag_active(alert: Alert) -> bool:
    """Whether the Flag is still open. Read as the agent, in this patient's record only (audited like every read)."""
    try:
        flag = Repository(agent_requester(alert.patient.fhir_id), channel="alerts").read("Flag", alert.flag_id)
    except FhirError as error:
        if error.status in (404, 410):
            return False
        raise
    return flag.get("status") == "active"


def do_escalate_alerts() -> list[int]:
    """The beat task: alerts past their window go to the next person on the chain; alerts whose Flag was closed
    stop. Deliveries a lost queue or a dead worker left behind are enqueued again. Returns the escalated alerts."""
    now = clock.now()
    escalated: list[int] = []
    due = list(Alert.objects.filter(status=AlertStatus.OPEN, next_escalation_at__lte=now).values_list("id", flat=True))
    for alert_id in due:
        with transaction.atomic():
            alert = (Alert.objects.select_for_update().select_related("patient")
                     .filter(pk=alert_id, status=AlertStatus.OPEN, next_escalation_at__lte=now).first())
            if alert is None:
                continue  # acknowledged in the meantime
            if not _flag_active(alert):
                alert.status, alert.next_escalation_at, alert.stopped_at = AlertStatus.CLOSED, None, now
                alert.save(update_fields=["status", "next_escalation_at", "stopped_at"])
                Delivery.objects.filter(alert=alert, status=DeliveryStatus.PENDING).update(
                    status=DeliveryStatus.CANCELLED)
                continue
            names = _notify_step(alert, alert.step + 1, now)
            log.warning("alert %s (Flag/%s) not acknowledged in time: escalated to step %s (%s)", alert.id,
                        alert.flag_id, alert.step, ", ".join(names) or "fallback")
            send_to_care_team(alert.patient, {"type": "alert.escalated", "flag_id": alert.flag_id,
                                               "patient_id": alert.patient.fhir_id, "step": alert.step,
                                               "to": names or ["on call"]})
            escalated.append(alert.id)
    _requeue_stale_deliveries(now)
    return escalated


def _requeue_stale_deliveries(now: datetime) -> None:
    stale = now - timedelta(seconds=settings.ALERT_DELIVERY_STALE_SECONDS)
    # A worker that died mid-send leaves "sending" behind; a lost queue leaves "pending" that nobody claims.
    Delivery.objects.filter(status=DeliveryStatus.SENDING, claimed_at__lt=stale).update(status=DeliveryStatus.PENDING)
    for delivery_id in (Delivery.objects.filter(status=DeliveryStatus.PENDING, created_at__lt=stale)
                        .exclude(claimed_at__gte=stale).values_list("id", flat=True)):
        enqueue_delivery(delivery_id)


def do_acknowledge_alert(clinician: User, flag_id: str) -> Alert:
    """A clinician on the care team has seen the alert: escalation stops, deliveries not yet sent are dropped, and
    the Flag records who acknowledged it and when (a new version, audited as them). FhirError (404) when the Flag
    is not one of their patients'."""
    if clinician.role != Role.CLINICIAN:
        raise PermissionError("only clinicians acknowledge alerts")
    repo = Repository(requester_for_user(clinician), channel="app")
    now = clock.now()
    with transaction.atomic():
        flag = repo.read("Flag", flag_id)  # the access check (404 outside the care team), audited
        patient = User.objects.get(fhir_id=flag.get("subject", {}).get("reference", "").removeprefix("Patient/"),
                                   role=Role.PATIENT)
        # A Flag raised before alerts existed has no alert yet: the acknowledgement is still recorded.
        alert, _ = Alert.objects.select_for_update().get_or_create(
            flag_id=flag_id, defaults={"patient": patient, "level": alert_level(flag, {}), "created_at": now,
                                       "summary": flag.get("code", {}).get("text", "")[:1000]})
        if alert.acknowledged_at is not None:
            return alert
        alert.status, alert.acknowledged_by, alert.acknowledged_at = AlertStatus.ACKNOWLEDGED, clinician, now
        alert.next_escalation_at, alert.stopped_at = None, now
        alert.save(update_fields=["status", "acknowledged_by", "acknowledged_at", "next_escalation_at",
                                  "stopped_at"])
        Delivery.objects.filter(alert=alert, status=DeliveryStatus.PENDING).update(status=DeliveryStatus.CANCELLED)
        extensions = [e for e in flag.get("extension", []) if e.get("url") != ACK_EXTENSION]
        acknowledged = acknowledgement_extension(clinician.fhir_id, _name(clinician), now)
        repo.update("Flag", flag_id, {**flag, "extension": [*extensions, acknowledged]})
        send_to_care_team(patient, {"type": "alert.acknowledged", "flag_id": flag_id,
                                     "patient_id": patient.fhir_id, "by": _name(clinician)})
    return alert
