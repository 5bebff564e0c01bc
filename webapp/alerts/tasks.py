"""The alert workers: one delivery attempt per task (retried with backoff), and the escalation sweep (Celery beat,
settings CELERY_BEAT_SCHEDULE "escalate-alerts"). Thin: take ids, delegate to webapp/actions/alerts.py."""

from __future__ import annotations

from celery import shared_task

from webapp.actions.alerts import DeliveryRetry, do_deliver_alert, do_escalate_alerts


@shared_task(bind=True, name="webapp.alerts.tasks.deliver_alert", max_retries=None)
def deliver_alert(self, delivery_id: int) -> str | None:
    try:
        return do_deliver_alert(delivery_id)
    except DeliveryRetry as exc:  # the attempt is recorded; ALERT_DELIVERY_MAX_ATTEMPTS bounds the retries
        raise self.retry(countdown=exc.countdown, exc=exc) from exc


@shared_task(name="webapp.alerts.tasks.escalate_alerts")
def escalate_alerts() -> list[int]:
    return do_escalate_alerts()
