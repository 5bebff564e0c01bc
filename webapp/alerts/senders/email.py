"""Email through Django's mail settings (SMTP in production, files in var/mail embedded, memory in tests)."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import send_mail

from webapp.alerts.content import AlertContent
from webapp.alerts.models import Delivery


def send(delivery: Delivery, content: AlertContent) -> None:
    if send_mail(content.subject, content.text, settings.DEFAULT_FROM_EMAIL, [delivery.address]) != 1:
        raise RuntimeError(f"the mail backend accepted no message for {delivery.address}")
