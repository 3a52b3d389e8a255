"""The offer terms file (TOML or YAML): pydantic models, loading and consistency rules.

Amounts, prices and rates are written as strings ("857.50", "1.2973") or integers, never as
floats, so no digit is lost on the way in. Times without an offset are read in the offer's
`time_zone`.
"""

from __future__ import annotations

import tomllib
from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

import yaml
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, WithJsonSchema

from corpact.bondmath import NoteTerms, PriceTo, PricingConvention, parse_day_count
from corpact.bondmath.accretion import accretion_from_issue_price, accretion_from_table
from corpact.bondmath.terms import AccretionSchedule
from corpact.bondmath.treasury import treasury_yield_from_bid
from corpact.calendars import settlement_date
from corpact.errors import InputError, Problem
from corpact.inputfiles import load_yaml, read_text
from corpact.money import FxRate, Rounding, round_half_up
from corpact.money.money import validate_currency
from corpact.money.rounding import INPUT_DIGITS, INPUT_PLACES, input_number_problem
from corpact.tender.amendments import Amendment, ConsiderationChange
from corpact.tender.terms import (
    AmountBasis,
    Cap,
    CapacityRunsOut,
    CapBasis,
    Condition,
    DeadlineComparison,
    Deadlines,
    FixedSpreadPricing,
    LateWithdrawal,
    Leftover,
    MinDenominationPolicy,
    OfferTerms,
    OutstandingBasis,
    Pool,
    Proration,
    ProrationMode,
    Series,
    Settlement,
)
from corpact.timeutil import parse_instant, zone

DECIMAL_PATTERN = rf"^-?[0-9]{{1,{INPUT_DIGITS}}}(\.[0-9]{{1,{INPUT_PLACES}}})?$"


def _exact_decimal(value: Any) -> Any:
    if isinstance(value, float):
        raise ValueError('write amounts and rates as strings ("1.2973") or integers, not floats')
    if isinstance(value, bool):
        raise ValueError("expected a decimal number")
    if isinstance(value, int):
        value = Decimal(value)
    elif isinstance(value, str):
        text = value.replace(",", "").replace("_", "").strip()
        try:
            value = Decimal(text)
        except InvalidOperation:
            raise ValueError(f"{value!r} is not a decimal number") from None
    if isinstance(value, Decimal):
        problem = input_number_problem(value)
        if problem is not None:
            raise ValueError(problem)
    return value


ExactDecimal = Annotated[
    Decimal,
    BeforeValidator(_exact_decimal),
    WithJsonSchema(
        {"anyOf": [{"type": "string", "pattern": DECIMAL_PATTERN}, {"type": "integer"}]}
    ),
]
NonNegativeDecimal = Annotated[
    Decimal,
    BeforeValidator(_exact_decimal),
    Field(ge=0),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "pattern": DECIMAL_PATTERN.replace("^-?", "^")},
                {"type": "integer", "minimum": 0},
            ]
        }
    ),
]
LocalTime = Annotated[
    str,
    WithJsonSchema(
        {
            "type": "string",
            "description": "ISO 8601 date-time; without an offset it is read in time_zone",
            "pattern": r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?",
        }
    ),
]


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CapModel(Model):
    basis: Literal["principal", "purchase_price", "total_consideration"] = "principal"
    amount: NonNegativeDecimal
    currency: str = Field(min_length=3, max_length=3)


class SubCapModel(Model):
    basis: Literal["principal", "purchase_price", "total_consideration"] = "principal"
    amount: NonNegativeDecimal


class FxModel(Model):
    base: str = Field(min_length=3, max_length=3, description="e.g. EUR")
    quote: str = Field(min_length=3, max_length=3, description="e.g. USD")
    rate: ExactDecimal = Field(description="units of quote per 1 unit of base")
    source: str = Field(description="where the rate comes from (offer document, screen page)")
    fixed_at: LocalTime | None = None


class PoolModel(Model):
    id: str
    cap: CapModel
    series: list[str]


class ProrationModel(Model):
    enabled: bool = True
    mode: Literal["capacity", "fixed"] = "capacity"
    fixed_factor: ExactDecimal | None = None
    min_denomination_policy: Literal["adjust_down", "return_all", "accept_all"] = "adjust_down"
    leftover: Literal["unfilled", "solve_factor"] = "unfilled"
    capacity_runs_out: Literal["stop", "skip"] = "stop"
    factor_display_places: int = Field(default=6, ge=0, le=12)


class ConditionModel(Model):
    id: str
    text: str
    series: list[str] = Field(default_factory=list, description="empty: the whole offer")


