"""A webhook for paging and SMS gateways: an HTTP POST of a JSON body, signed so the receiver knows it came from
Continuum and was not altered or replayed.

Headers: ``X-Continuum-Timestamp`` (Unix seconds) and ``X-Continuum-Signature: sha256=<hex>``, the HMAC-SHA256,
keyed with ALERT_WEBHOOK_SECRET, of ``<timestamp>.<body>`` (the exact bytes sent). A receiver recomputes it,
compares in constant time, and refuses old timestamps. Any answer but 2xx, a timeout or a refused connection
is a failed attempt."""

from __future__ import annotations

import hashlib
import hmac
import json
import time

import httpx
from django.conf import settings

from webapp.alerts.content import AlertContent
from webapp.alerts.models import Delivery

SIGNATURE_HEADER = "X-Continuum-Signature"
TIMESTAMP_HEADER = "X-Continuum-Timestamp"


def signature(secret: str, timestamp: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def send(delivery: Delivery, content: AlertContent) -> None:
    secret = settings.ALERT_WEBHOOK_SECRET
    if not secret:  # an unsigned page could be forged by anyone who finds the gateway: refuse to send one
        raise RuntimeError("ALERT_WEBHOOK_SECRET is not set: webhook alerts are not sent unsigned")
    body = json.dumps(content.payload, separators=(",", ":"), sort_keys=True).encode()
    timestamp = str(int(time.time()))  # the receiver's replay window is real time, not webapp.clock
    response = httpx.post(delivery.address, content=body, timeout=settings.ALERT_WEBHOOK_TIMEOUT_SECONDS,
                          headers={"Content-Type": "application/json", TIMESTAMP_HEADER: timestamp,
                                   SIGNATURE_HEADER: signature(secret, timestamp, body),
                                   "User-Agent": "Continuum-alerts"})
    if not response.is_success:
        raise RuntimeError(f"webhook answered {response.status_code}")
