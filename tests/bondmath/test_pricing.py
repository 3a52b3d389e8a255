"""Pricing rules that the golden cases do not reach: par call binding, call stubs, the
high-yield call variant, EUR annual ACT/ACT pricing, and the errors a user can make."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from corpact.bondmath import (
    DayCount,
    NoteTerms,
    PriceTo,
    PricingConvention,
    coupon_schedule,
    day_count_days,
    price_fixed_spread,
    price_from_yield,
)
from corpact.bondmath.solver import yield_from_price
from corpact.errors import InputError
from corpact.money import DECIMAL_CONTEXT

SETTLEMENT = date(2025, 7, 23)


def reference_clean_price(
    flows: list[tuple[date, Decimal]], settlement: date, y: Decimal, accrued: Decimal
) -> Decimal:
    """Spec R5.3's equivalent form: each flow discounted by v^(d30(settlement, date)/180)."""
    v = 1 + y / 2
    total = Decimal(0)
    for pay_date, amount in flows:
        exponent = Decimal(day_count_days(DayCount.THIRTY_360_US, settlement, pay_date)) / 180
        total += amount / DECIMAL_CONTEXT.power(v, exponent)
    return total - accrued


def test_par_call_off_the_coupon_cycle_binds_when_the_note_trades_above_par() -> None:
    # Rogers 2.900% due 2026-11-15, par call 2026-08-15 (not a coupon date), at 2.000%.
    terms = NoteTerms(Decimal("0.029"), date(2026, 11, 15), par_call_date=date(2026, 8, 15))
    result = price_fixed_spread(terms, SETTLEMENT, Decimal("0.0150"), 50)
    accrued = Decimal(1000) * Decimal("0.029") * 68 / 360
    to_call = reference_clean_price(
        [
            (date(2025, 11, 15), Decimal("14.50")),
            (date(2026, 5, 15), Decimal("14.50")),
            (date(2026, 8, 15), Decimal("7.25") + 1000),  # 90 days of stub coupon, R5.4
        ],
        SETTLEMENT,
        Decimal("0.02"),
        accrued,
    )
    assert result.binding == "par_call"
    assert result.binding_end_date == date(2026, 8, 15)
    assert result.to_call is not None
    assert abs(result.to_call.clean_price_per_1000 - to_call) < Decimal("1e-25")
    assert result.to_call.coupons_left == 3
    assert result.price_unrounded < result.to_maturity.clean_price_per_1000
    assert result.total_consideration == to_call.quantize(Decimal("0.01"))


def test_call_date_before_the_next_coupon_pays_the_stub_with_the_principal() -> None:
    terms = NoteTerms(Decimal("0.06"), date(2030, 11, 15), par_call_date=date(2025, 9, 1))
    result = price_fixed_spread(terms, SETTLEMENT, Decimal("0.03"), 0)
    to_call = reference_clean_price(
        [(date(2025, 9, 1), Decimal(1000) * Decimal("0.06") * 106 / 360 + 1000)],
        SETTLEMENT,
        Decimal("0.03"),
        Decimal(1000) * Decimal("0.06") * 68 / 360,
    )
    assert result.binding == "par_call"
    assert result.to_call is not None
    assert abs(result.to_call.clean_price_per_1000 - to_call) < Decimal("1e-25")


def test_high_yield_variant_prices_to_the_first_call_at_the_call_price() -> None:
    terms = NoteTerms(
        Decimal("0.0875"),
        date(2030, 5, 15),
        par_call_date=date(2027, 5, 15),
        call_price=Decimal("1043.75"),
    )
    result = price_fixed_spread(terms, SETTLEMENT, Decimal("0.0400"), 50, price_to=PriceTo.CALL)
    flows = [(d, Decimal("43.75")) for d in coupon_schedule_until(terms, date(2027, 5, 15))]
    flows[-1] = (flows[-1][0], flows[-1][1] + Decimal("1043.75"))
    expected = reference_clean_price(
        flows, SETTLEMENT, Decimal("0.045"), Decimal(1000) * Decimal("0.0875") * 68 / 360
    )
    assert result.binding == "call"
    assert abs(result.price_unrounded - expected) < Decimal("1e-25")


