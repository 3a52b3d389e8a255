"""Business days, T+n settlement and the local date of an instant, per calendar id."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

import holidays

from corpact.errors import InputError, check

# canonical id -> (holidays market code, time zone of the market's deadlines)
_MARKETS: dict[str, tuple[str, str]] = {
    "US-SIFMA": ("USGS", "America/New_York"),
    "TARGET": ("TAR", "Europe/Berlin"),
}
_ALIASES = {"USGS": "US-SIFMA", "SIFMA": "US-SIFMA", "TAR": "TARGET", "TARGET2": "TARGET"}
CALENDAR_IDS: tuple[str, ...] = tuple(_MARKETS)
_MAX_STEPS = 3660  # ten years of days: no real calendar is closed that long


def canonical_calendar_id(calendar_id: str, *, field: str = "calendar") -> str:
    """`US-SIFMA` or `TARGET` for any accepted spelling; InputError for an unknown id."""
    key = calendar_id.strip().upper()
    key = _ALIASES.get(key, key)
    if key not in _MARKETS:
        known = ", ".join(list(_MARKETS) + list(_ALIASES))
        raise InputError.single(
            "calendar-known", f"unknown calendar {calendar_id!r}; known: {known}", field=field
        )
    return key


@lru_cache(maxsize=8)
def _closures(canonical_id: str) -> Any:
    return holidays.financial_holidays(_MARKETS[canonical_id][0])


@lru_cache(maxsize=65536)
def _is_open(canonical_id: str, day: date) -> bool:
    return day.weekday() < 5 and day not in _closures(canonical_id)


def is_business_day(day: date, calendar_id: str) -> bool:
    return _is_open(canonical_calendar_id(calendar_id), day)


def holiday_name(day: date, calendar_id: str) -> str | None:
    """Why the market is closed on `day` (None on weekends without a holiday and open days)."""
    name = _closures(canonical_calendar_id(calendar_id)).get(day)
    return None if name is None else str(name)


def add_business_days(day: date, count: int, calendar_id: str) -> date:
    """`count` business days after `day` (before it when negative); `day` itself need not be
    a business day. With `count` = 0, `day` rolled forward to a business day."""
    canonical = canonical_calendar_id(calendar_id)
    step = timedelta(days=1 if count >= 0 else -1)
    current, remaining, steps = day, abs(count), 0
    if count == 0:
        while not _is_open(canonical, current):
            current, steps = current + step, steps + 1
            check(steps < _MAX_STEPS, f"{calendar_id} has no business day near {day}")
        return current
    while remaining:
        current, steps = current + step, steps + 1
        check(steps < _MAX_STEPS * remaining, f"{calendar_id} has no business day near {day}")
        if _is_open(canonical, current):
            remaining -= 1
    return current


def settlement_date(trade_date: date, business_days: int, calendar_id: str) -> date:
    """Settlement for a trade on `trade_date` at T+`business_days` on the calendar.

    >>> settlement_date(date(2019, 8, 6), 3, "US-SIFMA")   # Kellogg early settlement
    datetime.date(2019, 8, 9)
    >>> settlement_date(date(2004, 10, 8), 1, "USGS")      # Columbus Day is closed
    datetime.date(2004, 10, 12)
    """
    if business_days < 0:
        raise InputError.single(
            "settlement-days-non-negative",
            f"settlement lag {business_days} must be >= 0 business days",
            field="business_days",
        )
    return add_business_days(trade_date, business_days, calendar_id)


def calendar_time_zone(calendar_id: str) -> ZoneInfo:
    """The zone in which the market's days begin and end (New York; Berlin time for TARGET)."""
    return ZoneInfo(_MARKETS[canonical_calendar_id(calendar_id)][1])


def local_business_date(instant: datetime, calendar_id: str) -> date:
    """The calendar date of an aware `instant` in the market's own zone (e.g. the trade date
    of a pricing time given in UTC)."""
    if instant.tzinfo is None:
        raise InputError.single(
            "instant-has-zone", f"{instant.isoformat()} has no time zone", field="instant"
        )
    return instant.astimezone(calendar_time_zone(calendar_id)).date()
