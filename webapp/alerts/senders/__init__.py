"""The alert channels, one module each. A sender takes a delivery and what to say, and raises when the message did
not get through (the worker records it and retries with backoff). Add a channel: a module with ``send`` here, its
name in ContactChannel, and in ALERT_CHANNELS."""

from __future__ import annotations

from collections.abc import Callable

from webapp.alerts.content import AlertContent
from webapp.alerts.models import Delivery
from webapp.alerts.senders import email, webhook

SENDERS: dict[str, Callable[[Delivery, AlertContent], None]] = {"email": email.send, "webhook": webhook.send}
