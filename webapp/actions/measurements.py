"""Measurements a patient reports in chat: found on the message path (microseconds, no model), recorded by a
Celery task as unconfirmed Observations, then checked by the trend rules, which raise Flags and alert the care
team. Recorded whoever answers the conversation: the agent, a clinician who has taken it over, or nobody (the
kill switch)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from agent.measurements.parse import find_measurements
from agent.measurements.record import record_measurements
from agent.models import MeasurementJob
from agent.safety.rules import Level
from agent.safety.trend_rules import TREND_FLAG_SYSTEM, Firing, evaluate, trend_flag
from fhir.access import agent_requester
from fhir.store import Repository
from webapp import clock
from webapp.actions.flags import notify_care_team, respond_within
from webapp.chat.models import Author, Message

log = logging.getLogger(__name__)

RECONCILE_BATCH = 200  # jobs enqueued again per round of the reconciler


def queue_measurements(message: Message) -> bool:
    """If the patient's message reports a reading, record it on a worker once the message is committed; the reply
    never waits for it. Simulated consultations keep their records to themselves (no worker runs for them)."""
    try:
        if message.conversation.simulated or not find_measurements(message.text):
            return False
    except Exception:  # a bug in the parser must not cost the patient their reply
        log.exception("could not look for measurements in message %s", message.id)
        return False
    MeasurementJob.objects.get_or_create(message=message)  # what is still to do, whatever the broker does
    transaction.on_commit(lambda: enqueue_measurements(message.id))
    return True


def enqueue_measurements(message_id: int) -> bool:
    """False if the broker is unreachable: the job stays in the database and the reconciler enqueues it again
    (do_record_measurements is idempotent)."""
    from webapp.celery import app

    MeasurementJob.objects.filter(message_id=message_id).update(enqueued_at=timezone.now(),
                                                                attempts=F("attempts") + 1)
    try:
        app.send_task("agent.tasks.record_measurements", args=[message_id], retry=True,
                      retry_policy={"max_retries": 2, "interval_start": 0.2, "interval_step": 0.5})
    except Exception:
        log.warning("could not enqueue the measurements of message %s", message_id, exc_info=True)
        return False
    return True


def do_reconcile_measurements() -> list[int]:
    """Enqueue again the jobs the queue lost: not done, handed over more than TURN_STALL_SECONDS ago (or never).
    A job handed over MEASUREMENT_MAX_ATTEMPTS times is left for a person (logged): its message is stored
    either way. Returns the message ids enqueued."""
    stale = timezone.now() - timedelta(seconds=settings.TURN_STALL_SECONDS)
    lost = list(MeasurementJob.objects.filter(done_at__isnull=True, attempts__lt=settings.MEASUREMENT_MAX_ATTEMPTS)
                .filter(Q(enqueued_at__lt=stale) | Q(enqueued_at__isnull=True))
                .order_by("id").values_list("message_id", flat=True)[:RECONCILE_BATCH])
    for message_id in lost:
        if not enqueue_measurements(message_id):
            break  # the broker is still away: the next round tries again
    return lost


@dataclass
class Recorded:
    observations: list[dict] = field(default_factory=list)  # every reading of the message, new or found again
    created: int = 0
    flags: list[dict] = field(default_factory=list)  # Flags raised now (not ones raised by an earlier run)


def do_record_measurements(message_id: int) -> Recorded:
    """Record the readings of one patient message through the agent's Repository (audited as the agent, in this
    patient's record only), then run the trend rules on what changed. Idempotent: a retry writes nothing twice."""
    message = (Message.objects.select_related("conversation__patient")
               .filter(id=message_id, author=Author.PATIENT).first())
    if message is None:
        return Recorded()
    patient = message.conversation.patient
    measurements = find_measurements(message.text)
    if not measurements:
        _done(message_id)
        return Recorded()
    if not patient.fhir_id:
        log.error("no FHIR record for patient %s: the readings of message %s are not recorded", patient.pk,
                  message_id)
        _done(message_id)  # no retry can help
        return Recorded()
    repo = Repository(agent_requester(patient.fhir_id), channel="agent")
    with transaction.atomic():
        # One run per message at a time: a retry racing the first waits here, then finds what it wrote.
        Message.objects.select_for_update().filter(id=message_id).values_list("id", flat=True).first()
        written = record_measurements(repo, patient.fhir_id, message_id, message.created_at, measurements)
        _done(message_id)
    result = Recorded([resource for resource, _ in written], sum(created for _, created in written))
    for firing in evaluate(repo, patient.fhir_id, {m.kind for m in measurements}):
        flag = do_raise_trend_flag(message, firing)
        if flag is not None:
            result.flags.append(flag)
    return result


def _done(message_id: int) -> None:
    MeasurementJob.objects.filter(message_id=message_id, done_at__isnull=True).update(done_at=timezone.now())


def do_raise_trend_flag(message: Message, firing: Firing) -> dict | None:
    """Write the rule's Flag (once for the same readings) and alert the care team; None if it was already
    raised."""
    patient = message.conversation.patient
    at = clock.now()
    flag = trend_flag(patient.fhir_id, firing, at, respond_within(Level.URGENT))
    repo = Repository(agent_requester(patient.fhir_id), channel="agent")
    with transaction.atomic():
        result = repo.create(flag, if_none_exist=f"identifier={TREND_FLAG_SYSTEM}|{firing.identifier}")
        if not result.created:
            return None
        written = result.resource
        event = {"type": "alert.trend", "level": str(Level.URGENT), "rule": firing.rule, "reasons": [firing.text],
                 "flag_id": written["id"], "patient_id": patient.fhir_id,
                 "patient": patient.get_full_name() or patient.username, "message_id": message.id,
                 "conversation": str(message.conversation.public_id),
                 "respond_by": flag["extension"][0]["valueDateTime"]}
        notify_care_team(patient, written, event)
    return written
