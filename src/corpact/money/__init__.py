"""Money kernel: exact amounts with their currency, named roundings, fixed FX conversions."""

from corpact.money.fx import FxRate
from corpact.money.money import Money, minor_units
from corpact.money.rounding import (
    DECIMAL_CONTEXT,
    Rounding,
    allocate_by_weights,
    floor_to_increment,
    floor_to_unit,
    round_half_up,
    round_half_up_to_cent,
    to_decimal,
)

__all__ = [
    "DECIMAL_CONTEXT",
    "FxRate",
    "Money",
    "Rounding",
    "allocate_by_weights",
    "floor_to_increment",
    "floor_to_unit",
    "minor_units",
    "round_half_up",
    "round_half_up_to_cent",
    "to_decimal",
]
