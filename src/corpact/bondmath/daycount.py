"""Day counts, exact: whole-day counts as integers, fractions as `Decimal` or `Fraction`.

Conventions (the names are the ones used in offer documents):

- ``30/360`` US bond basis with the February rule (SIA; QuantLib ``Thirty360(USA)``): if D1 is
  the last day of February, D1 = 30, and if D2 is also the last day of February, D2 = 30; if
  D2 = 31 and D1 >= 30, D2 = 30; if D1 = 31, D1 = 30.
- ``30E/360`` Eurobond basis: D1 = 31 -> 30 and D2 = 31 -> 30, no February rule.
- ``ACT/ACT-ICMA``: actual days over actual days of the coupon period (ICMA Rule 251).
- ``ACT/360`` and ``ACT/365F``: actual days over 360 or 365.
"""

from __future__ import annotations

import calendar
from datetime import date
from enum import StrEnum

from corpact.errors import InputError


class DayCount(StrEnum):
    THIRTY_360_US = "30/360"
    THIRTY_E_360 = "30E/360"
    ACT_ACT_ICMA = "ACT/ACT-ICMA"
    ACT_360 = "ACT/360"
    ACT_365F = "ACT/365F"

    @property
    def is_thirty_360(self) -> bool:
        return self in (DayCount.THIRTY_360_US, DayCount.THIRTY_E_360)

    @property
    def year_days(self) -> int:
        """Days in the year of the denominator; 0 for ACT/ACT, whose year is its periods."""
        return _YEAR_DAYS[self]


_YEAR_DAYS = {
    DayCount.THIRTY_360_US: 360,
    DayCount.THIRTY_E_360: 360,
    DayCount.ACT_ACT_ICMA: 0,
    DayCount.ACT_360: 360,
    DayCount.ACT_365F: 365,
}

_ALIASES: dict[str, DayCount] = {
    "30/360": DayCount.THIRTY_360_US,
    "30/360US": DayCount.THIRTY_360_US,
    "30U/360": DayCount.THIRTY_360_US,
    "30/360BONDBASIS": DayCount.THIRTY_360_US,
    "30/360SIA": DayCount.THIRTY_360_US,
    "BONDBASIS": DayCount.THIRTY_360_US,
    "30E/360": DayCount.THIRTY_E_360,
    "30/360E": DayCount.THIRTY_E_360,
    "30E/360EUROBOND": DayCount.THIRTY_E_360,
    "EUROBONDBASIS": DayCount.THIRTY_E_360,
    "30/360ICMA": DayCount.THIRTY_E_360,
    "ACT/ACT-ICMA": DayCount.ACT_ACT_ICMA,
    "ACT/ACTICMA": DayCount.ACT_ACT_ICMA,
    "ACT/ACTISMA": DayCount.ACT_ACT_ICMA,
    "ACTUAL/ACTUALICMA": DayCount.ACT_ACT_ICMA,
    "ACTUAL/ACTUALISMA": DayCount.ACT_ACT_ICMA,
    "ACT/ACT": DayCount.ACT_ACT_ICMA,
    "ACTUAL/ACTUAL": DayCount.ACT_ACT_ICMA,
    "ACT/360": DayCount.ACT_360,
    "ACTUAL/360": DayCount.ACT_360,
    "A/360": DayCount.ACT_360,
    "ACT/365F": DayCount.ACT_365F,
    "ACT/365": DayCount.ACT_365F,
    "ACT/365FIXED": DayCount.ACT_365F,
    "ACTUAL/365FIXED": DayCount.ACT_365F,
    "ACTUAL/365": DayCount.ACT_365F,
    "A/365F": DayCount.ACT_365F,
}


def _normalize(name: str) -> str:
    return "".join(ch for ch in name.upper() if ch not in " ()_-.,")


_ALIASES_NORMALIZED = {_normalize(alias): dc for alias, dc in _ALIASES.items()} | {
    _normalize(dc.value): dc for dc in DayCount
}


def parse_day_count(text: str, *, field: str = "day_count", source: str | None = None) -> DayCount:
    """Read a day count name, accepting the spellings common in offer documents.

    >>> parse_day_count("30/360 US"), parse_day_count("Actual/Actual (ICMA)")
    (<DayCount.THIRTY_360_US: '30/360'>, <DayCount.ACT_ACT_ICMA: 'ACT/ACT-ICMA'>)
    """
    found = _ALIASES_NORMALIZED.get(_normalize(text))
    if found is None:
        known = ", ".join(d.value for d in DayCount)
        raise InputError.single(
            "day-count-known",
            f"unknown day count {text!r}; known: {known}",
            field=field,
            source=source,
        )
    return found


def is_last_of_february(d: date) -> bool:
    return d.month == 2 and d.day == calendar.monthrange(d.year, 2)[1]


def days_30_360_us(start: date, end: date) -> int:
    """30/360 US bond basis day count, with the February rule."""
    d1, d2 = start.day, end.day
    if is_last_of_february(start):
        if is_last_of_february(end):
            d2 = 30
        d1 = 30
    if d2 == 31 and d1 >= 30:
        d2 = 30
    d1 = min(d1, 30)
    return 360 * (end.year - start.year) + 30 * (end.month - start.month) + (d2 - d1)


def days_30e_360(start: date, end: date) -> int:
    d1, d2 = min(start.day, 30), min(end.day, 30)
    return 360 * (end.year - start.year) + 30 * (end.month - start.month) + (d2 - d1)


def day_count_days(day_count: DayCount, start: date, end: date) -> int:
    """Days between `start` (included) and `end` (excluded) under `day_count`."""
    if day_count is DayCount.THIRTY_360_US:
        return days_30_360_us(start, end)
    if day_count is DayCount.THIRTY_E_360:
        return days_30e_360(start, end)
    return (end - start).days