class AccretionModel(Model):
    """Discount notes: an indenture table, or issue price and yield to generate one."""

    issue_price_per_1000: ExactDecimal | None = None
    accretion_yield: ExactDecimal | None = None
    accrues_from: date | None = None
    full_accretion_date: date | None = None
    table: list[tuple[date, ExactDecimal]] = Field(default_factory=list)
    cash_interest_start: date | None = None


class NoteModel(Model):
    coupon_rate: ExactDecimal = Field(description="annual coupon as a fraction: 0.09125")
    maturity: date
    frequency: Literal[1, 2, 4, 12] = 2
    day_count: str = "30/360"
    issue_date: date | None = None
    first_coupon_date: date | None = None
    penultimate_coupon_date: date | None = None
    par_call_date: date | None = None
    call_price: ExactDecimal = Field(default=Decimal(1000), description="per 1,000 principal")
    accretion: AccretionModel | None = None
    assumed: list[str] = Field(
        default_factory=list, description="names of the terms above that are assumptions"
    )


class PricingModel(Model):
    kind: Literal["fixed_spread"] = "fixed_spread"
    reference_security: str
    reference_page: str = ""
    spread_bps: ExactDecimal
    reference_yield: ExactDecimal | None = Field(
        default=None, description='percent, e.g. "4.996"; absent until the pricing time'
    )
    reference_bid_price: str | None = Field(
        default=None,
        description='Treasury bid per 100 ("95-00", "99-16+", "99.5"); its yield by '
        "Treasury's formula becomes the reference yield",
    )
    reference_coupon: ExactDecimal | None = Field(
        default=None, description="the reference Treasury's coupon as a fraction"
    )
    reference_maturity: date | None = None
    reference_yield_places: int = Field(
        default=5, ge=2, le=12, description="a yield from a bid is rounded half-up to these places"
    )
    convention: Literal["US_SEMI_30_360", "EUR_ANNUAL_ACT_ACT_ICMA"] = "US_SEMI_30_360"
    price_to: Literal["worst", "maturity", "call"] = "worst"
    pricing_at: LocalTime | None = None


class SeriesModel(Model):
    id: str
    title: str
    currency: str = Field(min_length=3, max_length=3)
    outstanding: ExactDecimal
    outstanding_basis: Literal["principal", "principal_amount_at_maturity"] = "principal"
    amount_basis: Literal["principal_amount_at_maturity", "accreted_value"] = Field(
        default="principal_amount_at_maturity",
        description="discount notes: the measure caps and prices use",
    )
    priority_level: int = Field(ge=1)
    tender_offer_consideration: ExactDecimal | None = Field(
        default=None, description="per 1,000 principal; computed when `pricing` is given"
    )
    early_tender_payment: ExactDecimal = Field(default=Decimal(0), description="per 1,000")
    minimum_denomination: ExactDecimal = Decimal(1000)
    increment: ExactDecimal = Decimal(1000)
    sub_cap: SubCapModel | None = Field(default=None, description="the Maximum Offer Amount")
    cusip: str | None = None
    isin: str | None = None
    note: NoteModel | None = None
    pricing: PricingModel | None = None


class DeadlinesModel(Model):
    launch_at: LocalTime
    early_tender_at: LocalTime | None = None
    early_tender_comparison: Literal["before", "on_or_before"] = "before"
    withdrawal_at: LocalTime | None = None
    late_withdrawal: Literal["until_expiration", "none"] = "until_expiration"
    expiration_at: LocalTime


class SettlementModel(Model):
    early_settlement_date: date | None = None
    final_settlement_date: date
    guaranteed_delivery_settlement_date: date | None = None
    calendar: str = "US-SIFMA"


class ConsiderationChangeModel(Model):
    tender_offer_consideration: ExactDecimal | None = None
    early_tender_payment: ExactDecimal | None = None


class AmendmentModel(Model):
    id: str
    effective_at: LocalTime
    description: str = ""
    aggregate_cap_amount: NonNegativeDecimal | None = None
    sub_cap_amounts: dict[str, NonNegativeDecimal] = Field(default_factory=dict)
    pool_cap_amounts: dict[str, NonNegativeDecimal] = Field(default_factory=dict)
    expiration_at: LocalTime | None = None
    early_tender_at: LocalTime | None = None
    withdrawal_at: LocalTime | None = None
    reopen_withdrawal_until: LocalTime | None = None
    considerations: dict[str, ConsiderationChangeModel] = Field(default_factory=dict)
    fx_rates: list[FxModel] = Field(default_factory=list)
    terminate_series: list[str] = Field(default_factory=list)
    final_settlement_date: date | None = None
    early_settlement_date: date | None = None
    reference_yields: dict[str, ExactDecimal] = Field(
        default_factory=dict, description="pricing determined: percent per fixed-spread series"
    )


