"""The time that follow-ups, check-ins and alert escalation run on.

Everything that waits for a moment (a check-in due at 09:00 in the patient's time zone, an alert not acknowledged
within 15 minutes) asks ``now()`` rather than the system clock, so tests move time forward instead of sleeping.
In one process a test uses ``set_now``; across processes (a live Celery beat and worker) it writes the instant to the
file named by ``CONTINUUM_CLOCK_FILE``, which only tests set. In production neither is set and this is the system
clock."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

from django.utils import timezone

_override: datetime | None = None


def now() -> datetime:
    if _override is not None:
        return _override
    path = os.environ.get("CONTINUUM_CLOCK_FILE", "")
    if path:
        try:
            text = Path(path).read_text().strip()
        except FileNotFoundError:
            text = ""
        if text:
            instant = datetime.fromisoformat(text)
            if instant.tzinfo is None:
                raise ValueError(f"{path}: the clock needs a time zone, got {text!r}")
            return instant
    return timezone.now()


def set_now(instant: datetime | None) -> None:
    """Pin this process's clock (None: back to the real one). Tests only."""
    if instant is not None and instant.tzinfo is None:
        raise ValueError("the clock needs an aware datetime")
    global _override
    _override = instant