def coupon_schedule_until(terms: NoteTerms, end: date) -> list[date]:
    with_issue = NoteTerms(terms.coupon_rate, terms.maturity, issue_date=date(2020, 5, 15))
    return [d for d in coupon_schedule(with_issue) if SETTLEMENT < d <= end]


def test_early_tender_payment_is_subtracted_from_the_total_consideration() -> None:
    terms = NoteTerms(Decimal("0.0435"), date(2049, 5, 1))
    result = price_fixed_spread(terms, SETTLEMENT, Decimal("0.04996"), 80, early_tender_payment=50)
    assert str(result.total_consideration) == "814.59"
    assert str(result.tender_offer_consideration) == "764.59"
    with pytest.raises(InputError) as raised:
        price_fixed_spread(terms, SETTLEMENT, Decimal("0.04996"), 80, early_tender_payment=-1)
    assert raised.value.problems[0].field == "early_tender_payment"


def test_eur_annual_act_act_over_mid_swap_matches_the_spec_formula() -> None:
    # Spec R5.5: Y = mid-swap + spread; w = (E - a)/E; P = Σ C/(1+Y)^(k-1+w) + F/(1+Y)^(N-1+w).
    terms = NoteTerms(
        Decimal("0.01875"), date(2031, 3, 15), frequency=1, day_count=DayCount.ACT_ACT_ICMA
    )
    result = price_fixed_spread(
        terms,
        SETTLEMENT,
        Decimal("0.02312"),
        -15,
        PricingConvention.EUR_ANNUAL_ACT_ACT_ICMA,
    )
    y = Decimal("0.02162")
    a, e = (SETTLEMENT - date(2025, 3, 15)).days, (date(2026, 3, 15) - date(2025, 3, 15)).days
    w = Decimal(e - a) / e
    coupon, n = Decimal("18.75"), 6
    dirty = sum(
        (coupon / DECIMAL_CONTEXT.power(1 + y, k - 1 + w) for k in range(1, n + 1)), Decimal(0)
    ) + Decimal(1000) / DECIMAL_CONTEXT.power(1 + y, n - 1 + w)
    expected = dirty - coupon * a / e
    assert abs(result.price_unrounded - expected) < Decimal("1e-25")
    assert result.total_consideration == expected.quantize(Decimal("0.01"))


def test_convention_must_match_the_note_terms() -> None:
    terms = NoteTerms(
        Decimal("0.02"), date(2031, 3, 15), frequency=1, day_count=DayCount.ACT_ACT_ICMA
    )
    with pytest.raises(InputError) as raised:
        price_fixed_spread(terms, SETTLEMENT, Decimal("0.03"), 10, PricingConvention.US_SEMI_30_360)
    assert raised.value.problems[0].rule == "convention-matches-terms"


@pytest.mark.parametrize(
    ("settlement", "rule"),
    [
        (date(2019, 4, 30), "settlement-after-issue"),
        (date(2049, 5, 1), "settlement-before-maturity"),
        (date(2050, 1, 1), "settlement-before-maturity"),
    ],
)
def test_settlement_outside_the_life_of_the_note_is_rejected(settlement: date, rule: str) -> None:
    terms = NoteTerms(Decimal("0.0435"), date(2049, 5, 1), issue_date=date(2019, 5, 1))
    with pytest.raises(InputError) as raised:
        price_fixed_spread(terms, settlement, Decimal("0.05"), 80)
    assert (raised.value.problems[0].rule, raised.value.problems[0].field) == (rule, "settlement")


def test_first_coupon_off_the_schedule_is_rejected() -> None:
    terms = NoteTerms(
        Decimal("0.0435"), date(2049, 5, 1), issue_date=date(2019, 4, 1),
        first_coupon_date=date(2019, 10, 15),
    )  # fmt: skip
    with pytest.raises(InputError) as raised:
        coupon_schedule(terms)
    problem = raised.value.problems[0]
    assert (problem.rule, problem.field) == ("first-coupon-on-schedule", "first_coupon_date")
    assert "2019-11-01" in problem.message


