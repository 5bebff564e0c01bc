"""What an alert says, the same for every channel: a subject and text for people, a JSON body for gateways."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings

from webapp.alerts.links import acknowledge_url
from webapp.alerts.models import Alert, Delivery

LEVEL_WORDS = {"emergency": "EMERGENCY", "urgent": "Urgent"}


@dataclass(frozen=True)
class AlertContent:
    subject: str
    text: str
    payload: dict


def alert_content(delivery: Delivery) -> AlertContent:
    alert: Alert = delivery.alert
    url = acknowledge_url(alert.id, delivery.recipient_id)
    details = settings.ALERT_MESSAGE_DETAILS  # off: no patient name or reasons leave the server
    patient = alert.patient.get_full_name() or alert.patient.username
    word = LEVEL_WORDS.get(alert.level, alert.level.capitalize())
    who = f" for {patient}" if details else ""
    escalated = (" (escalated: nobody before you acknowledged it in time)" if delivery.step and delivery.recipient_id
                 else " (nobody on the care team acknowledged it in time)" if delivery.recipient_id is None else "")
    lines = [f"{word} alert{who}{escalated}."]
    if details and alert.summary:
        lines.append(alert.summary)
    lines += ["", f"Acknowledge it (you will be asked to log in): {url}",
              "Or open your patient panel. Until someone acknowledges it, it goes to the next person on the "
              "care team."]
    payload = {"type": "continuum.alert", "alert": alert.id, "flag": f"Flag/{alert.flag_id}", "level": alert.level,
               "step": delivery.step, "created_at": alert.created_at.isoformat(), "acknowledge_url": url,
               "recipient": ({"username": delivery.recipient.username,
                              "name": delivery.recipient.get_full_name() or delivery.recipient.username}
                             if delivery.recipient else None)}
    if details:
        payload |= {"patient": patient, "summary": alert.summary}
    return AlertContent(subject=f"[Continuum] {word} alert{who}", text="\n".join(lines), payload=payload)
