"""FHIR dates as ranges: '2024-03' means all of March 2024, [low, high) in UTC."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

_DATE = re.compile(
    r"^(?P<y>\d{4})(?:-(?P<m>\d{2})(?:-(?P<d>\d{2})"
    r"(?:T(?P<H>\d{2}):(?P<M>\d{2})(?::(?P<S>\d{2})(?:\.(?P<f>\d+))?)?(?P<tz>Z|[+-]\d{2}:\d{2})?)?)?)?$"
)


def _add_month(moment: datetime) -> datetime:
    if moment.month == 12:
        return moment.replace(year=moment.year + 1, month=1)
    return moment.replace(month=moment.month + 1)


def date_range(text: str) -> tuple[datetime, datetime]:
    """The instant range a FHIR date, dateTime or instant covers. Raises ValueError if malformed.

    Also ValueError where the range runs outside what datetime can hold (0001-01-01T00:00+05:00 is in year 0
    in UTC; 9999-12-31 ends in year 10000): such dates cannot be compared, so they are as good as malformed.
    """
    match = _DATE.match(text.strip())
    if not match:
        raise ValueError(f"not a FHIR date: {text!r}")
    try:
        return _range(match.groupdict())
    except OverflowError:
        raise ValueError(f"FHIR date outside the supported range: {text!r}") from None


def _range(parts: dict[str, str | None]) -> tuple[datetime, datetime]:
    tz = UTC
    if parts["tz"] and parts["tz"] != "Z":
        sign = 1 if parts["tz"][0] == "+" else -1
        hours, minutes = int(parts["tz"][1:3]), int(parts["tz"][4:6])
        tz = timezone(sign * timedelta(hours=hours, minutes=minutes))
    year = int(parts["y"])
    if parts["m"] is None:
        low = datetime(year, 1, 1, tzinfo=tz)
        return low.astimezone(UTC), low.replace(year=year + 1).astimezone(UTC)
    month = int(parts["m"])
    if parts["d"] is None:
        low = datetime(year, month, 1, tzinfo=tz)
        return low.astimezone(UTC), _add_month(low).astimezone(UTC)
    day = int(parts["d"])
    if parts["H"] is None:
        low = datetime(year, month, day, tzinfo=tz)
        return low.astimezone(UTC), (low + timedelta(days=1)).astimezone(UTC)
    low = datetime(year, month, day, int(parts["H"]), int(parts["M"]), int(parts["S"] or 0), tzinfo=tz)
    if parts["S"] is None:
        step = timedelta(minutes=1)
    elif parts["f"] is None:
        step = timedelta(seconds=1)
    else:
        fraction = parts["f"][:6]
        low = low.replace(microsecond=int(fraction.ljust(6, "0")))
        step = timedelta(microseconds=10 ** (6 - len(fraction)))
    return low.astimezone(UTC), (low + step).astimezone(UTC)


# Open ends of a Period: far enough to compare, near enough for every database's datetime type.
EARLIEST = datetime(1, 1, 2, tzinfo=UTC)
LATEST = datetime(9999, 12, 30, tzinfo=UTC)