class OfferTermsModel(Model):
    """A debt tender offer: series, caps, priority levels, deadlines, proration policy."""

    # Part of every journal key of the offer, which the journal caps at 512 characters.
    offer_id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$", max_length=64)
    issuer: str
    title: str = ""
    time_zone: str = "America/New_York"
    deadlines: DeadlinesModel
    settlement: SettlementModel
    aggregate_cap: CapModel | None = Field(default=None, description="absent: any and all")
    pools: list[PoolModel] = Field(default_factory=list)
    proration: ProrationModel = Field(default_factory=ProrationModel)
    early_tenders_have_priority: bool = False
    allow_shared_priority_levels: bool = False
    guaranteed_delivery_counts_toward_cap: bool = True
    equivalent_rounding: Literal["floor_unit", "half_up_unit", "half_up_cent", "none"] = (
        "floor_unit"
    )
    fx_rates: list[FxModel] = Field(default_factory=list)
    conditions: list[ConditionModel] = Field(default_factory=list)
    series: list[SeriesModel] = Field(min_length=1)
    amendments: list[AmendmentModel] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list, description="sources and assumptions")


def read_document(path: Path) -> dict[str, Any]:
    """TOML (.toml) or YAML (.yaml/.yml) to a plain dict; syntax errors name the file."""
    source = str(path)
    text = read_text(path, source)
    try:
        yaml_file = path.suffix.lower() in {".yaml", ".yml"}
        data = load_yaml(text) if yaml_file else tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise InputError.single("toml-syntax", str(err), source=source) from None
    except yaml.YAMLError as err:
        raise InputError.single("yaml-syntax", str(err), source=source) from None
    if not isinstance(data, dict):
        raise InputError.single(
            "document-shape", "expected a table/mapping at top level", source=source
        )
    return data


def problems_from_validation(err: ValidationError, source: str) -> list[Problem]:
    problems = []
    for item in err.errors():
        loc = ".".join(str(part) for part in item["loc"])
        problems.append(
            Problem(rule=f"schema:{item['type']}", message=item["msg"], source=source, field=loc)
        )
    return problems


def load_terms(path: Path) -> tuple[OfferTerms, tuple[Amendment, ...]]:
    """Read, validate and convert a terms file. Raises `InputError` listing every problem."""
    source = str(path)
    data = read_document(path)
    try:
        model = OfferTermsModel.model_validate(data)
    except ValidationError as err:
        raise InputError(problems_from_validation(err, source)) from None
    return terms_from_model(model, source)


def terms_from_model(
    model: OfferTermsModel, source: str
) -> tuple[OfferTerms, tuple[Amendment, ...]]:
    from corpact.tender.consistency import consistency_problems
    from corpact.tender.pricing import price_all

    tz = zone(model.time_zone, field="time_zone", source=source)
    terms = OfferTerms(
        offer_id=model.offer_id,
        issuer=model.issuer,
        title=model.title,
        time_zone=tz,
        deadlines=_deadlines(model.deadlines, tz, source),
        settlement=Settlement(
            early_settlement_date=model.settlement.early_settlement_date,
            final_settlement_date=model.settlement.final_settlement_date,
            guaranteed_delivery_settlement_date=model.settlement.guaranteed_delivery_settlement_date,
            calendar_id=model.settlement.calendar,
        ),
        series=tuple(_series(s, model, source) for s in model.series),
        aggregate_cap=_cap(model.aggregate_cap, "aggregate_cap", source),
        pools=tuple(
            Pool(p.id, _required_cap(p.cap, f"pools.{p.id}.cap", source), tuple(p.series))
            for p in model.pools
        ),
        proration=_proration(model),
        early_tenders_have_priority=model.early_tenders_have_priority,
        allow_shared_priority_levels=model.allow_shared_priority_levels,
        guaranteed_delivery_counts_toward_cap=model.guaranteed_delivery_counts_toward_cap,
        fx_rates=tuple(_fx(f, tz, f"fx_rates[{i}]", source) for i, f in enumerate(model.fx_rates)),
        conditions=tuple(Condition(c.id, c.text, tuple(c.series)) for c in model.conditions),
        equivalent_rounding=Rounding(model.equivalent_rounding),
        source_notes=tuple(model.notes),
    )
    amendments = tuple(
        amendment_from_model(a, tz, f"amendments[{i}]", source)
        for i, a in enumerate(model.amendments)
    )
    problems = consistency_problems(terms, amendments, source)
    if problems:
        raise InputError(problems)
    return price_all(terms), amendments


