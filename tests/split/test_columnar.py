"""The vectorized Arrow path agrees with the per-holder executor, holder by holder."""

from __future__ import annotations

from decimal import Decimal
from math import gcd

import pyarrow as pa
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from corpact.errors import InputError
from corpact.split import apply_split
from corpact.split.columnar import split_class_columns
from tests.split.helpers import any_ratio_split, register_of, terms_in_memory

positions = st.lists(st.integers(min_value=0, max_value=10**12), min_size=0, max_size=60)


@st.composite
def ratios(draw: st.DrawFn) -> str:
    new = draw(st.integers(min_value=1, max_value=60))
    old = draw(st.integers(min_value=1, max_value=60))
    assume(new != old and gcd(new, old) == 1)
    return f"{new}-for-{old}"


@given(
    positions,
    ratios(),
    st.sampled_from(["cash_in_lieu", "round_up", "round_nearest", "round_down_no_cash"]),
    st.decimals(min_value="0.0001", max_value="5000", places=4),
    st.sampled_from(["pre_split_per_old_share", "post_split_per_new_share"]),
    st.sampled_from(["down", "half_up"]),
)
def test_columnar_matches_per_holder_executor(
    shares: list[int], ratio: str, policy: str, price: Decimal, basis: str, rounding: str
) -> None:
    extra: dict[str, object] = {}
    if policy == "cash_in_lieu":
        extra = {
            "cash_rounding": rounding,
            "price": {
                "source": "prior_close",
                "basis": basis,
                "close_on": "2023-06-13",
                "close": str(price),
            },
        }
    terms = terms_in_memory(any_ratio_split(ratio, policy, **extra))
    columns = split_class_columns(terms, "common", pa.array(shares, pa.int64()))
    if not shares:
        assert columns.new_outstanding == columns.old_outstanding == 0
        return
    result = apply_split(terms, register_of(shares))
    (outcome,) = result.classes
    assert columns.new_shares.to_pylist() == [h.new_shares for h in result.holders]
    assert columns.remainder.to_pylist() == [h.remainder for h in result.holders]
    assert columns.cash_minor.to_pylist() == [int(h.cash * 100) for h in result.holders]
    assert columns.new_outstanding == outcome.new_outstanding
    assert columns.old_outstanding == outcome.old_outstanding
    assert columns.remainder_total == outcome.remainder_total
    assert columns.holders_with_fraction == outcome.holders_with_fraction
    assert Decimal(columns.cash_total_minor) / 100 == outcome.cash_total


def test_columnar_refuses_negative_positions_and_overflow() -> None:
    terms = terms_in_memory(any_ratio_split("1-for-10", "round_up"))
    with pytest.raises(InputError):
        split_class_columns(terms, "common", pa.array([5, -1], pa.int64()))
    forward = terms_in_memory(any_ratio_split("60-for-1", "round_up"))
    with pytest.raises(InputError):
        split_class_columns(forward, "common", pa.array([2**62], pa.int64()))
