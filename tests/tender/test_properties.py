"""Hypothesis properties of the acceptance waterfall over random offers and tender books."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import timedelta
from fractions import Fraction
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from corpact.tender import allocate
from corpact.tender.allocation import Allocation, GroupOutcome
from corpact.tender.capacity import nodes_for, weight
from corpact.tender.instructions import InstructionLedger, Tender, Withdrawal
from corpact.tender.terms import (
    CapacityRunsOut,
    Leftover,
    MinDenominationPolicy,
    OfferTerms,
    Round,
)
from tests.tender.builders import EARLY, EXPIRATION, build_terms, offer_document, series_doc


@st.composite
def offers(draw: st.DrawFn) -> OfferTerms:
    count = draw(st.integers(1, 5))
    shared_levels = draw(st.booleans())
    series = []
    for i in range(count):
        level = draw(st.integers(1, 3)) if shared_levels else i + 1
        increment = draw(st.sampled_from([1000, 1000, 2000]))
        minimum = increment * draw(st.sampled_from([1, 1, 2]))
        extra: dict[str, Any] = {
            "currency": draw(st.sampled_from(["USD", "USD", "EUR"])),
            "increment": increment,
            "minimum_denomination": minimum,
            "tender_offer_consideration": str(draw(st.integers(800, 1100))) + ".50",
            "early_tender_payment": draw(st.sampled_from(["0", "20.00", "30.00", "50.00"])),
        }
        if draw(st.booleans()):
            extra["sub_cap"] = {"amount": str(1000 * draw(st.integers(0, 60000)))}
        series.append(series_doc(f"s{i}", level, 60_000_000, **extra))
    cap_basis = draw(st.sampled_from(["principal", "purchase_price", "total_consideration", None]))
    overrides: dict[str, Any] = {
        "allow_shared_priority_levels": True,
        "early_tenders_have_priority": draw(st.booleans()),
        "fx_rates": [
            {
                "base": "EUR",
                "quote": "USD",
                "rate": draw(st.sampled_from(["1.2973", "1.0850", "0.9"])),
                "source": "test",
            }
        ],
        "proration": {
            "min_denomination_policy": draw(
                st.sampled_from(["adjust_down", "return_all", "accept_all"])
            ),
            "leftover": draw(st.sampled_from(["unfilled", "unfilled", "solve_factor"])),
            "capacity_runs_out": draw(st.sampled_from(["stop", "skip"])),
            "enabled": draw(st.booleans()) or cap_basis == "principal",
        },
    }
    if cap_basis is not None:
        overrides["aggregate_cap"] = {
            "basis": cap_basis,
            "amount": str(draw(st.integers(0, 120_000_000))) + ".25",
            "currency": "USD",
        }
    return build_terms(offer_document(series, **overrides))[0]


@st.composite
def books(draw: st.DrawFn, terms: OfferTerms) -> list[Tender]:
    tenders = []
    for n in range(draw(st.integers(0, 25))):
        series = draw(st.sampled_from(terms.series))
        steps = draw(st.integers(int(series.minimum_denomination // series.increment), 8000))
        early = draw(st.booleans())
        base = terms.deadlines.launch_at if early else EARLY
        tenders.append(
            Tender(
                f"i{n:03d}",
                base + timedelta(minutes=draw(st.integers(1, 5000))),
                series.series_id,
                series.increment * steps,
                guaranteed_delivery=draw(st.booleans()),
            )
        )
    return tenders


def _cap_totals(terms: OfferTerms, allocation: Allocation) -> dict[str, Fraction]:
    totals: dict[str, Fraction] = {}
    by_id = terms.series_by_id()
    for result in allocation.tenders:
        series = by_id[result.tender.series_id]
        round_ = terms.deadlines.round_of(result.tender.received_at)
        for node in nodes_for(terms, series):
            w = weight(terms, series, round_, node)
            totals[node.key] = totals.get(node.key, Fraction(0)) + w * Fraction(
                result.principal_accepted
            )
    return totals


@given(data=st.data())
def test_caps_and_tenders_bound_every_acceptance(data: st.DataObject) -> None:
    terms = data.draw(offers())
    tenders = data.draw(books(terms))
    allocation = allocate(terms, tenders, EXPIRATION)
    by_id = terms.series_by_id()
    for series in terms.series:
        for node in nodes_for(terms, series):
            assert _cap_totals(terms, allocation).get(node.key, Fraction(0)) <= node.cap.amount
    for result in allocation.tenders:
        series = by_id[result.tender.series_id]
        accepted, returned = result.principal_accepted, result.principal_returned
        assert 0 <= accepted <= result.tender.principal
        assert accepted % series.increment == 0 and returned % series.increment == 0
        assert accepted == 0 or accepted >= series.minimum_denomination
        assert returned == 0 or returned >= series.minimum_denomination
        if not terms.proration.enabled:
            assert accepted in (0, result.tender.principal)


@given(data=st.data())
def test_under_stop_nothing_below_a_shared_cap_that_ran_out(data: st.DataObject) -> None:
    terms = data.draw(offers())
    terms = replace(
        terms, proration=replace(terms.proration, capacity_runs_out=CapacityRunsOut.STOP)
    )
    allocation = allocate(terms, data.draw(books(terms)), EXPIRATION)
    exhausted = False
    for group in allocation.groups:
        if exhausted:
            assert group.principal_accepted == 0, group
        shared = group.binding_cap is not None and not group.binding_cap.startswith("series:")
        if shared and group.outcome in {GroupOutcome.PRORATED, GroupOutcome.REFUSED}:
            exhausted = True


@given(data=st.data())
def test_early_tenders_are_served_before_any_late_one(data: st.DataObject) -> None:
    terms = data.draw(offers())
    terms = replace(
        terms,
        early_tenders_have_priority=True,
        proration=replace(terms.proration, capacity_runs_out=CapacityRunsOut.STOP),
    )
    allocation = allocate(terms, data.draw(books(terms)), EXPIRATION)
    late_got_some = any(
        t.round is Round.LATE and t.principal_accepted > 0 for t in allocation.tenders
    )
    if late_got_some:
        for group in allocation.groups:
            if (
                group.round is Round.EARLY
                and group.binding_cap
                and not group.binding_cap.startswith("series:")
            ):
                assert group.outcome == GroupOutcome.ACCEPTED_IN_FULL


@given(data=st.data(), seed=st.integers(0, 2**32))
def test_result_does_not_depend_on_input_order(data: st.DataObject, seed: int) -> None:
    terms = data.draw(offers())
    tenders = data.draw(books(terms))
    shuffled = list(tenders)
    random.Random(seed).shuffle(shuffled)
    first = allocate(terms, tenders, EXPIRATION)
    second = allocate(terms, shuffled, EXPIRATION)
    assert {t.tender.instruction_id: t.principal_accepted for t in first.tenders} == {
        t.tender.instruction_id: t.principal_accepted for t in second.tenders
    }


@given(data=st.data())
def test_solving_the_factor_fills_at_least_as_much_and_never_overfills(data: st.DataObject) -> None:
    terms = data.draw(offers())
    terms = replace(
        terms,
        proration=replace(
            terms.proration, enabled=True, min_denomination_policy=MinDenominationPolicy.ADJUST_DOWN
        ),
    )
    tenders = data.draw(books(terms))
    unfilled = allocate(terms, tenders, EXPIRATION)
    solved_terms = replace(
        terms, proration=replace(terms.proration, leftover=Leftover.SOLVE_FACTOR)
    )
    solved = allocate(solved_terms, tenders, EXPIRATION)
    for group_u, group_s in zip(unfilled.groups, solved.groups, strict=True):
        if (
            group_u.binding_cap is not None
            and group_u.principal_accepted != group_s.principal_accepted
        ):
            break  # later groups see different remaining capacity; compare the first difference
        assert group_s.principal_accepted >= group_u.principal_accepted
    for key, total in _cap_totals(solved_terms, solved).items():
        cap = next(n.cap for s in terms.series for n in nodes_for(terms, s) if n.key == key)
        assert total <= cap.amount


@given(data=st.data())
def test_withdrawn_instructions_get_nothing(data: st.DataObject) -> None:
    terms = data.draw(offers())
    tenders = data.draw(books(terms))
    ledger = InstructionLedger(terms)
    for t in sorted(tenders, key=lambda t: t.received_at):
        ledger.offer(t)  # a tender that would exceed the outstanding amount is refused here
    withdrawn = set()
    for t in list(ledger.tenders.values()):
        if data.draw(st.booleans()) and t.received_at < EARLY - timedelta(minutes=1):
            w = Withdrawal(
                f"w-{t.instruction_id}", t.received_at + timedelta(seconds=30), t.instruction_id
            )
            if not ledger.offer(w):
                withdrawn.add(t.instruction_id)
    allocation = allocate(terms, ledger.active_tenders(EXPIRATION), EXPIRATION)
    assert withdrawn.isdisjoint({t.tender.instruction_id for t in allocation.tenders})
    assert sum(t.principal_accepted for t in allocation.tenders) <= sum(
        ledger.tenders[i].principal for i in ledger.tenders if i not in withdrawn
    )
