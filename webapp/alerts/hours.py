"""The clinic's working hours, seen from the patient's time zone: is anyone there now, and when do they open."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def patient_zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _open_on(day: int) -> bool:
    return DAY_NAMES[day] in settings.CLINIC_DAYS


def clinic_open(at: datetime, zone: ZoneInfo) -> bool:
    local = at.astimezone(zone)
    return _open_on(local.weekday()) and settings.CLINIC_OPENS_HOUR <= local.hour < settings.CLINIC_CLOSES_HOUR


def next_opening(at: datetime, zone: ZoneInfo) -> datetime | None:
    """The next time the clinic opens after ``at``, in the patient's zone (None: it never opens)."""
    local = at.astimezone(zone)
    for days in range(8):
        day = local.date() + timedelta(days=days)
        opening = datetime.combine(day, time(settings.CLINIC_OPENS_HOUR), tzinfo=zone)
        if _open_on(day.weekday()) and opening > local:
            return opening
    return None
