"""Reference yields from U.S. Treasury bid prices (spec R5.2).

Prices are quoted per 100 in 32nds: ``99-16`` is 99 16/32, ``99-16+`` adds 1/64, and a third
digit counts eighths of a 32nd (``99-162`` is 99 16.25/32). Decimal quotes (``99.515625``) are
accepted too. The yield follows Treasury's formula for notes and bonds (31 CFR Part 356,
Appendix B): semi-annual compounding, the fraction of the current coupon period in actual
days (r/s), and simple interest when only the final coupon is left.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from fractions import Fraction

from corpact.bondmath.accrued import accrued_fraction, check_settlement, fraction_to_decimal
from corpact.bondmath.daycount import DayCount
from corpact.bondmath.pricing import price_from_yield
from corpact.bondmath.schedule import period_containing
from corpact.bondmath.solver import solve_yield
from corpact.bondmath.terms import NoteTerms
from corpact.errors import InputError
from corpact.money import DECIMAL_CONTEXT

_THIRTY_SECONDS = re.compile(r"^\s*(\d+)-(\d{2})([+]|[0-7])?\s*$")
_DECIMAL_QUOTE = re.compile(r"^\s*\d+(\.\d+)?\s*$")
HUNDRED = Decimal(100)


def parse_treasury_price(text: str, *, field: str = "treasury_bid") -> Decimal:
    """A Treasury quote per 100, exact.

    >>> [parse_treasury_price(q) for q in ("99-16+", "101-082", "99.5")]
    [Decimal('99.515625'), Decimal('101.2578125'), Decimal('99.5')]
    """
    match = _THIRTY_SECONDS.match(text)
    if match:
        whole, thirty_seconds, extra = match.groups()
        if int(thirty_seconds) > 31:
            raise InputError.single(
                "treasury-quote-32nds", f"{text!r}: 32nds must be 00-31", field=field
            )
        eighths = 4 if extra == "+" else int(extra or 0)
        value = Fraction(int(whole)) + Fraction(int(thirty_seconds) * 8 + eighths, 256)
        return fraction_to_decimal(value)
    if _DECIMAL_QUOTE.match(text):
        return Decimal(text.strip())
    raise InputError.single(
        "treasury-quote-format",
        f"{text!r} is not a Treasury price (e.g. 99-16, 99-16+, 99-162 or 99.515625)",
        field=field,
    )


def treasury_terms(coupon_rate: Decimal, maturity: date) -> NoteTerms:
    return NoteTerms(coupon_rate, maturity, frequency=2, day_count=DayCount.ACT_ACT_ICMA)


def treasury_price_from_yield(
    coupon_rate: Decimal, maturity: date, settlement: date, yield_rate: Decimal
) -> Decimal:
    """Clean price per 100 at `yield_rate` by Treasury's formula."""
    terms = treasury_terms(coupon_rate, maturity)
    check_settlement(terms, settlement)
    period = period_containing(terms, settlement)
    ctx = DECIMAL_CONTEXT
    if period.end != maturity:
        clean_1000 = price_from_yield(terms, settlement, yield_rate).clean_price_per_1000
        return ctx.divide(clean_1000, 10)
    # Final coupon period: P + A = (100 + C/2) / (1 + (r/s)(i/2)), simple interest.
    r_over_s = Fraction((maturity - settlement).days, (period.end - period.start).days)
    accrued = fraction_to_decimal(accrued_fraction(terms, settlement) * 100)
    final = ctx.add(HUNDRED, ctx.divide(ctx.multiply(coupon_rate, HUNDRED), 2))
    growth = ctx.add(Decimal(1), ctx.multiply(fraction_to_decimal(r_over_s), yield_rate / 2))
    return ctx.subtract(ctx.divide(final, growth), accrued)


def treasury_yield_from_bid(
    coupon_rate: Decimal, maturity: date, settlement: date, bid_price: Decimal | str
) -> Decimal:
    """Yield (fraction, semi-annual) of a Treasury note or bond from its bid price per 100.

    >>> treasury_yield_from_bid(Decimal("0.04625"), date(2055, 2, 15), date(2025, 7, 21),
    ...                         "95-00").quantize(Decimal("0.00001"))
    Decimal('0.04948')
    """
    price = parse_treasury_price(bid_price) if isinstance(bid_price, str) else bid_price
    if not price.is_finite() or price <= 0:
        raise InputError.single("price-positive", "bid price must be positive", field="bid_price")

    def clean_at(y: Decimal) -> Decimal:
        return treasury_price_from_yield(coupon_rate, maturity, settlement, y)

    return solve_yield(clean_at, price, Decimal("-1.98"), Decimal(10))
