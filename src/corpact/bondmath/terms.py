"""The terms of one note series that pricing and accrued interest depend on."""

from __future__ import annotations

import calendar
import itertools
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from corpact.bondmath.daycount import DayCount
from corpact.errors import InputError, Problem

PER_1000 = Decimal(1000)
FREQUENCIES = (1, 2, 4, 12)


@dataclass(frozen=True, slots=True)
class AccretionSchedule:
    """Accreted value per 1,000 principal amount at maturity (PAM) of a discount note.

    `points` are (accrual date, accreted value per 1,000 PAM) in increasing date order, as in an
    indenture table; between two points the value moves linearly in 30/360 days. The last point
    is the full-accretion date, from which the accreted value equals PAM. Cash interest accrues
    from `cash_interest_start` (the cash-pay start date) and never before it.
    """

    points: tuple[tuple[date, Decimal], ...]
    cash_interest_start: date

    @property
    def issue_date(self) -> date:
        return self.points[0][0]

    @property
    def full_accretion_date(self) -> date:
        return self.points[-1][0]


@dataclass(frozen=True, slots=True)
class NoteTerms:
    """One note series. Rates are fractions (`Decimal("0.0435")` for 4.350%).

    - `issue_date`: the dated date, from which interest first accrues. Without it the first
      period is taken as regular and the schedule starts one period before the first coupon.
    - `first_coupon_date` must lie on the regular schedule (counted back from maturity, or from
      `penultimate_coupon_date` when the last period is odd).
    - `end_of_month`: coupons on the last day of the month; `None` means "if the schedule anchor
      (maturity or penultimate coupon date) is a month end".
    - `par_call_date` / `call_price`: the call used by price-to-call (par call: 1,000).
    - `accretion`: discount notes only; cash interest then starts at its cash-pay start date.
    """

    coupon_rate: Decimal
    maturity: date
    frequency: int = 2
    day_count: DayCount = DayCount.THIRTY_360_US
    issue_date: date | None = None
    first_coupon_date: date | None = None
    penultimate_coupon_date: date | None = None
    end_of_month: bool | None = None
    par_call_date: date | None = None
    call_price: Decimal = field(default=PER_1000)
    accretion: AccretionSchedule | None = None

    def __post_init__(self) -> None:
        problems = _problems(self)
        if problems:
            raise InputError(problems)

    @property
    def schedule_anchor(self) -> date:
        return self.penultimate_coupon_date or self.maturity

    @property
    def months_per_period(self) -> int:
        return 12 // self.frequency

    @property
    def is_end_of_month(self) -> bool:
        if self.end_of_month is not None:
            return self.end_of_month
        anchor = self.schedule_anchor
        return anchor.day == calendar.monthrange(anchor.year, anchor.month)[1]

    @property
    def interest_start(self) -> date | None:
        """First day of cash interest: the cash-pay start for discount notes, else the issue."""
        if self.accretion is not None:
            return self.accretion.cash_interest_start
        return self.issue_date


# A coupon schedule reaches one period past maturity, and Python's dates end with 9999.
LAST_MATURITY = date(9998, 12, 31)


def _problems(terms: NoteTerms) -> list[Problem]:
    found: list[Problem] = []

    def bad(field_name: str, rule: str, message: str) -> None:
        found.append(Problem(rule=rule, message=message, field=field_name))

    if not isinstance(terms.coupon_rate, Decimal) or not terms.coupon_rate.is_finite():
        bad("coupon_rate", "coupon-decimal", "coupon rate must be a finite Decimal fraction")
    elif not Decimal(0) <= terms.coupon_rate < Decimal(1):
        bad("coupon_rate", "coupon-range", f"coupon rate {terms.coupon_rate} not in [0, 1)")
    if terms.frequency not in FREQUENCIES:
        bad("frequency", "frequency-known", f"frequency {terms.frequency} not in {FREQUENCIES}")
    if not isinstance(terms.day_count, DayCount):
        bad("day_count", "day-count-known", f"unknown day count {terms.day_count!r}")
    if terms.maturity > LAST_MATURITY:
        bad("maturity", "maturity-range", f"maturity {terms.maturity} is after {LAST_MATURITY}")
    start = terms.interest_start
    if start is not None and start >= terms.maturity:
        bad("issue_date", "issue-before-maturity", f"interest starts {start}, not before maturity")
    for name in ("first_coupon_date", "penultimate_coupon_date", "par_call_date"):
        value: date | None = getattr(terms, name)
        if value is None:
            continue
        if value > terms.maturity or (
            name == "penultimate_coupon_date" and value == terms.maturity
        ):
            bad(name, "before-maturity", f"{name} {value} is after maturity {terms.maturity}")
        if start is not None and value <= start:
            bad(name, "after-issue", f"{name} {value} is not after interest start {start}")
    if not terms.call_price.is_finite() or terms.call_price <= 0:
        bad("call_price", "call-price-positive", "call price per 1,000 must be positive")
    if terms.accretion is not None:
        found.extend(_accretion_problems(terms.accretion, terms.maturity))
    return found


def _accretion_problems(accretion: AccretionSchedule, maturity: date) -> list[Problem]:
    found: list[Problem] = []
    dates = [d for d, _ in accretion.points]
    values = [v for _, v in accretion.points]
    if len(dates) < 2 or any(a >= b for a, b in itertools.pairwise(dates)):
        found.append(
            Problem(
                "accretion-dates-increasing",
                "accretion table needs at least two strictly increasing dates",
                field="accretion.points",
            )
        )
    if any(v <= 0 or v > PER_1000 for v in values):
        found.append(
            Problem(
                "accretion-value-range",
                "accreted values per 1,000 PAM must lie in (0, 1000]",
                field="accretion.points",
            )
        )
    if dates and dates[-1] > maturity:
        found.append(
            Problem(
                "accretion-before-maturity",
                f"full-accretion date {dates[-1]} is after maturity {maturity}",
                field="accretion.points",
            )
        )
    return found