def _instant(text: str | None, tz: ZoneInfo, field: str, source: str) -> datetime | None:
    if text is None:
        return None
    return parse_instant(text, tz, field=field, source=source)


def _deadlines(model: DeadlinesModel, tz: ZoneInfo, source: str) -> Deadlines:
    launch = _instant(model.launch_at, tz, "deadlines.launch_at", source)
    expiration = _instant(model.expiration_at, tz, "deadlines.expiration_at", source)
    if launch is None or expiration is None:  # pragma: no cover - required by the model
        raise InputError.single(
            "required", "launch_at and expiration_at are required", source=source
        )
    return Deadlines(
        launch_at=launch,
        expiration_at=expiration,
        early_tender_at=_instant(model.early_tender_at, tz, "deadlines.early_tender_at", source),
        early_tender_comparison=DeadlineComparison(model.early_tender_comparison),
        withdrawal_at=_instant(model.withdrawal_at, tz, "deadlines.withdrawal_at", source),
        late_withdrawal=LateWithdrawal(model.late_withdrawal),
    )


def _cap(model: CapModel | None, field: str, source: str) -> Cap | None:
    if model is None:
        return None
    return _required_cap(model, field, source)


def _required_cap(model: CapModel, field: str, source: str) -> Cap:
    currency = validate_currency(model.currency, field=f"{field}.currency", source=source)
    return Cap(CapBasis(model.basis), model.amount, currency)


def _series(model: SeriesModel, offer: OfferTermsModel, source: str) -> Series:
    where = f"series.{model.id}"
    currency = validate_currency(model.currency, field=f"{where}.currency", source=source)
    sub_cap = None
    if model.sub_cap is not None:
        sub_cap = Cap(CapBasis(model.sub_cap.basis), model.sub_cap.amount, currency)
    tz = zone(offer.time_zone, field="time_zone", source=source)
    pricing = _pricing(model.pricing, tz, f"{where}.pricing", source)
    if model.tender_offer_consideration is None and pricing is None:
        raise InputError.single(
            "consideration-present",
            "give tender_offer_consideration, or a pricing block to compute it",
            source=source,
            field=f"{where}.tender_offer_consideration",
        )
    return Series(
        series_id=model.id,
        title=model.title,
        currency=currency,
        outstanding=model.outstanding,
        priority_level=model.priority_level,
        tender_offer_consideration=model.tender_offer_consideration or Decimal(0),
        early_tender_payment=model.early_tender_payment,
        minimum_denomination=model.minimum_denomination,
        increment=model.increment,
        outstanding_basis=OutstandingBasis(model.outstanding_basis),
        sub_cap=sub_cap,
        cusip=model.cusip,
        isin=model.isin,
        note=None if model.note is None else _note(model.note, f"{where}.note", source),
        assumed_terms=() if model.note is None else tuple(model.note.assumed),
        pricing=pricing,
        amount_basis=AmountBasis(model.amount_basis),
    )


def _note(model: NoteModel, field: str, source: str) -> NoteTerms:
    day_count = parse_day_count(model.day_count, field=f"{field}.day_count", source=source)
    try:
        accretion = None
        if model.accretion is not None:
            accretion = _accretion(model.accretion, f"{field}.accretion", source)
        return NoteTerms(
            coupon_rate=model.coupon_rate,
            maturity=model.maturity,
            frequency=model.frequency,
            day_count=day_count,
            issue_date=model.issue_date,
            first_coupon_date=model.first_coupon_date,
            penultimate_coupon_date=model.penultimate_coupon_date,
            par_call_date=model.par_call_date,
            call_price=model.call_price,
            accretion=accretion,
        )
    except InputError as err:
        raise InputError(
            replace(p, source=source, field=f"{field}.{p.field}" if p.field else field)
            for p in err.problems
        ) from None


def _accretion(model: AccretionModel, field: str, source: str) -> AccretionSchedule:
    if model.table:
        return accretion_from_table(list(model.table), model.cash_interest_start)
    price, rate = model.issue_price_per_1000, model.accretion_yield
    start, full = model.accrues_from, model.full_accretion_date
    if price is None or rate is None or start is None or full is None:
        raise InputError.single(
            "accretion-complete",
            "give a table, or issue_price_per_1000, accretion_yield, accrues_from and "
            "full_accretion_date",
            source=source,
            field=field,
        )
    return accretion_from_issue_price(
        start, price, rate, full, cash_interest_start=model.cash_interest_start
    )


