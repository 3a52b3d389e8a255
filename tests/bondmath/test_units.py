"""Day counts, schedules, accreted values and Treasury quotes, with hand-checked numbers."""

from __future__ import annotations

import doctest
import itertools
from datetime import date
from decimal import Decimal

import pytest

import corpact.bondmath.accrued
import corpact.bondmath.daycount
import corpact.bondmath.pricing
import corpact.bondmath.schedule
import corpact.bondmath.solver
import corpact.bondmath.treasury
import corpact.calendars.business_days
from corpact.bondmath import (
    DayCount,
    NoteTerms,
    accrued_interest,
    accrued_interest_per_1000,
    coupon_schedule,
    day_count_days,
    last_coupon_on_or_before,
    parse_day_count,
)
from corpact.bondmath.accretion import (
    AmountBasis,
    accreted_value_per_1000,
    accretion_from_table,
    amount_on_basis,
    price_on_basis,
)
from corpact.bondmath.treasury import parse_treasury_price, treasury_price_from_yield
from corpact.errors import InputError

US, EURO = DayCount.THIRTY_360_US, DayCount.THIRTY_E_360


@pytest.mark.parametrize(
    ("start", "end", "us", "euro"),
    [
        (date(2023, 2, 28), date(2023, 8, 31), 180, 182),  # Feb rule: D1 -> 30, then D2 -> 30
        (date(2023, 8, 31), date(2024, 2, 29), 179, 179),
        (date(2024, 2, 29), date(2025, 2, 28), 360, 359),  # both ends last of February
        (date(2023, 2, 28), date(2024, 2, 28), 358, 360),  # 28 Feb 2024 is not the last day
        (date(2024, 1, 15), date(2024, 3, 31), 76, 75),  # D2 = 31 kept when D1 < 30
        (date(2024, 1, 30), date(2024, 3, 31), 60, 60),
        (date(2004, 11, 1), date(2004, 12, 2), 31, 31),  # Level 3 9 1/8%
    ],
)
def test_thirty_360_day_counts(start: date, end: date, us: int, euro: int) -> None:
    assert day_count_days(US, start, end) == us
    assert day_count_days(EURO, start, end) == euro


@pytest.mark.parametrize(
    ("text", "expected"),
    [("30/360 US", US), ("30/360", US), ("Bond Basis", US), ("30E/360", EURO),
     ("Actual/Actual (ICMA)", DayCount.ACT_ACT_ICMA), ("act/act-isma", DayCount.ACT_ACT_ICMA),
     ("ACT/360", DayCount.ACT_360), ("Actual/365 (Fixed)", DayCount.ACT_365F)],
)  # fmt: skip
def test_day_count_aliases(text: str, expected: DayCount) -> None:
    assert parse_day_count(text) is expected


def test_unknown_day_count_names_field_and_rule() -> None:
    with pytest.raises(InputError) as raised:
        parse_day_count("30/365", field="series[2].day_count")
    problem = raised.value.problems[0]
    assert (problem.rule, problem.field) == ("day-count-known", "series[2].day_count")


def test_month_end_schedule_rolls_to_month_ends() -> None:
    terms = NoteTerms(Decimal("0.04"), date(2027, 2, 28), issue_date=date(2025, 8, 31))
    assert coupon_schedule(terms) == [
        date(2026, 2, 28), date(2026, 8, 31), date(2027, 2, 28),
    ]  # fmt: skip
    not_eom = NoteTerms(
        Decimal("0.04"), date(2027, 2, 28), issue_date=date(2025, 8, 28), end_of_month=False
    )
    assert coupon_schedule(not_eom) == [date(2026, 2, 28), date(2026, 8, 28), date(2027, 2, 28)]


@pytest.mark.parametrize("frequency", [1, 2, 4])
def test_schedule_counts_back_from_maturity_with_an_odd_first_period(frequency: int) -> None:
    terms = NoteTerms(
        Decimal("0.05"), date(2030, 6, 15), frequency=frequency, issue_date=date(2027, 7, 2)
    )
    schedule = coupon_schedule(terms)
    step = 12 // frequency
    assert schedule[-1] == date(2030, 6, 15)
    assert all(d.day == 15 for d in schedule)
    months = [d.year * 12 + d.month for d in schedule]
    assert all(b - a == step for a, b in itertools.pairwise(months))
    assert 0 < (schedule[0] - date(2027, 7, 2)).days <= 31 * step


