"""Instants with their zone. Deadlines are stored as aware datetimes in the offer's zone."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from corpact.errors import InputError, check


def zone(name: str, *, field: str | None = None, source: str | None = None) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InputError.single(
            "time-zone", f"unknown IANA time zone {name!r}", field=field, source=source
        ) from None


def parse_instant(
    text: str,
    default_zone: ZoneInfo,
    *,
    field: str | None = None,
    source: str | None = None,
    line: int | None = None,
) -> datetime:
    """ISO 8601 date-time; without an offset it is read in `default_zone`.

    "2004-11-12T17:00" -> 17:00 New York time when the offer's zone is America/New_York.
    """
    raw = text.strip()
    try:
        parsed = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise InputError.single(
            "timestamp-format",
            f"{text!r} is not an ISO 8601 date-time (e.g. 2004-11-12T16:59:00-05:00)",
            field=field,
            source=source,
            line=line,
        ) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=default_zone)
    return fixed_offset(parsed)


def fixed_offset(moment: datetime) -> datetime:
    """The same instant with its UTC offset frozen.

    Instructions are compared with deadlines millions of times; a fixed offset compares without
    a zone-rule lookup, and an instant does not need its zone's future rules.
    """
    offset = moment.utcoffset()
    if offset is None:
        return moment
    return moment.replace(tzinfo=timezone(offset))


def end_of_day(day: date, tz: ZoneInfo) -> datetime:
    """ "12:00 midnight on D" means the end of D, i.e. 00:00 of D + 1 in the same zone."""
    return datetime.combine(day + timedelta(days=1), time(0, 0), tzinfo=tz)


def parse_date(
    text: str, *, field: str | None = None, source: str | None = None, line: int | None = None
) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise InputError.single(
            "date-format",
            f"{text!r} is not an ISO date (YYYY-MM-DD)",
            field=field,
            source=source,
            line=line,
        ) from None


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def to_epoch_us(instant: datetime) -> int:
    """Microseconds since 1970-01-01T00:00Z: how columns (Arrow, DuckDB) hold instants."""
    check(instant.tzinfo is not None, "instants must carry a zone")
    delta = instant - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def from_epoch_us(micros: int) -> datetime:
    return _EPOCH + timedelta(microseconds=micros)
