"""Accreted value of discount notes, per 1,000 principal amount at maturity (spec §13).

An indenture lists accreted values on semi-annual accrual dates and interpolates linearly in
30/360 days between them; from the full-accretion date on, the accreted value is the principal
amount at maturity. The table can be copied from the indenture, or generated from the issue
price and the accretion yield compounded on the accrual dates.
"""

from __future__ import annotations

from bisect import bisect_right
from datetime import date
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction

from corpact.bondmath.daycount import days_30_360_us
from corpact.bondmath.schedule import Grid
from corpact.bondmath.terms import PER_1000, AccretionSchedule, NoteTerms
from corpact.errors import InputError, check
from corpact.money import DECIMAL_CONTEXT


class AmountBasis(StrEnum):
    """The measure an offer term (a cap, a price) applies to for discount notes."""

    PAM = "principal_amount_at_maturity"
    ACCRETED_VALUE = "accreted_value"


def accretion_from_table(
    points: list[tuple[date, Decimal]], cash_interest_start: date | None = None
) -> AccretionSchedule:
    """An indenture table; cash interest starts at the full-accretion date unless stated."""
    ordered = tuple(sorted(points))
    check(len(ordered) > 0, "accretion table is empty")
    return AccretionSchedule(ordered, cash_interest_start or ordered[-1][0])


def accretion_from_issue_price(
    issue_date: date,
    issue_price_per_1000: Decimal,
    accretion_yield: Decimal,
    full_accretion_date: date,
    *,
    frequency: int = 2,
    cash_interest_start: date | None = None,
) -> AccretionSchedule:
    """Accreted values compounding `issue_price × (1 + y/f)^periods` on the accrual dates,
    counted back from the full-accretion date (a short first period compounds for its 30/360
    fraction). On the full-accretion date the value is PAM (1,000) by definition."""
    if not issue_date < full_accretion_date:
        raise InputError.single(
            "issue-before-full-accretion",
            f"issue date {issue_date} must be before full accretion {full_accretion_date}",
            field="issue_date",
        )
    grid = Grid(full_accretion_date, 12 // frequency, end_of_month=False)
    k_first = grid.index_on_or_before(issue_date) + 1
    growth = DECIMAL_CONTEXT.add(Decimal(1), DECIMAL_CONTEXT.divide(accretion_yield, frequency))
    stub = Fraction(days_30_360_us(issue_date, grid.at(k_first)) * frequency, 360)
    value = DECIMAL_CONTEXT.multiply(
        issue_price_per_1000,
        DECIMAL_CONTEXT.power(growth, DECIMAL_CONTEXT.divide(stub.numerator, stub.denominator)),
    )
    points: list[tuple[date, Decimal]] = [(issue_date, issue_price_per_1000)]
    for k in range(k_first, 0):
        points.append((grid.at(k), value))
        value = DECIMAL_CONTEXT.multiply(value, growth)
    points.append((full_accretion_date, PER_1000))
    return AccretionSchedule(tuple(points), cash_interest_start or full_accretion_date)


def accreted_value_per_1000(terms: NoteTerms, day: date) -> Decimal:
    """Accreted value per 1,000 PAM on `day`; 1,000 for a note that does not accrete."""
    accretion = terms.accretion
    if accretion is None:
        return PER_1000
    if day < accretion.issue_date:
        raise InputError.single(
            "date-after-issue",
            f"{day} is before the issue date {accretion.issue_date}",
            field="settlement",
        )
    if day >= accretion.full_accretion_date:
        return PER_1000
    dates = [d for d, _ in accretion.points]
    i = bisect_right(dates, day) - 1
    (start, low), (end, high) = accretion.points[i], accretion.points[i + 1]
    share = Fraction(days_30_360_us(start, day), days_30_360_us(start, end))
    step = DECIMAL_CONTEXT.multiply(
        DECIMAL_CONTEXT.subtract(high, low),
        DECIMAL_CONTEXT.divide(share.numerator, share.denominator),
    )
    result = DECIMAL_CONTEXT.add(low, step)
    check(min(low, high) <= result <= max(low, high), "interpolation left its interval")
    return result


def amount_on_basis(
    terms: NoteTerms, principal_at_maturity: Decimal | int, day: date, basis: AmountBasis
) -> Decimal:
    """A principal amount at maturity expressed in the measure an offer term uses."""
    pam = Decimal(principal_at_maturity)
    if basis is AmountBasis.PAM:
        return pam
    value = accreted_value_per_1000(terms, day)
    return DECIMAL_CONTEXT.divide(DECIMAL_CONTEXT.multiply(pam, value), PER_1000)


def price_on_basis(
    terms: NoteTerms,
    principal_at_maturity: Decimal | int,
    price_per_1000: Decimal,
    day: date,
    basis: AmountBasis,
) -> Decimal:
    """Purchase price (unrounded) of `principal_at_maturity` at `price_per_1000` quoted on
    `basis`: per 1,000 PAM, or per 1,000 of accreted value."""
    base = amount_on_basis(terms, principal_at_maturity, day, basis)
    return DECIMAL_CONTEXT.divide(DECIMAL_CONTEXT.multiply(base, price_per_1000), PER_1000)
