"""Hypothesis properties of the split executor, checked against a plain `Fraction` model."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from math import gcd

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from corpact.errors import InputError
from corpact.split import apply_split
from corpact.split.register import parse_register, register_csv
from tests.split.helpers import any_ratio_split, register_of, terms_in_memory

positions = st.lists(st.integers(min_value=0, max_value=10**12), min_size=1, max_size=40)


@st.composite
def ratios(draw: st.DrawFn) -> str:
    new = draw(st.integers(min_value=1, max_value=60))
    old = draw(st.integers(min_value=1, max_value=60))
    assume(new != old and gcd(new, old) == 1)
    return f"{new}-for-{old}"


prices = st.decimals(min_value="0.0001", max_value="5000", places=4)


def _cash_price(price: Decimal, basis: str) -> dict[str, object]:
    return {
        "price": {
            "source": "prior_close",
            "basis": basis,
            "close_on": "2023-06-13",
            "close": str(price),
        }
    }


@given(
    positions,
    ratios(),
    prices,
    st.sampled_from(["pre_split_per_old_share", "post_split_per_new_share"]),
    st.sampled_from(["down", "half_up"]),
)
def test_cash_in_lieu_conserves_shares_and_cents(
    shares: list[int], ratio: str, price: Decimal, basis: str, rounding: str
) -> None:
    terms = terms_in_memory(
        any_ratio_split(ratio, "cash_in_lieu", cash_rounding=rounding, **_cash_price(price, basis))
    )
    m, n = terms.ratio.new_shares, terms.ratio.old_shares
    result = apply_split(terms, register_of(shares))
    (outcome,) = result.classes
    for h in result.holders:
        old = h.entry.shares
        # new shares x r + fraction = old shares, with r = n/m
        assert h.new_shares * Fraction(n, m) + Fraction(h.remainder, m) == old
        assert 0 <= h.remainder < n and h.new_shares == (old * m) // n
        per_new = (
            Fraction(price)
            if basis == "post_split_per_new_share"
            else Fraction(price) * Fraction(n, m)
        )
        exact_cents = Fraction(h.remainder, n) * per_new * 100
        floor = exact_cents.numerator // exact_cents.denominator
        expected = floor if rounding == "down" else int(exact_cents + Fraction(1, 2))
        assert h.cash == Decimal(expected) / 100
    assert outcome.new_outstanding == sum(h.new_shares for h in result.holders)
    assert outcome.new_outstanding + outcome.fractions_total == Fraction(sum(shares) * m, n)
    assert outcome.new_outstanding <= Fraction(sum(shares) * m, n)
    assert sum(p.amount for p in result.payments) == outcome.cash_total == result.cash_total
    cash_entries = [e for e in result.journal if "cash in lieu" in e.memo]
    assert sum((e.lines[1].credit for e in cash_entries), Decimal(0)) == outcome.cash_total
    assert all(isinstance(e.shares, int) and e.shares > 0 for e in result.new_register)
    assert sum(e.shares for e in result.new_register) == outcome.new_outstanding


@given(positions, ratios(), st.sampled_from(["round_up", "round_down_no_cash", "round_nearest"]))
def test_rounding_policies_reconcile(shares: list[int], ratio: str, policy: str) -> None:
    terms = terms_in_memory(any_ratio_split(ratio, policy))
    m, n = terms.ratio.new_shares, terms.ratio.old_shares
    result = apply_split(terms, register_of(shares))
    (outcome,) = result.classes
    exact = Fraction(sum(shares) * m, n)
    fracs = [Fraction(h.remainder, n) for h in result.holders]
    if policy == "round_up":
        assert outcome.new_outstanding == exact + sum(1 - f for f in fracs if f)
        assert outcome.new_outstanding >= -(-exact.numerator // exact.denominator)
    elif policy == "round_down_no_cash":
        assert outcome.new_outstanding == exact - sum(fracs)
    else:
        assert all(
            abs(h.new_shares - Fraction(h.entry.shares * m, n)) <= Fraction(1, 2)
            for h in result.holders
        )
    assert result.payments == ()
    assert all(e.shares > 0 for e in result.new_register)
    for entry in result.journal:
        assert sum(ln.debit for ln in entry.lines) == sum(ln.credit for ln in entry.lines)


@given(
    positions,
    ratios(),
    st.decimals(min_value="0.01", max_value="900", places=2),
    st.decimals(min_value="0", max_value="50", places=2),
)
def test_aggregate_and_sell_distributes_net_proceeds_to_the_cent(
    shares: list[int], ratio: str, sale_price: Decimal, expenses: Decimal
) -> None:
    data = any_ratio_split(
        ratio,
        "aggregate_and_sell",
        sale_agent_holder_id="AGENT",
        sales=[
            {
                "class_id": "common",
                "price_per_new_share": str(sale_price),
                "expenses": str(expenses),
            }
        ],
    )
    terms = terms_in_memory(data)
    n = terms.ratio.old_shares
    pool = sum((h * terms.ratio.new_shares) % n for h in shares)
    gross = (pool // n) * sale_price
    if gross < expenses:
        with pytest.raises(InputError) as caught:
            apply_split(terms, register_of(shares))
        assert caught.value.problems[0].rule == "sale-expenses-exceed-proceeds"
        return
    result = apply_split(terms, register_of(shares))
    (outcome,) = result.classes
    assert outcome.pooled_shares_sold == pool // n
    assert outcome.sale_net_proceeds == gross - expenses
    assert sum(p.amount for p in result.payments) == outcome.sale_net_proceeds
    for p in result.payments:
        exact = outcome.sale_net_proceeds * Decimal(p.remainder) / Decimal(pool)
        assert abs(p.amount - exact) < Decimal("0.01")
    assert outcome.new_outstanding == sum(h.new_shares for h in result.holders) + pool // n
    assert sum(e.shares for e in result.new_register) == outcome.new_outstanding
    assert outcome.pool_residual == Fraction(pool % n, n)
    agent_rows = [e for e in result.new_register if e.holder_id == "AGENT"]
    assert sum(e.shares for e in agent_rows) == pool // n


@given(positions, ratios())
def test_execution_is_deterministic_and_register_round_trips(shares: list[int], ratio: str) -> None:
    terms = terms_in_memory(any_ratio_split(ratio, "round_up"))
    first = apply_split(terms, register_of(shares))
    second = apply_split(terms, register_of(shares))
    assert first.to_json_dict() == second.to_json_dict()
    text = register_csv(first.new_register)
    reread = parse_register(text, source="new.csv")
    assert register_csv(reread.entries) == text