@pytest.mark.parametrize("price", [Decimal("1e12"), Decimal("0.0001")])
def test_a_yield_the_solver_cannot_reach_is_rejected(price: Decimal) -> None:
    terms = NoteTerms(Decimal("0.05"), date(2026, 7, 1))
    with pytest.raises(InputError) as raised:
        yield_from_price(terms, SETTLEMENT, price)
    assert (raised.value.problems[0].rule, raised.value.problems[0].field) == (
        "yield-reachable",
        "price",
    )


def test_a_price_that_no_yield_moves_implies_no_yield() -> None:
    # 30/360 US from the 23rd: January 31 and February 1 are the same day, so on January 31
    # nothing is left to discount before the last payment.
    terms = NoteTerms(
        Decimal(0), date(2000, 2, 1), frequency=1, day_count=DayCount.THIRTY_360_US,
        issue_date=date(1999, 12, 23),
    )  # fmt: skip
    assert price_from_yield(terms, date(2000, 1, 31), Decimal(0)).clean_price_per_1000 == 1000
    with pytest.raises(InputError) as raised:
        yield_from_price(terms, date(2000, 1, 31), Decimal(1000))
    assert raised.value.problems[0].rule == "yield-implied"


def test_bad_terms_report_every_problem_at_once() -> None:
    with pytest.raises(InputError) as raised:
        NoteTerms(Decimal("1.5"), date(2030, 1, 1), frequency=3, issue_date=date(2031, 1, 1))
    fields = {p.field for p in raised.value.problems}
    assert fields == {"coupon_rate", "frequency", "issue_date"}


def test_odd_last_period_after_the_penultimate_coupon() -> None:
    terms = NoteTerms(
        Decimal("0.06"), date(2027, 8, 20), issue_date=date(2024, 5, 1),
        penultimate_coupon_date=date(2027, 5, 1),
    )  # fmt: skip
    assert coupon_schedule(terms)[-3:] == [date(2026, 11, 1), date(2027, 5, 1), date(2027, 8, 20)]
    price = price_from_yield(terms, SETTLEMENT, Decimal("0.05")).clean_price_per_1000
    flows = [(d, Decimal(30)) for d in coupon_schedule(terms)[:-1] if d > SETTLEMENT]
    stub = Decimal(1000) * Decimal("0.06") * 109 / 360  # 1 May -> 20 Aug
    flows.append((date(2027, 8, 20), stub + 1000))
    accrued = Decimal(1000) * Decimal("0.06") * 82 / 360
    assert abs(
        price - reference_clean_price(flows, SETTLEMENT, Decimal("0.05"), accrued)
    ) < Decimal("1e-25")


@given(st.decimals(min_value="0.0001", max_value="0.2", places=5))
def test_price_falls_as_the_spread_widens(reference_yield: Decimal) -> None:
    terms = NoteTerms(Decimal("0.05"), date(2044, 3, 15), par_call_date=date(2043, 9, 15))
    tight = price_fixed_spread(terms, SETTLEMENT, reference_yield, 50)
    wide = price_fixed_spread(terms, SETTLEMENT, reference_yield, 51)
    assert wide.price_unrounded < tight.price_unrounded
    assert wide.total_consideration <= tight.total_consideration


def test_discount_note_before_its_cash_pay_start_has_no_accrued_interest() -> None:
    # Level 3-style 10 1/2% discount notes, priced in 2002 before cash interest starts.
    from corpact.bondmath.accretion import accretion_from_issue_price

    accretion = accretion_from_issue_price(
        date(1998, 12, 2), Decimal("599.66"), Decimal("0.105"), date(2003, 12, 1)
    )
    terms = NoteTerms(
        Decimal("0.105"), date(2008, 12, 1), first_coupon_date=date(2004, 6, 1),
        accretion=accretion,
    )  # fmt: skip
    settlement = date(2002, 3, 15)
    result = price_from_yield(terms, settlement, Decimal("0.09"))
    assert result.accrued_interest_per_1000 == 0
    flows = [(d, Decimal("52.5")) for d in coupon_schedule(terms)]
    flows[-1] = (flows[-1][0], flows[-1][1] + 1000)
    assert flows[0] == (date(2004, 6, 1), Decimal("52.5"))  # a full period from 2003-12-01
    expected = reference_clean_price(flows, settlement, Decimal("0.09"), Decimal(0))
    assert abs(result.clean_price_per_1000 - expected) < Decimal("1e-25")
