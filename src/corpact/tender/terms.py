"""The terms of a debt tender offer, as immutable domain records.

Amounts are exact: principal in whole units of the series currency (`Decimal`, always a multiple
of the increment), prices per 1,000 of principal, caps with cents. The file format lives in
`terms_file.py`; these records are what the pure engine computes with.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from zoneinfo import ZoneInfo

from corpact.bondmath import NoteTerms, PriceTo, PricingConvention
from corpact.errors import check
from corpact.money import FxRate, Rounding


class CapBasis(StrEnum):
    """What a cap measures (spec R1.2, R2.1-R2.3)."""

    PRINCIPAL = "principal"
    # Σ principal × price / 1,000 excluding accrued interest; TC for early, TOC for late tenders.
    PURCHASE_PRICE = "purchase_price"
    # Same measure, but the offer never prorates: a series is bought whole or not at all.
    TOTAL_CONSIDERATION = "total_consideration"


class OutstandingBasis(StrEnum):
    PRINCIPAL = "principal"
    PRINCIPAL_AMOUNT_AT_MATURITY = "principal_amount_at_maturity"


class CapacityRunsOut(StrEnum):
    """What happens below the level where capacity ran out (spec R3.4, R3.5)."""

    STOP = "stop"  # nothing below the prorated (or refused) level is bought
    SKIP = "skip"  # later levels may still use what is left


class MinDenominationPolicy(StrEnum):
    """When proration would leave an accepted or returned part below the minimum denomination."""

    ADJUST_DOWN = "adjust_down"  # accept less (to the increment) so both parts stay valid
    RETURN_ALL = "return_all"  # return the whole instruction
    ACCEPT_ALL = "accept_all"  # accept it whole if capacity allows, else return it whole


class Leftover(StrEnum):
    UNFILLED = "unfilled"  # the rounding leftover stays unbought (Kellogg 2019, spec R4.5)
    SOLVE_FACTOR = "solve_factor"  # largest factor whose floored total still fits (spec R4.6)


class ProrationMode(StrEnum):
    CAPACITY = "capacity"  # factor = capacity / tendered
    FIXED = "fixed"  # a published factor applied whatever is tendered (Warrior Met Coal 2023)


class DeadlineComparison(StrEnum):
    BEFORE = "before"  # "prior to 5:00 p.m."
    ON_OR_BEFORE = "on_or_before"  # "on or prior to 5:00 p.m."


class LateWithdrawal(StrEnum):
    UNTIL_EXPIRATION = "until_expiration"  # Level 3 2004: late tenders withdrawable to expiry
    NONE = "none"  # tenders after the withdrawal deadline cannot be withdrawn


class Round(StrEnum):
    EARLY = "early"
    LATE = "late"


@dataclass(frozen=True, slots=True)
class Cap:
    basis: CapBasis
    amount: Decimal
    currency: str

    def __post_init__(self) -> None:
        check(self.amount >= 0, "cap amount must be non-negative")


@dataclass(frozen=True, slots=True)
class Pool:
    """A group of series under a cap of its own, itself under the aggregate cap."""

    pool_id: str
    cap: Cap
    series_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Proration:
    enabled: bool = True
    mode: ProrationMode = ProrationMode.CAPACITY
    fixed_factor: Decimal | None = None
    min_denomination_policy: MinDenominationPolicy = MinDenominationPolicy.ADJUST_DOWN
    leftover: Leftover = Leftover.UNFILLED
    capacity_runs_out: CapacityRunsOut = CapacityRunsOut.STOP
    # Published factors are rounded for display only (spec R4.3).
    factor_display_places: int = 6


@dataclass(frozen=True, slots=True)
class Condition:
    condition_id: str
    text: str
    series_ids: tuple[str, ...] = ()  # empty: the whole offer


class AmountBasis(StrEnum):
    """Which measure of a discount note a cap or a price uses (spec §13)."""

    PAM = "principal_amount_at_maturity"
    ACCRETED_VALUE = "accreted_value"


@dataclass(frozen=True, slots=True)
class FixedSpreadPricing:
    """Total Consideration from a reference yield plus a fixed spread (spec §5)."""

    spread_bps: Decimal
    reference_security: str
    convention: PricingConvention = PricingConvention.US_SEMI_30_360
    price_to: PriceTo = PriceTo.WORST
    reference_yield: Decimal | None = None  # a fraction: 0.04996; None until pricing time
    reference_page: str = ""
    pricing_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Series:
    series_id: str
    title: str
    currency: str
    outstanding: Decimal
    priority_level: int
    tender_offer_consideration: Decimal  # per 1,000
    early_tender_payment: Decimal  # per 1,000
    minimum_denomination: Decimal
    increment: Decimal
    outstanding_basis: OutstandingBasis = OutstandingBasis.PRINCIPAL
    sub_cap: Cap | None = None  # the series' "Maximum Offer Amount"
    cusip: str | None = None
    isin: str | None = None
    note: NoteTerms | None = None  # coupon, dates, day count: for accrued interest and pricing
    assumed_terms: tuple[str, ...] = ()  # which note terms are assumptions, not confirmed
    pricing: FixedSpreadPricing | None = None
    amount_basis: AmountBasis = AmountBasis.PAM

    @property
    def total_consideration(self) -> Decimal:
        return self.tender_offer_consideration + self.early_tender_payment

    def price_per_1000(self, round_: Round) -> Decimal:
        if round_ is Round.EARLY:
            return self.total_consideration
        return self.tender_offer_consideration


@dataclass(frozen=True, slots=True)
class Deadlines:
    launch_at: datetime
    expiration_at: datetime
    early_tender_at: datetime | None = None
    early_tender_comparison: DeadlineComparison = DeadlineComparison.BEFORE
    withdrawal_at: datetime | None = None
    late_withdrawal: LateWithdrawal = LateWithdrawal.UNTIL_EXPIRATION

    def __post_init__(self) -> None:
        for moment in (
            self.launch_at,
            self.expiration_at,
            self.early_tender_at,
            self.withdrawal_at,
        ):
            check(moment is None or moment.tzinfo is not None, "deadlines need a time zone")

    def round_of(self, received_at: datetime) -> Round:
        if self.early_tender_at is None:
            return Round.EARLY
        if self.early_tender_comparison is DeadlineComparison.BEFORE:
            return Round.EARLY if received_at < self.early_tender_at else Round.LATE
        return Round.EARLY if received_at <= self.early_tender_at else Round.LATE

    def withdrawal_deadline_for(self, tendered_at: datetime) -> datetime | None:
        """Last moment (exclusive) a tender made at `tendered_at` may be withdrawn; None: never."""
        deadline = self.withdrawal_at if self.withdrawal_at is not None else self.expiration_at
        if tendered_at < deadline:
            return deadline
        if self.late_withdrawal is LateWithdrawal.UNTIL_EXPIRATION:
            return self.expiration_at
        return None


@dataclass(frozen=True, slots=True)
class Settlement:
    early_settlement_date: date | None
    final_settlement_date: date
    guaranteed_delivery_settlement_date: date | None = None
    calendar_id: str = "US-SIFMA"


@dataclass(frozen=True, slots=True)
class OfferTerms:
    offer_id: str
    issuer: str
    title: str
    time_zone: ZoneInfo
    deadlines: Deadlines
    settlement: Settlement
    series: tuple[Series, ...]
    aggregate_cap: Cap | None  # None: any and all
    pools: tuple[Pool, ...] = ()
    proration: Proration = field(default_factory=Proration)
    early_tenders_have_priority: bool = False
    allow_shared_priority_levels: bool = False
    guaranteed_delivery_counts_toward_cap: bool = True
    fx_rates: tuple[FxRate, ...] = ()
    conditions: tuple[Condition, ...] = ()
    # How a USD-equivalent total is rounded for publication (Level 3: floor to the dollar).
    equivalent_rounding: Rounding = Rounding.FLOOR_UNIT
    version: int = 0
    source_notes: tuple[str, ...] = ()
    terminated_series: frozenset[str] = frozenset()

    def series_by_id(self) -> dict[str, Series]:
        return {s.series_id: s for s in self.series}

    def levels(self) -> list[int]:
        return sorted({s.priority_level for s in self.series})

    def pool_of(self, series_id: str) -> Pool | None:
        for pool in self.pools:
            if series_id in pool.series_ids:
                return pool
        return None

    def reporting_currency(self) -> str:
        if self.aggregate_cap is not None:
            return self.aggregate_cap.currency
        return self.series[0].currency

    def fx_to(self, from_currency: str, to_currency: str) -> Decimal:
        """Units of `to_currency` per unit of `from_currency`, from the terms' fixed rates."""
        if from_currency == to_currency:
            return Decimal(1)
        for fx in self.fx_rates:
            if fx.base == from_currency and fx.quote == to_currency:
                return fx.rate
            if fx.base == to_currency and fx.quote == from_currency:
                return Decimal(1) / fx.rate
        check(False, f"no FX rate {from_currency}->{to_currency}; terms validation missed it")
        return Decimal(0)

    def fx_record(self, from_currency: str, to_currency: str) -> FxRate | None:
        for fx in self.fx_rates:
            if {fx.base, fx.quote} == {from_currency, to_currency}:
                return fx
        return None
