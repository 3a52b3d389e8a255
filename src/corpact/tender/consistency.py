"""Rules that terms must satisfy as a whole: terms that contradict themselves are refused."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence

from corpact.errors import Problem
from corpact.tender.amendments import Amendment
from corpact.tender.terms import CapBasis, OfferTerms, ProrationMode


def consistency_problems(
    terms: OfferTerms, amendments: Sequence[Amendment], source: str
) -> list[Problem]:
    problems: list[Problem] = []

    def add(rule: str, message: str, field: str) -> None:
        problems.append(Problem(rule=rule, message=message, source=source, field=field))

    _series_rules(terms, add)
    _cap_rules(terms, add)
    _deadline_rules(terms, add)
    _amendment_rules(terms, amendments, add)
    return problems


# emit(rule, message, field)
Emit = Callable[[str, str, str], None]


def _series_rules(terms: OfferTerms, emit: Emit) -> None:
    ids = Counter(s.series_id for s in terms.series)
    for series_id, count in ids.items():
        if count > 1:
            emit("series-id-unique", f"series id {series_id!r} appears {count} times", "series")
    if not terms.allow_shared_priority_levels:
        levels = Counter(s.priority_level for s in terms.series)
        for level, count in sorted(levels.items()):
            if count > 1:
                names = [s.series_id for s in terms.series if s.priority_level == level]
                emit(
                    "one-series-per-level",
                    f"priority level {level} is shared by {', '.join(names)}, but the offer does "
                    "not allow shared levels (set allow_shared_priority_levels = true)",
                    "series.priority_level",
                )
    for s in terms.series:
        where = f"series.{s.series_id}"
        if s.outstanding <= 0:
            emit(
                "outstanding-positive",
                "principal outstanding must be positive",
                f"{where}.outstanding",
            )
        if any(d != d.to_integral_value() for d in (s.increment, s.minimum_denomination)):
            # Allocation floors principal to whole multiples of the increment, in whole units.
            emit(
                "denomination-whole",
                f"increment ({s.increment:f}) and minimum denomination "
                f"({s.minimum_denomination:f}) must be whole units of the currency",
                f"{where}.increment",
            )
        elif s.increment <= 0 or s.minimum_denomination < s.increment:
            emit(
                "denomination-order",
                f"need 0 < increment ({s.increment}) <= minimum denomination "
                f"({s.minimum_denomination})",
                f"{where}.increment",
            )
        elif s.minimum_denomination % s.increment != 0:
            emit(
                "denomination-multiple",
                "minimum denomination must be a multiple of the increment",
                f"{where}.minimum_denomination",
            )
        if s.tender_offer_consideration < 0 or s.early_tender_payment < 0:
            emit("price-non-negative", "prices per 1,000 must be non-negative", f"{where}")
        # A cap is never negative: the terms file refuses it and `Cap` cannot hold it.
        cap = s.sub_cap
        if cap is not None and cap.basis is CapBasis.PRINCIPAL and cap.amount > s.outstanding:
            emit(
                "sub-cap-within-outstanding",
                f"sub-cap {cap.amount:,} is above the {s.outstanding:,} outstanding",
                f"{where}.sub_cap.amount",
            )


def _cap_rules(terms: OfferTerms, emit: Emit) -> None:
    known = {s.series_id for s in terms.series}
    caps = []
    if terms.aggregate_cap is not None:
        caps.append(
            ("aggregate_cap", terms.aggregate_cap.currency, [s.series_id for s in terms.series])
        )
    seen_in_pool: dict[str, str] = {}
    for pool in terms.pools:
        caps.append((f"pools.{pool.pool_id}", pool.cap.currency, list(pool.series_ids)))
        for sid in pool.series_ids:
            if sid not in known:
                emit(
                    "pool-series-known",
                    f"pool {pool.pool_id} names unknown series {sid!r}",
                    f"pools.{pool.pool_id}.series",
                )
            if sid in seen_in_pool:
                emit(
                    "pool-disjoint",
                    f"series {sid} is in pools {seen_in_pool[sid]} and {pool.pool_id}",
                    f"pools.{pool.pool_id}.series",
                )
            seen_in_pool[sid] = pool.pool_id
    by_id = terms.series_by_id()
    for field, currency, series_ids in caps:
        for sid in series_ids:
            series = by_id.get(sid)
            if series is None or series.currency == currency:
                continue
            if terms.fx_record(series.currency, currency) is None:
                emit(
                    "fx-rate-present",
                    f"series {sid} is in {series.currency} but {field} is in {currency}, and the "
                    f"terms fix no {series.currency}/{currency} rate",
                    "fx_rates",
                )
    for condition in terms.conditions:
        for sid in condition.series_ids:
            if sid not in known:
                emit(
                    "condition-series-known",
                    f"condition {condition.condition_id} names unknown series {sid!r}",
                    "conditions",
                )
    proration = terms.proration
    if proration.mode is ProrationMode.FIXED:
        factor = proration.fixed_factor
        if factor is not None and not 0 < factor <= 1:
            emit(
                "fixed-factor-range",
                "a fixed proration factor must be in (0, 1]",
                "proration.fixed_factor",
            )


def _deadline_rules(terms: OfferTerms, emit: Emit) -> None:
    d = terms.deadlines
    if d.expiration_at <= d.launch_at:
        emit("deadline-order", "expiration must come after launch", "deadlines.expiration_at")
    if d.early_tender_at is not None and not d.launch_at < d.early_tender_at <= d.expiration_at:
        emit(
            "deadline-order",
            "the early tender deadline must fall between launch and expiration",
            "deadlines.early_tender_at",
        )
    if d.withdrawal_at is not None and not d.launch_at < d.withdrawal_at <= d.expiration_at:
        emit(
            "deadline-order",
            "the withdrawal deadline must fall between launch and expiration",
            "deadlines.withdrawal_at",
        )
    s = terms.settlement
    if s.early_settlement_date is not None and s.early_settlement_date > s.final_settlement_date:
        emit(
            "settlement-order",
            "early settlement cannot follow final settlement",
            "settlement.early_settlement_date",
        )
    if s.final_settlement_date < d.expiration_at.astimezone(terms.time_zone).date():
        emit(
            "settlement-order",
            "final settlement cannot precede expiration",
            "settlement.final_settlement_date",
        )


def _amendment_rules(terms: OfferTerms, amendments: Sequence[Amendment], emit: Emit) -> None:
    by_id = terms.series_by_id()
    pools = {p.pool_id for p in terms.pools}
    ids = Counter(a.amendment_id for a in amendments)
    for aid, count in ids.items():
        if count > 1:
            emit("amendment-id-unique", f"amendment id {aid!r} appears {count} times", "amendments")
    for a in amendments:
        where = f"amendments.{a.amendment_id}"
        if a.effective_at < terms.deadlines.launch_at:
            emit(
                "amendment-after-launch",
                "an amendment cannot take effect before launch",
                f"{where}.effective_at",
            )
        if a.aggregate_cap_amount is not None and terms.aggregate_cap is None:
            emit(
                "amendment-cap-exists",
                "the offer has no aggregate cap to change",
                f"{where}.aggregate_cap_amount",
            )
        for sid, amount in a.sub_cap_amounts.items():
            series = by_id.get(sid)
            if series is None or series.sub_cap is None:
                emit(
                    "amendment-sub-cap-exists",
                    f"series {sid!r} has no sub-cap to change",
                    f"{where}.sub_cap_amounts",
                )
            elif series.sub_cap.basis is CapBasis.PRINCIPAL and amount > series.outstanding:
                emit(
                    "sub-cap-within-outstanding",
                    f"new sub-cap {amount:,} for {sid} is above the "
                    f"{series.outstanding:,} outstanding",
                    f"{where}.sub_cap_amounts.{sid}",
                )
        for pid in a.pool_cap_amounts:
            if pid not in pools:
                emit("amendment-pool-exists", f"unknown pool {pid!r}", f"{where}.pool_cap_amounts")
        for sid in a.reference_yields:
            series = by_id.get(sid)
            if series is None or series.pricing is None:
                emit(
                    "amendment-pricing-exists",
                    f"series {sid!r} is not priced at a fixed spread",
                    f"{where}.reference_yields",
                )
        for sid in a.terminate_series:
            if sid not in by_id:
                emit(
                    "amendment-series-known", f"unknown series {sid!r}", f"{where}.terminate_series"
                )
        for sid in a.considerations:
            if sid not in by_id:
                emit("amendment-series-known", f"unknown series {sid!r}", f"{where}.considerations")