def test_short_and_long_first_period_accrued_interest() -> None:
    short = NoteTerms(Decimal("0.06"), date(2030, 6, 15), issue_date=date(2025, 10, 1))
    assert last_coupon_on_or_before(short, date(2025, 11, 1)) == date(2025, 10, 1)
    assert accrued_interest_per_1000(short, date(2025, 11, 1)) == Decimal(5)  # 30 days at 6%
    long = NoteTerms(
        Decimal("0.06"), date(2030, 6, 15), issue_date=date(2025, 10, 1),
        first_coupon_date=date(2026, 6, 15), day_count=DayCount.ACT_ACT_ICMA,
    )  # fmt: skip
    # ICMA: 75 of the 183 days of the quasi-period 2025-06-15..2025-12-15, then 47/182.
    got = accrued_interest_per_1000(long, date(2026, 1, 31))
    expected = Decimal(30) * (Decimal(75) / Decimal(183) + Decimal(47) / Decimal(182))
    assert abs(got - expected) < Decimal("1e-30")


def test_accrued_interest_on_a_principal_is_unrounded_and_checks_the_principal() -> None:
    terms = NoteTerms(Decimal("0.11"), date(2008, 3, 15))
    got = accrued_interest(terms, 229_226_000, date(2004, 12, 2))
    assert got.quantize(Decimal("0.01")) == Decimal("5393178.39")  # 229,226,000 x 0.11 x 77/360
    with pytest.raises(InputError):
        accrued_interest(terms, -1, date(2004, 12, 2))


def test_accreted_value_table_interpolates_linearly_in_30_360_days() -> None:
    # Charter 9.920% notes style: indenture values per 1,000 PAM on accrual dates.
    table = accretion_from_table(
        [(date(2003, 4, 1), Decimal("916.73")), (date(2003, 10, 1), Decimal("962.20")),
         (date(2004, 4, 1), Decimal("1000.00"))]
    )  # fmt: skip
    terms = NoteTerms(Decimal("0.0992"), date(2009, 4, 1), accretion=table)
    assert accreted_value_per_1000(terms, date(2003, 4, 1)) == Decimal("916.73")
    quarter = Decimal("916.73") + (Decimal("962.20") - Decimal("916.73")) * Decimal(90) / 180
    assert accreted_value_per_1000(terms, date(2003, 7, 1)) == quarter
    assert accreted_value_per_1000(terms, date(2005, 1, 1)) == Decimal(1000)
    assert accrued_interest_per_1000(terms, date(2004, 1, 5)) == 0  # no cash interest yet
    assert amount_on_basis(terms, 2_000_000, date(2003, 7, 1), AmountBasis.PAM) == 2_000_000
    on_av = amount_on_basis(terms, 2_000_000, date(2003, 7, 1), AmountBasis.ACCRETED_VALUE)
    assert on_av == 2000 * quarter
    price = price_on_basis(terms, 2_000_000, Decimal("850"), date(2003, 7, 1), AmountBasis.PAM)
    assert price == Decimal(1_700_000)
    with pytest.raises(InputError):
        accreted_value_per_1000(terms, date(2003, 3, 31))


@pytest.mark.parametrize(
    ("quote", "value"),
    [("99-16", "99.5"), ("99-16+", "99.515625"), ("99-162", "99.5078125"), ("100-00", "100"),
     ("98.765", "98.765")],
)  # fmt: skip
def test_treasury_quotes(quote: str, value: str) -> None:
    assert parse_treasury_price(quote) == Decimal(value)


@pytest.mark.parametrize("quote", ["99-32", "99-1", "abc", "99-16++", ""])
def test_bad_treasury_quotes(quote: str) -> None:
    with pytest.raises(InputError):
        parse_treasury_price(quote)


def test_treasury_final_period_uses_simple_interest() -> None:
    # 4.625% due 2026-11-15, settled 2026-07-01: r = 137 of s = 184 days; P + A = 102.3125/(1+..)
    got = treasury_price_from_yield(
        Decimal("0.04625"), date(2026, 11, 15), date(2026, 7, 1), Decimal("0.04")
    )
    growth = 1 + Decimal(137) / Decimal(184) * Decimal("0.02")
    expected = Decimal("102.3125") / growth - Decimal("2.3125") * Decimal(47) / Decimal(184)
    assert abs(got - expected) < Decimal("1e-30")


@pytest.mark.parametrize(
    "module",
    [corpact.bondmath.accrued, corpact.bondmath.daycount, corpact.bondmath.pricing,
     corpact.bondmath.schedule, corpact.bondmath.solver, corpact.bondmath.treasury,
     corpact.calendars.business_days],
)  # fmt: skip
def test_docstring_examples(module: object) -> None:
    failed, attempted = doctest.testmod(module)  # type: ignore[arg-type]
    assert failed == 0
    assert attempted > 0
