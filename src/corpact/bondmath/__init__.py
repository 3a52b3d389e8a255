"""Bond math kernel: day counts, coupon schedules, accrued interest, accreted value, pricing.

Pure functions of (terms, dates, rates), exact in `Decimal` under `corpact.money.DECIMAL_CONTEXT`.
"""

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
from corpact.bondmath.terms import AccretionSchedule, NoteTerms

__all__ = [
    "AccretionSchedule",
    "DayCount",
    "FixedSpreadPrice",
    "NoteTerms",
    "PriceBreakdown",
    "PriceTo",
    "PricingConvention",
    "accrued_interest",
    "accrued_interest_per_1000",
    "coupon_schedule",
    "coupons_between",
    "day_count_days",
    "last_coupon_on_or_before",
    "next_coupon_after",
    "parse_day_count",
    "price_fixed_spread",
    "price_from_yield",
]
