"""Fixed-spread pricing of 100,000 US notes, against QuantLib on the same notes in the same run.

Each note is priced to maturity and, when it has a par call, to the par call date (the lower
price wins), as a tender agent does for every series. corpact works in exact `Decimal`; the
baseline is QuantLib's double-precision `BondFunctions.cleanPrice` (bond construction included
on both sides). Aim: no slower than 2x QuantLib.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from bench.harness import BenchResult, best_of, scaled
from corpact.bondmath import NoteTerms, price_fixed_spread

BONDS = 100_000
SETTLEMENT = date(2025, 7, 23)


@dataclass(frozen=True, slots=True)
class Case:
    coupon: Decimal
    maturity: date
    par_call: date | None
    reference_yield: Decimal
    spread_bps: int


def cases(count: int) -> list[Case]:
    """Deterministic spread of notes: 1-30 years, coupons 0.5-9%, half with a par call."""
    found: list[Case] = []
    for i in range(count):
        mixed = (i * 2_654_435_761) % 4_294_967_296  # Knuth's multiplicative hash
        years = 1 + mixed % 30
        month = 1 + (mixed >> 5) % 12
        day = 1 + (mixed >> 9) % 27  # no 28 Feb coupons: QuantLib shortens those (Feb rule)
        maturity = date(2026 + years, month, day)
        call_month = month - 6 if month > 6 else month + 6
        call_year = maturity.year if month > 6 else maturity.year - 1
        par_call = date(call_year, call_month, day) if i % 2 and years > 1 else None
        coupon = Decimal(50 + (mixed >> 13) % 850) / Decimal(10_000)
        reference_yield = Decimal(3_500 + (mixed >> 17) % 2_000) / Decimal(100_000)
        found.append(Case(coupon, maturity, par_call, reference_yield, 20 + (mixed >> 21) % 200))
    return found


def price_with_corpact(batch: list[Case]) -> list[Decimal]:
    return [
        price_fixed_spread(
            NoteTerms(c.coupon, c.maturity, par_call_date=c.par_call),
            SETTLEMENT,
            c.reference_yield,
            c.spread_bps,
        ).total_consideration
        for c in batch
    ]


def price_with_quantlib(batch: list[Case]) -> list[float]:
    import QuantLib as ql

    settle = ql.Date(SETTLEMENT.day, SETTLEMENT.month, SETTLEMENT.year)
    ql.Settings.instance().evaluationDate = settle
    counter = ql.Thirty360(ql.Thirty360.USA)
    prices: list[float] = []
    for c in batch:
        effective = ql.Date(c.maturity.day, c.maturity.month, 2000 + (c.maturity.month > 6))
        spread_yield = float(c.reference_yield) + c.spread_bps / 10_000  # float ok
        ends = [c.maturity] if c.par_call is None else [c.maturity, c.par_call]
        best = float("inf")
        for end in ends:
            schedule = ql.Schedule(
                effective, ql.Date(end.day, end.month, end.year), ql.Period(ql.Semiannual),
                ql.NullCalendar(), ql.Unadjusted, ql.Unadjusted, ql.DateGeneration.Backward,
                False,
            )  # fmt: skip
            bond = ql.FixedRateBond(0, 100.0, schedule, [float(c.coupon)], counter)  # float ok
            price = ql.BondFunctions.cleanPrice(
                bond, spread_yield, counter, ql.Compounded, ql.Semiannual, settle
            )
            best = min(best, price)
        prices.append(best * 10)
    return prices


def run() -> list[BenchResult]:
    batch = cases(scaled(BONDS))
    ours = price_with_corpact(batch)  # warm-up, and the numbers to compare
    theirs = price_with_quantlib(batch)
    # Off-cycle par calls are priced differently on purpose (R5.4 stub coupon); compare the rest.
    comparable = [(a, b) for a, b, c in zip(ours, theirs, batch, strict=True) if c.par_call is None]
    mismatches = sum(1 for a, b in comparable if abs(float(a) - b) > 0.005 + 1e-9)  # float ok
    subject = best_of(lambda: price_with_corpact(batch), repeat=2)
    baseline = best_of(lambda: price_with_quantlib(batch), repeat=2)
    return [
        BenchResult(
            name=f"fixed-spread price, exact Decimal ({mismatches} off by > 0.5 cent)",
            items=len(batch),
            item_unit="bonds",
            subject_seconds=subject,
            baseline_name="QuantLib 1.44 cleanPrice",
            baseline_seconds=baseline,
            aim="<= 2x QuantLib",
        )
    ]
