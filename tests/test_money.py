from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from corpact.errors import InvariantViolation
from corpact.money import (
    FxRate,
    Money,
    Rounding,
    allocate_by_weights,
    floor_to_increment,
    minor_units,
    round_half_up_to_cent,
)


def test_half_up_to_cent_rounds_half_away_from_zero() -> None:
    assert round_half_up_to_cent(Decimal("814.585")) == Decimal("814.59")
    assert round_half_up_to_cent(Decimal("814.58499")) == Decimal("814.58")
    assert round_half_up_to_cent(Decimal("-0.005")) == Decimal("-0.01")


def test_floor_to_increment_never_rounds_up() -> None:
    assert floor_to_increment(Decimal("99134.8"), 1000) == Decimal(99000)
    assert floor_to_increment(Fraction(206045000 * 5, 5), 1000) == Decimal(206045000)
    assert floor_to_increment(Decimal(999), 1000) == 0


def test_level3_usd_equivalent_floors_to_the_published_total() -> None:
    fx = FxRate("EUR", "USD", Decimal("1.2973"), source="derived from the 15 Nov 2004 release")
    eur_in_usd = fx.convert(Money(Decimal(284461000), "EUR"))
    assert eur_in_usd == Money(Decimal("369031255.3000"), "USD")
    total = Decimal(735696000) + eur_in_usd.amount
    assert Rounding.FLOOR_UNIT.apply(total) == Decimal(1104727255)


def test_fx_round_trip_and_rules() -> None:
    fx = FxRate(
        "EUR", "USD", Decimal("1.25"), source="terms", fixed_at=datetime(2004, 10, 29, tzinfo=UTC)
    )
    assert fx.convert(Money(Decimal(125), "USD")) == Money(Decimal(100), "EUR")
    with pytest.raises(InvariantViolation):
        fx.convert(Money(Decimal(1), "GBP"))
    with pytest.raises(InvariantViolation):
        FxRate("EUR", "USD", Decimal(0), source="x")


def test_money_refuses_mixed_currencies() -> None:
    with pytest.raises(InvariantViolation):
        _ = Money(Decimal(1), "USD") + Money(Decimal(1), "EUR")
    assert Money(Decimal("1.005"), "USD").rounded() == Money(Decimal("1.01"), "USD")
    assert minor_units("JPY") == 0 and minor_units("KWD") == 3


@given(
    total_cents=st.integers(min_value=0, max_value=10**12),
    weights=st.lists(st.integers(min_value=0, max_value=10**9), min_size=1, max_size=30),
)
def test_allocate_keeps_every_cent(total_cents: int, weights: list[int]) -> None:
    total = Decimal(total_cents) / 100
    if sum(weights) == 0:
        weights[0] = 1
    parts = allocate_by_weights(total, [Decimal(w) for w in weights], Decimal("0.01"))
    assert sum(parts, Decimal(0)) == total
    assert all(p >= 0 for p in parts)
    assert all(p == 0 for p, w in zip(parts, weights, strict=True) if w == 0)
