"""Coupon schedules counted back from maturity, with odd first and last periods.

Regular dates form a grid: the schedule anchor (maturity, or the penultimate coupon date when
the last period is odd) shifted by whole coupon periods. A coupon period is *regular* when both
ends are consecutive grid dates; the first period (from the issue date) and the last period (to
an off-grid maturity) may be odd, short or long. Payment dates are never business-day adjusted:
accrual and pricing use the scheduled dates, as the bond markets do.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from corpact.bondmath.terms import NoteTerms
from corpact.errors import InputError, check

_MONTH_DAYS = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def month_length(year: int, month: int) -> int:
    if month == 2 and calendar.isleap(year):
        return 29
    return _MONTH_DAYS[month - 1]


@lru_cache(maxsize=1 << 16)
def add_months(day: date, months: int, end_of_month: bool) -> date:
    """`day` moved by whole months; the day of month is clipped to the month's length."""
    year, month = divmod(day.year * 12 + (day.month - 1) + months, 12)
    last = month_length(year, month + 1)
    return date(year, month + 1, last if end_of_month else min(day.day, last))


@dataclass(frozen=True, slots=True)
class Grid:
    """Regular coupon dates `anchor + k periods` for every integer k."""

    anchor: date
    months: int
    end_of_month: bool

    def at(self, k: int) -> date:
        return add_months(self.anchor, k * self.months, self.end_of_month)

    def index_on_or_before(self, day: date) -> int:
        """Largest k with `at(k) <= day`."""
        months_apart = (day.year - self.anchor.year) * 12 + day.month - self.anchor.month
        k = months_apart // self.months
        while self.at(k) > day:
            k -= 1
        while self.at(k + 1) <= day:
            k += 1
        return k


@dataclass(frozen=True, slots=True)
class Period:
    """One coupon period: interest accrues from `start` (included) to `end` (excluded), paid on
    `end`. `regular` is true when `start` and `end` are consecutive grid dates."""

    start: date
    end: date
    regular: bool


@dataclass(frozen=True, slots=True)
class ScheduleFrame:
    """What a schedule needs, computed once per terms: the grid and the first coupon."""

    grid: Grid
    first_coupon_index: int | None  # None: no issue date known, regular as far back as asked
    accrual_start: date | None
    maturity: date

    @property
    def odd_last(self) -> bool:
        return self.grid.anchor != self.maturity


@lru_cache(maxsize=4096)
def schedule_frame(terms: NoteTerms) -> ScheduleFrame:
    grid = Grid(terms.schedule_anchor, terms.months_per_period, terms.is_end_of_month)
    start = terms.interest_start
    if terms.first_coupon_date is not None:
        k_first = grid.index_on_or_before(terms.first_coupon_date)
        if grid.at(k_first) != terms.first_coupon_date:
            raise InputError.single(
                "first-coupon-on-schedule",
                f"first coupon date {terms.first_coupon_date} is not on the regular schedule "
                f"counted back from {grid.anchor} (nearest: {grid.at(k_first)}, "
                f"{grid.at(k_first + 1)})",
                field="first_coupon_date",
            )
    elif start is not None:
        k_first = grid.index_on_or_before(start) + 1
    else:
        return ScheduleFrame(grid, None, None, terms.maturity)
    k_first = min(k_first, 0)
    accrual_start = start if start is not None else grid.at(k_first - 1)
    return ScheduleFrame(grid, k_first, accrual_start, terms.maturity)


def coupon_schedule(terms: NoteTerms) -> list[date]:
    """Every coupon payment date, first coupon to maturity (needs an issue or first coupon date).

    >>> from decimal import Decimal
    >>> terms = NoteTerms(Decimal("0.0435"), date(2026, 5, 1), issue_date=date(2025, 1, 20))
    >>> coupon_schedule(terms)
    [datetime.date(2025, 5, 1), datetime.date(2025, 11, 1), datetime.date(2026, 5, 1)]
    """
    if terms.interest_start is None and terms.first_coupon_date is None:
        raise InputError.single(
            "schedule-start-known",
            "a full schedule needs issue_date or first_coupon_date",
            field="issue_date",
        )
    frame = schedule_frame(terms)
    check(frame.first_coupon_index is not None, "schedule start known")
    dates = [frame.grid.at(k) for k in range(frame.first_coupon_index or 0, 1)]
    if frame.odd_last:
        dates.append(terms.maturity)
    check(dates[-1] == terms.maturity, "schedule must end at maturity")
    return dates


def period_containing(terms: NoteTerms, day: date) -> Period:
    """The coupon period with `start <= day < end`; `day` must be before maturity.

    Before the interest start (a discount note before its cash-pay start) this is the first
    period, and `day` lies before its start.
    """
    check(day < terms.maturity, "no coupon period on or after maturity")
    frame = schedule_frame(terms)
    k_first = frame.first_coupon_index
    if k_first is not None and frame.accrual_start is not None:
        first = frame.grid.at(k_first)
        if day < first:
            regular = frame.accrual_start == frame.grid.at(k_first - 1)
            return Period(frame.accrual_start, first, regular)
    k = frame.grid.index_on_or_before(day)
    if k >= 0:  # after the last grid date: the odd last period to maturity
        return Period(frame.grid.anchor, terms.maturity, frame.grid.at(1) == terms.maturity)
    return Period(frame.grid.at(k), frame.grid.at(k + 1), True)


def last_coupon_on_or_before(terms: NoteTerms, day: date) -> date:
    """The last interest payment date on or before `day` (the interest start before the first
    coupon): the date from which accrued interest runs."""
    period = period_containing(terms, day)
    return period.start


def next_coupon_after(terms: NoteTerms, day: date) -> date:
    return period_containing(terms, day).end


def coupons_between(terms: NoteTerms, after: date, up_to: date) -> int:
    """Number of scheduled coupon dates d with `after < d <= up_to` (R5.3's N)."""
    frame = schedule_frame(terms)
    grid = frame.grid
    last_grid = min(up_to, grid.anchor)
    count = 0
    if last_grid > after:
        k_hi = grid.index_on_or_before(last_grid)
        k_lo = grid.index_on_or_before(after) + 1
        if frame.first_coupon_index is not None:
            k_lo = max(k_lo, frame.first_coupon_index)
        count = max(0, k_hi - k_lo + 1)
    if frame.odd_last and after < terms.maturity <= up_to:
        count += 1
    return count
