"""Accrued interest: from and including the last interest payment date to, but excluding, the
settlement date (spec R6.1). Results are unrounded; callers round once, at the end."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from fractions import Fraction

from corpact.bondmath.daycount import DayCount, day_count_days
from corpact.bondmath.schedule import Period, period_containing, schedule_frame
from corpact.bondmath.terms import PER_1000, NoteTerms
from corpact.errors import InputError, check
from corpact.money import DECIMAL_CONTEXT


def fraction_to_decimal(value: Fraction) -> Decimal:
    return DECIMAL_CONTEXT.divide(Decimal(value.numerator), Decimal(value.denominator))


def periods_between(terms: NoteTerms, start: date, end: date) -> Fraction:
    """Length of [start, end) in coupon periods.

    30/360 family: day-count days over 360/frequency. Actual-day conventions: each quasi-coupon
    period of the regular grid contributes its overlap in actual days over its length in actual
    days (ICMA Rule 251 for odd periods).
    """
    check(start <= end, "periods_between needs start <= end")
    if terms.day_count.is_thirty_360:
        days = day_count_days(terms.day_count, start, end)
        return Fraction(days * terms.frequency, 360)
    grid = schedule_frame(terms).grid
    k = grid.index_on_or_before(start)
    total = Fraction(0)
    low = grid.at(k)
    while low < end:
        high = grid.at(k + 1)
        overlap = (min(end, high) - max(start, low)).days
        total += Fraction(max(overlap, 0), (high - low).days)
        k, low = k + 1, high
    return total


def interest_fraction(terms: NoteTerms, start: date, end: date) -> Fraction:
    """Interest for [start, end) as a fraction of principal (not of a coupon)."""
    rate = Fraction(terms.coupon_rate)
    if terms.day_count in (DayCount.ACT_360, DayCount.ACT_365F):
        return rate * Fraction((end - start).days, terms.day_count.year_days)
    return rate / terms.frequency * periods_between(terms, start, end)


def coupon_fraction(terms: NoteTerms, period: Period) -> Fraction:
    """The coupon paid at the end of `period`: rate / frequency for a regular period."""
    if period.regular:
        return Fraction(terms.coupon_rate) / terms.frequency
    return interest_fraction(terms, period.start, period.end)


def check_settlement(terms: NoteTerms, settlement: date, field: str = "settlement") -> None:
    """Settlement must fall on or after the issue date and before maturity."""
    issue = terms.accretion.issue_date if terms.accretion else terms.issue_date
    if issue is not None and settlement < issue:
        raise InputError.single(
            "settlement-after-issue",
            f"settlement {settlement} is before the issue date {issue}",
            field=field,
        )
    if settlement >= terms.maturity:
        raise InputError.single(
            "settlement-before-maturity",
            f"settlement {settlement} is not before maturity {terms.maturity}",
            field=field,
        )


def accrued_fraction(terms: NoteTerms, settlement: date) -> Fraction:
    period = period_containing(terms, settlement)
    if settlement <= period.start:  # on a coupon date, or before cash interest starts
        return Fraction(0)
    return interest_fraction(terms, period.start, settlement)


def accrued_interest_per_1000(terms: NoteTerms, settlement: date) -> Decimal:
    """Accrued interest per 1,000 principal (PAM for discount notes), unrounded.

    >>> terms = NoteTerms(Decimal("0.09125"), date(2008, 5, 1), issue_date=date(1998, 5, 1))
    >>> accrued_interest_per_1000(terms, date(2004, 12, 2))
    Decimal('7.8576388888888888888888888888888888889')
    """
    check_settlement(terms, settlement)
    return fraction_to_decimal(accrued_fraction(terms, settlement) * 1000)


def accrued_interest(terms: NoteTerms, principal: Decimal | int, settlement: date) -> Decimal:
    """Accrued interest on `principal` (PAM for discount notes), unrounded: round once, later."""
    principal_dec = Decimal(principal)
    if not principal_dec.is_finite() or principal_dec < 0:
        raise InputError.single(
            "principal-non-negative", f"principal {principal} must be >= 0", field="principal"
        )
    check_settlement(terms, settlement)
    return fraction_to_decimal(accrued_fraction(terms, settlement) * Fraction(principal_dec))


__all__ = [
    "PER_1000",
    "accrued_interest",
    "accrued_interest_per_1000",
    "check_settlement",
    "coupon_fraction",
    "interest_fraction",
    "periods_between",
]
