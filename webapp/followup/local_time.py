"""When a check-in is due, in the patient's own day: "in 3 days" is three calendar days on the patient's
calendar, at a sensible hour on their clock (never at night), stored as a UTC instant.

Days are counted on the wall clock, not in 24-hour steps, so a check-in every 3 days stays at 09:00 local across a
daylight-saving change; a local time that does not exist (inside a spring-forward gap) moves forward by the gap.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

# A check-in is never sent between these hours on the patient's clock, whatever is asked for.
EARLIEST_HOUR, LATEST_HOUR = 8, 20


def patient_zone(name: str) -> ZoneInfo:
    """The patient's time zone; an unknown or empty name falls back to UTC rather than losing the check-in."""
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def sensible_hour(hour: int) -> int:
    return min(max(hour, EARLIEST_HOUR), LATEST_HOUR)


def at_local(day: date, hour: int, minute: int, zone: ZoneInfo) -> datetime:
    """The UTC instant of a wall-clock time on a local day. zoneinfo reads a time skipped by a DST gap with the
    offset from before the gap, so it lands just after it (02:30 on a spring-forward night is 03:30)."""
    if not EARLIEST_HOUR <= hour < LATEST_HOUR:
        hour, minute = sensible_hour(hour), 0
    return datetime.combine(day, time(hour, minute), tzinfo=zone).astimezone(UTC)


def due_in_days(now: datetime, days: int, zone: ZoneInfo, hour: int) -> datetime:
    """The check-in `days` calendar days from today on the patient's calendar, at `hour` local."""
    today = now.astimezone(zone).date()
    return at_local(today + timedelta(days=days), hour, 0, zone)


def series(first: datetime, every_days: int, count: int, zone: ZoneInfo) -> list[datetime]:
    """`count` check-ins from `first`, `every_days` calendar days apart at the same local wall time."""
    local = first.astimezone(zone)
    step = max(every_days, 1)
    return [at_local(local.date() + timedelta(days=i * step), local.hour, local.minute, zone)
            for i in range(max(count, 1))]


def local_text(instant: datetime, zone: ZoneInfo) -> str:
    """How a due time reads to the patient or their clinician: on the patient's clock, with its zone."""
    return instant.astimezone(zone).strftime("%a %d %b %Y, %H:%M %Z")
