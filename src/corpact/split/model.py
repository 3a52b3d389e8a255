"""Input file models (pydantic): the split file and one row of the record-holder register.

These are the documented file formats; their JSON Schemas are generated from these classes.
Amounts are quoted decimal strings so that no loader ever turns them into floats.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema

from corpact.money.rounding import INPUT_DIGITS, INPUT_PLACES
from corpact.split.arith import CashRounding, FractionalPolicy, PriceBasis

# Prices, par values and fractions are input numbers (`input_number_problem`).
DECIMAL_PATTERN = rf"^[0-9]{{1,{INPUT_DIGITS}}}(\.[0-9]{{1,{INPUT_PLACES}}})?$"
CUSIP_PATTERN = r"^[0-9A-Z*@#]{9}$"


def _decimal_text(value: Any) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
        raise ValueError('write amounts as quoted decimal strings, e.g. "0.01" (never a float)')
    text = str(value).strip()
    if not re.fullmatch(DECIMAL_PATTERN, text):
        raise ValueError(
            f'{value!r} is not a non-negative decimal such as "12.34" '
            f"(at most {INPUT_DIGITS} digits before the point and {INPUT_PLACES} after)"
        )
    return Decimal(text)


DecimalText = Annotated[
    Decimal,
    BeforeValidator(_decimal_text),
    WithJsonSchema({"type": "string", "pattern": DECIMAL_PATTERN}),
]


def _instant_text(value: Any) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    if not isinstance(value, str):
        raise ValueError("write the effective time as an ISO 8601 date-time string")
    return value


InstantText = Annotated[
    str,
    BeforeValidator(_instant_text),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]
RatioText = Annotated[
    str,
    Field(pattern=r"^[0-9]+-for-[0-9]+$", examples=["1-for-15", "3-for-2"]),
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SplitHeaderIn(_Strict):
    id: str = Field(min_length=1, description="identifier of this split event")
    issuer: str = Field(min_length=1)
    jurisdiction: str = Field(min_length=1, description="state of incorporation, e.g. Delaware")
    synthetic: bool = Field(False, description="true when any input is invented for illustration")
    note: str | None = None


class RatioRangeIn(_Strict):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    from_: RatioText = Field(alias="from")
    to: RatioText


class MeetingAuthorityIn(_Strict):
    meeting_result: str = Field(
        min_length=1,
        description="path (relative to the split file) of the JSON printed by "
        "`corpact meeting tabulate --format json`",
    )
    proposal: str = Field(min_length=1, description="id of the proposal granting the authority")


class InlineAuthorityIn(_Strict):
    """An authority granted outside corpact (e.g. written consent, NRS 78.209 resolution)."""

    id: str = Field(min_length=1)
    basis: str = Field(min_length=1, description="how it was granted, e.g. 'written consent'")
    approved_on: date
    passed: bool = True
    ratios: list[RatioText] | None = Field(None, min_length=1)
    range: RatioRangeIn | None = None
    expires_on: date | None = None
    expires_at_meeting: str | None = Field(
        None, description="expiry defined by a future meeting, e.g. '2023 annual meeting'"
    )
    expiry_meeting_date: date | None = None
    delegate: str = "board"


class AuthorityIn(_Strict):
    meeting: MeetingAuthorityIn | None = None
    inline: InlineAuthorityIn | None = None


class ResolutionIn(_Strict):
    """The delegate's decision: ratio and effective time, or abandonment."""

    ratio: RatioText
    decided_on: date
    decided_by: str = "board"
    effective_at: InstantText = Field(description="ISO date-time; without offset read in timezone")
    timezone: str = "America/New_York"
    abandoned: bool = False
    abandoned_on: date | None = None
    certificate_filed_on: date | None = None
    first_adjusted_trading_day: date | None = None
    expiry_meeting_not_held_attested: bool = Field(
        False,
        description="the delegate attests that the meeting ending the authority has not been "
        "held; needed when that meeting's date is unknown",
    )


class ParRule(StrEnum):
    unchanged = "unchanged"
    scaled = "scaled"
    explicit = "explicit"


class AuthorizedRule(StrEnum):
    unchanged = "unchanged"
    proportional = "proportional"
    explicit = "explicit"


class AuthorizedRounding(StrEnum):
    exact = "exact"
    floor = "floor"


