"""Bond math kernel: day counts, coupon schedules, accrued interest, accreted value, pricing.

Pure functions of (terms, dates, rates), exact in `Decimal` under `corpact.money.DECIMAL_CONTEXT`.
"""

from corpact.bondmath.accretion import (
    AmountBasis,
    accreted_value_per_1000,
    accretion_from_issue_price,
    accretion_from_table,
    amount_on_basis,
    price_on_basis,
)
from corpact.bondmath.accrued import accrued_interest, accrued_interest_per_1000
from corpact.bondmath.daycount import DayCount, day_count_days, parse_day_count
from corpact.bondmath.pricing import (
    FixedSpreadPrice,
    PriceBreakdown,
    PriceTo,
    PricingConvention,
    price_fixed_spread,
    price_from_yield,
)
from corpact.bondmath.schedule import (
    coupon_schedule,
    coupons_between,
    last_coupon_on_or_before,
    next_coupon_after,
)
from corpact.bondmath.solver import yield_from_price
from corpact.bondmath.terms import AccretionSchedule, NoteTerms
from corpact.bondmath.treasury import (
    parse_treasury_price,
    treasury_price_from_yield,
    treasury_yield_from_bid,
)

__all__ = [
    "AccretionSchedule",
    "AmountBasis",
    "DayCount",
    "FixedSpreadPrice",
    "NoteTerms",
    "PriceBreakdown",
    "PriceTo",
    "PricingConvention",
    "accreted_value_per_1000",
    "accretion_from_issue_price",
    "accretion_from_table",
    "accrued_interest",
    "accrued_interest_per_1000",
    "amount_on_basis",
    "coupon_schedule",
    "coupons_between",
    "day_count_days",
    "last_coupon_on_or_before",
    "next_coupon_after",
    "parse_day_count",
    "parse_treasury_price",
    "price_fixed_spread",
    "price_from_yield",
    "price_on_basis",
    "treasury_price_from_yield",
    "treasury_yield_from_bid",
    "yield_from_price",
]
