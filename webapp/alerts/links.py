"""The one-click acknowledgement link in an alert's email: signed, expiring, and still behind the login."""

from __future__ import annotations

from django.conf import settings
from django.core import signing
from django.urls import reverse

from webapp import clock

SALT = "continuum.alerts.acknowledge"


class LinkExpired(Exception):
    """The signature is good but the link is older than ALERT_ACK_LINK_MAX_AGE_SECONDS."""


def acknowledge_url(alert_id: int, recipient_id: int | None) -> str:
    # The issue time is webapp.clock time (not the signer's own timestamp), so tests can age a link.
    token = signing.dumps({"alert": alert_id, "to": recipient_id, "at": clock.now().timestamp()}, salt=SALT)
    return settings.ALERT_LINK_BASE_URL.rstrip("/") + reverse("acknowledge_link", args=[token])


def alert_from_token(token: str) -> int:
    """The alert id a link names; signing.BadSignature when forged or altered, LinkExpired when too old."""
    payload = signing.loads(token, salt=SALT)
    if clock.now().timestamp() - float(payload["at"]) > settings.ALERT_ACK_LINK_MAX_AGE_SECONDS:
        raise LinkExpired(token)
    return int(payload["alert"])