class ShareClassIn(_Strict):
    id: str = Field(min_length=1)
    par_value_before: DecimalText
    par_rule: ParRule = ParRule.unchanged
    par_value_after: DecimalText | None = None
    authorized_before: int = Field(ge=0)
    authorized_rule: AuthorizedRule = AuthorizedRule.unchanged
    authorized_after: int | None = Field(None, ge=0)
    authorized_rounding: AuthorizedRounding = AuthorizedRounding.exact
    reserved_after: int = Field(
        0, ge=0, description="shares reserved for issuance after the split, besides awards"
    )
    old_cusip: str | None = Field(None, pattern=CUSIP_PATTERN)
    new_cusip: str | None = Field(None, pattern=CUSIP_PATTERN)


class PriceSource(StrEnum):
    prior_close = "prior_close"
    effective_date_close = "effective_date_close"
    n_day_average = "n_day_average"


class AverageRounding(StrEnum):
    down_to_minor_unit = "down_to_minor_unit"
    half_up_to_minor_unit = "half_up_to_minor_unit"
    exact = "exact"


class ClosePriceIn(_Strict):
    on: date
    close: DecimalText


class PriceIn(_Strict):
    source: PriceSource
    basis: PriceBasis = Field(description="mandatory: per old share or per new share")
    class_id: str | None = Field(None, description="class whose price is quoted (P3: class_a)")
    close_on: date | None = Field(None, description="trading day of `close`")
    close: DecimalText | None = None
    days: int | None = Field(None, ge=1, description="N of an N-day average")
    closes: list[ClosePriceIn] | None = None
    average_rounding: AverageRounding = AverageRounding.down_to_minor_unit


class SaleIn(_Strict):
    class_id: str
    price_per_new_share: DecimalText
    expenses: DecimalText = Decimal(0)
    sold_on: date | None = None


class FractionalIn(_Strict):
    policy: FractionalPolicy
    currency: str = Field("USD", pattern=r"^[A-Z]{3}$")
    price: PriceIn | None = None
    cash_rounding: CashRounding = CashRounding.down
    sale_agent_holder_id: str | None = Field(
        None, description="register account that receives the pooled shares to be sold"
    )
    sale_agent_name: str | None = None
    sales: list[SaleIn] = Field(default_factory=list)
    allow_round_down_without_cash: bool = Field(
        False, description="explicit override needed to cancel fractions unpaid in Delaware"
    )


class AwardKind(StrEnum):
    option = "option"
    warrant = "warrant"
    rsu = "rsu"
    plan_reserve = "plan_reserve"
    right = "right"


class ShareRounding(StrEnum):
    floor = "floor"
    half_up = "half_up"
    ceil = "ceil"


class PriceRounding(StrEnum):
    up_to_cent = "up_to_cent"
    half_up_to_cent = "half_up_to_cent"
    down_to_cent = "down_to_cent"


class AwardIn(_Strict):
    id: str = Field(min_length=1)
    kind: AwardKind
    class_id: str
    shares: int | None = Field(None, ge=0, description="shares underlying (not for rights)")
    exercise_price: DecimalText | None = None
    fraction_per_right: DecimalText | None = Field(
        None, description="rights only: fraction of a (preferred) share purchasable per right"
    )
    share_rounding: ShareRounding = ShareRounding.floor
    price_rounding: PriceRounding = PriceRounding.up_to_cent


class SplitFileIn(_Strict):
    """A split file: the authority, the board resolution and how the split is carried out."""

    split: SplitHeaderIn
    authority: AuthorityIn
    resolution: ResolutionIn
    classes: list[ShareClassIn] = Field(min_length=1)
    fractional: FractionalIn
    awards: list[AwardIn] = Field(default_factory=list)


class HoldingForm(StrEnum):
    drs = "drs"
    certificate = "certificate"
    nominee = "nominee"


class RegisterRowIn(_Strict):
    """One record holder's position in one class (one CSV row of the register)."""

    holder_id: str = Field(min_length=1)
    name: str = Field(min_length=1)
    class_id: str = Field(min_length=1)
    shares: int = Field(ge=0, description="whole shares held of record")
    holding_form: HoldingForm
    cusip: str | None = Field(None, pattern=CUSIP_PATTERN)
    surrender_status: Literal["unexchanged", "exchanged"] | None = Field(
        None, description="certificates only: whether the old certificate was surrendered"
    )


REGISTER_COLUMNS: tuple[str, ...] = ("holder_id", "name", "class_id", "shares", "holding_form")
REGISTER_OPTIONAL_COLUMNS: tuple[str, ...] = ("cusip", "surrender_status")