def _pricing(
    model: PricingModel | None, tz: ZoneInfo, field: str, source: str
) -> FixedSpreadPricing | None:
    if model is None:
        return None
    reference = None if model.reference_yield is None else model.reference_yield / 100
    pricing_at = _instant(model.pricing_at, tz, f"{field}.pricing_at", source)
    if model.reference_bid_price is not None:
        reference = _yield_from_bid(model, pricing_at, field, source)
    return FixedSpreadPricing(
        spread_bps=model.spread_bps,
        reference_security=model.reference_security,
        convention=PricingConvention(model.convention),
        price_to=PriceTo(model.price_to),
        reference_yield=reference,
        reference_page=model.reference_page,
        pricing_at=pricing_at,
    )


def _yield_from_bid(
    model: PricingModel, pricing_at: datetime | None, field: str, source: str
) -> Decimal:
    """The reference yield from a Treasury bid, for the Treasury's own (T+1) settlement."""
    if model.reference_coupon is None or model.reference_maturity is None or pricing_at is None:
        raise InputError.single(
            "reference-bid-complete",
            "a reference bid price needs reference_coupon, reference_maturity and pricing_at",
            source=source,
            field=field,
        )
    settles = settlement_date(pricing_at.date(), 1, "US-SIFMA")
    bid = model.reference_bid_price or ""
    exact = treasury_yield_from_bid(model.reference_coupon, model.reference_maturity, settles, bid)
    return round_half_up(exact, model.reference_yield_places)


def _proration(model: OfferTermsModel) -> Proration:
    p = model.proration
    enabled = p.enabled
    if model.aggregate_cap is not None and model.aggregate_cap.basis == "total_consideration":
        enabled = False  # this basis means "bought whole or not at all" (spec R2.3)
    return Proration(
        enabled=enabled,
        mode=ProrationMode(p.mode),
        fixed_factor=p.fixed_factor,
        min_denomination_policy=MinDenominationPolicy(p.min_denomination_policy),
        leftover=Leftover(p.leftover),
        capacity_runs_out=CapacityRunsOut(p.capacity_runs_out),
        factor_display_places=p.factor_display_places,
    )


def _fx(model: FxModel, tz: ZoneInfo, field: str, source: str) -> FxRate:
    base = validate_currency(model.base, field=f"{field}.base", source=source)
    quote = validate_currency(model.quote, field=f"{field}.quote", source=source)
    if model.rate <= 0 or base == quote:
        raise InputError.single(
            "fx-rate-valid",
            "an FX rate must be positive and join two currencies",
            source=source,
            field=field,
        )
    fixed_at = _instant(model.fixed_at, tz, f"{field}.fixed_at", source)
    return FxRate(base, quote, model.rate, source=model.source, fixed_at=fixed_at)


def amendment_from_model(model: AmendmentModel, tz: ZoneInfo, field: str, source: str) -> Amendment:
    effective = _instant(model.effective_at, tz, f"{field}.effective_at", source)
    if effective is None:  # pragma: no cover - required by the model
        raise InputError.single("required", "effective_at is required", source=source, field=field)
    return Amendment(
        amendment_id=model.id,
        effective_at=effective,
        description=model.description,
        aggregate_cap_amount=model.aggregate_cap_amount,
        sub_cap_amounts=dict(model.sub_cap_amounts),
        pool_cap_amounts=dict(model.pool_cap_amounts),
        expiration_at=_instant(model.expiration_at, tz, f"{field}.expiration_at", source),
        early_tender_at=_instant(model.early_tender_at, tz, f"{field}.early_tender_at", source),
        withdrawal_at=_instant(model.withdrawal_at, tz, f"{field}.withdrawal_at", source),
        reopen_withdrawal_until=_instant(
            model.reopen_withdrawal_until, tz, f"{field}.reopen_withdrawal_until", source
        ),
        considerations={
            sid: ConsiderationChange(c.tender_offer_consideration, c.early_tender_payment)
            for sid, c in model.considerations.items()
        },
        fx_rates=tuple(
            _fx(f, tz, f"{field}.fx_rates[{i}]", source) for i, f in enumerate(model.fx_rates)
        ),
        terminate_series=tuple(model.terminate_series),
        final_settlement_date=model.final_settlement_date,
        early_settlement_date=model.early_settlement_date,
        reference_yields={sid: y / 100 for sid, y in model.reference_yields.items()},
    )
