"""Price from yield, and fixed-spread tender pricing (spec §5), exact in `Decimal`.

Street convention, compounding at the coupon frequency f, with v = 1 + y/f:

    dirty = Σ CF_k · v^(−t_k)        t_k = time from settlement to flow k in coupon periods
    t_1   = L − A                    L = length of the current period in periods (1 if regular),
                                     A = accrued part of it (30/360: days/(360/f); ACT: actual
                                     days over the actual days of each quasi-coupon period)
    t_k   = t_1 + (k − 1)            for the regular coupons that follow, and a stub length for
                                     an odd last period or an off-cycle call date (R5.4)
    clean = dirty − accrued interest

The regular coupons form a geometric series, so each price needs one integer power and at most
two fractional powers, whatever the number of coupons left.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction

from corpact.bondmath.accrued import (
    accrued_fraction,
    check_settlement,
    coupon_fraction,
    fraction_to_decimal,
    interest_fraction,
    periods_between,
)
from corpact.bondmath.daycount import DayCount
from corpact.bondmath.schedule import coupons_between, period_containing, schedule_frame
from corpact.bondmath.terms import PER_1000, NoteTerms
from corpact.errors import InputError, check
from corpact.money import DECIMAL_CONTEXT, round_half_up_to_cent

BASIS_POINT = Decimal("0.0001")
ONE = Decimal(1)


class PricingConvention(StrEnum):
    """Yield compounding and day count of the pricing formula (spec R5.3, R5.5)."""

    US_SEMI_30_360 = "US_SEMI_30_360"
    EUR_ANNUAL_ACT_ACT_ICMA = "EUR_ANNUAL_ACT_ACT_ICMA"
    NOTE_TERMS = "NOTE_TERMS"  # compound at the note's own frequency and day count


_CONVENTION_TERMS = {
    PricingConvention.US_SEMI_30_360: (2, DayCount.THIRTY_360_US),
    PricingConvention.EUR_ANNUAL_ACT_ACT_ICMA: (1, DayCount.ACT_ACT_ICMA),
}


class PriceTo(StrEnum):
    """Which redemption a fixed-spread price assumes."""

    WORST = "worst"  # lower of the prices to maturity and to the par call date (R5.4)
    MATURITY = "maturity"
    CALL = "call"  # high-yield variant: to the first call date at the call price (R5.7)


@dataclass(frozen=True, slots=True)
class PriceBreakdown:
    """A price per 1,000 principal, unrounded, to one redemption date."""

    end_date: date
    redemption_per_1000: Decimal
    dirty_price_per_1000: Decimal
    accrued_interest_per_1000: Decimal
    clean_price_per_1000: Decimal
    coupons_left: int


@dataclass(frozen=True, slots=True)
class FixedSpreadPrice:
    """Tender prices per 1,000 principal. Rounded fields are half-up to the cent."""

    yield_rate: Decimal
    total_consideration: Decimal
    tender_offer_consideration: Decimal
    early_tender_payment: Decimal
    accrued_interest: Decimal
    accrued_interest_unrounded: Decimal
    price_unrounded: Decimal
    binding_end_date: date
    binding: str  # "maturity", "par_call" or "call"
    to_maturity: PriceBreakdown
    to_call: PriceBreakdown | None


def _dec(value: Fraction) -> Decimal:
    return fraction_to_decimal(value)


def _discount(v: Decimal, periods: Fraction) -> Decimal:
    """v^(−periods), one correctly rounded `exp` and `ln` at 38 digits."""
    if periods == 0:
        return ONE
    if periods.denominator == 1:
        return DECIMAL_CONTEXT.power(v, -int(periods))
    ctx = DECIMAL_CONTEXT
    return ctx.exp(ctx.minus(ctx.multiply(_dec(periods), ctx.ln(v))))


def _flows_value(
    terms: NoteTerms, settlement: date, y: Decimal, end: date, redemption: Decimal
) -> tuple[Decimal, int]:
    """Dirty price per 1 of principal of the flows after `settlement` up to `end`."""
    ctx = DECIMAL_CONTEXT
    f = terms.frequency
    y_per = ctx.divide(y, Decimal(f))
    v = ctx.add(ONE, y_per)
    check(v > 0, "yield below −frequency has no price")
    period = period_containing(terms, settlement)
    first_end = min(period.end, end)
    if first_end == period.end:
        first_amount = coupon_fraction(terms, period)
        length = Fraction(1) if period.regular else periods_between(terms, period.start, first_end)
    else:  # a call date before the next coupon: stub coupon on the call date
        first_amount = interest_fraction(terms, period.start, first_end)
        length = periods_between(terms, period.start, first_end)
    if settlement >= period.start:
        t_first = length - periods_between(terms, period.start, settlement)
    else:  # a discount note before its cash-pay start
        t_first = periods_between(terms, settlement, first_end)
    total = _dec(first_amount)
    coupons = 1
    if first_end == end:
        total = ctx.add(total, redemption)
    else:
        total, added = _later_flows(terms, y_per, v, first_end, end, redemption, total)
        coupons += added
    return ctx.multiply(total, _discount(v, t_first)), coupons


def _later_flows(
    terms: NoteTerms,
    y_per: Decimal,
    v: Decimal,
    first_end: date,
    end: date,
    redemption: Decimal,
    total: Decimal,
) -> tuple[Decimal, int]:
    """Add, discounted to the first flow, the regular coupons after it and the last flow."""
    ctx = DECIMAL_CONTEXT
    frame = schedule_frame(terms)
    grid = frame.grid
    # `first_end` is a grid date (a coupon before `end`); count the grid coupons after it.
    regular_end = min(end, grid.anchor)
    k_count = coupons_between(terms, first_end, regular_end) if regular_end > first_end else 0
    last_regular = grid.at(grid.index_on_or_before(first_end) + k_count)
    coupon = _dec(Fraction(terms.coupon_rate) / terms.frequency)
    a_k = DECIMAL_CONTEXT.power(ctx.divide(ONE, v), k_count) if k_count else ONE
    annuity = Decimal(k_count) if y_per == 0 else ctx.divide(ctx.subtract(ONE, a_k), y_per)
    total = ctx.add(total, ctx.multiply(coupon, annuity))
    if last_regular == end:
        return ctx.add(total, ctx.multiply(redemption, a_k)), k_count
    stub = interest_fraction(terms, last_regular, end)
    stub_length = periods_between(terms, last_regular, end)
    if end == terms.maturity and frame.odd_last and grid.at(1) == end:
        stub, stub_length = Fraction(terms.coupon_rate) / terms.frequency, Fraction(1)
    last = ctx.multiply(ctx.add(_dec(stub), redemption), _discount(v, stub_length))
    return ctx.add(total, ctx.multiply(last, a_k)), k_count + 1


def price_from_yield(
    terms: NoteTerms,
    settlement: date,
    yield_rate: Decimal,
    *,
    end: date | None = None,
    redemption_per_1000: Decimal = PER_1000,
) -> PriceBreakdown:
    """Price per 1,000 principal at `yield_rate` (a fraction), to `end` (default maturity)."""
    check_settlement(terms, settlement)
    end_date = terms.maturity if end is None else end
    if not settlement < end_date <= terms.maturity:
        raise InputError.single(
            "end-after-settlement",
            f"redemption date {end_date} must be after settlement {settlement} and no later "
            f"than maturity {terms.maturity}",
            field="end",
        )
    if yield_rate <= -terms.frequency:
        raise InputError.single(
            "yield-range", f"yield {yield_rate} is at or below −{terms.frequency}", field="yield"
        )
    redemption = DECIMAL_CONTEXT.divide(redemption_per_1000, PER_1000)
    dirty, coupons = _flows_value(terms, settlement, yield_rate, end_date, redemption)
    dirty_1000 = DECIMAL_CONTEXT.multiply(dirty, PER_1000)
    accrued = _dec(accrued_fraction(terms, settlement) * 1000)
    clean = DECIMAL_CONTEXT.subtract(dirty_1000, accrued)
    return PriceBreakdown(end_date, redemption_per_1000, dirty_1000, accrued, clean, coupons)


def check_convention(terms: NoteTerms, convention: PricingConvention) -> None:
    expected = _CONVENTION_TERMS.get(convention)
    if expected is None:
        return
    frequency, day_count = expected
    if (terms.frequency, terms.day_count) != expected:
        raise InputError.single(
            "convention-matches-terms",
            f"{convention.value} prices notes paying {frequency}x a year on {day_count.value}; "
            f"these notes pay {terms.frequency}x on {terms.day_count.value}",
            field="convention",
        )


def price_fixed_spread(
    terms: NoteTerms,
    settlement: date,
    reference_yield: Decimal,
    spread_bps: Decimal | int,
    convention: PricingConvention = PricingConvention.US_SEMI_30_360,
    early_tender_payment: Decimal | int = 0,
    *,
    price_to: PriceTo = PriceTo.WORST,
) -> FixedSpreadPrice:
    """Total Consideration, Tender Offer Consideration and accrued interest per 1,000 (R5.1-5).

    >>> terms = NoteTerms(Decimal("0.0435"), date(2049, 5, 1), par_call_date=date(2048, 11, 1))
    >>> p = price_fixed_spread(terms, date(2025, 7, 23), Decimal("0.04996"), 80)
    >>> p.total_consideration, p.accrued_interest, p.binding
    (Decimal('814.59'), Decimal('9.91'), 'maturity')
    """
    check_convention(terms, convention)
    etp = Decimal(early_tender_payment)
    if not etp.is_finite() or etp < 0:
        raise InputError.single(
            "early-tender-payment-non-negative",
            f"early tender payment {early_tender_payment} must be >= 0",
            field="early_tender_payment",
        )
    yield_rate = DECIMAL_CONTEXT.add(
        reference_yield, DECIMAL_CONTEXT.multiply(Decimal(spread_bps), BASIS_POINT)
    )
    to_maturity = price_from_yield(terms, settlement, yield_rate)
    to_call = _price_to_call(terms, settlement, yield_rate, price_to)
    chosen, binding = to_maturity, "maturity"
    if price_to is PriceTo.CALL and to_call is not None:
        chosen, binding = to_call, "call"
    elif to_call is not None and to_call.clean_price_per_1000 < to_maturity.clean_price_per_1000:
        chosen, binding = to_call, "par_call"
    total = round_half_up_to_cent(chosen.clean_price_per_1000)
    return FixedSpreadPrice(
        yield_rate=yield_rate,
        total_consideration=total,
        tender_offer_consideration=DECIMAL_CONTEXT.subtract(total, etp),
        early_tender_payment=etp,
        accrued_interest=round_half_up_to_cent(chosen.accrued_interest_per_1000),
        accrued_interest_unrounded=chosen.accrued_interest_per_1000,
        price_unrounded=chosen.clean_price_per_1000,
        binding_end_date=chosen.end_date,
        binding=binding,
        to_maturity=to_maturity,
        to_call=to_call,
    )


def _price_to_call(
    terms: NoteTerms, settlement: date, yield_rate: Decimal, price_to: PriceTo
) -> PriceBreakdown | None:
    call = terms.par_call_date
    if price_to is PriceTo.MATURITY or call is None:
        if price_to is PriceTo.CALL:
            raise InputError.single(
                "call-date-given", "pricing to the call needs a call date", field="par_call_date"
            )
        return None
    if call <= settlement:
        raise InputError.single(
            "call-after-settlement",
            f"call date {call} is not after settlement {settlement}",
            field="par_call_date",
        )
    return price_from_yield(
        terms, settlement, yield_rate, end=call, redemption_per_1000=terms.call_price
    )
