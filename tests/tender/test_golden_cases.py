"""Golden tests from the other published tender cases (Kellogg 2019, Warrior Met Coal 2023,
Rogers 2025, Lowe's 2020): each published outcome reproduced, or bounded as the case says."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any

import pytest

from corpact.tender import allocate, terms_as_of
from corpact.tender.allocation import GroupOutcome
from corpact.tender.instructions import Tender
from corpact.tender.proration import display_factor
from corpact.tender.terms import CapacityRunsOut, CapBasis
from tests.tender.builders import (
    EXPIRATION,
    LAUNCH,
    build_terms,
    case,
    offer_document,
    series_doc,
    tender,
)

KELLOGG = case("kellogg-2019")
HCC = case("hcc-2023")
ROGERS = case("rogers-2025")
LOWES = case("lowes-2020")


def checks(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["id"]: c for c in data["checks"]}


def kellogg_document(raised: bool) -> dict[str, Any]:
    series = []
    for s in KELLOGG["offers"][0]["series"]:
        info = next(x for x in KELLOGG["series"] if x["id"] == s)
        sublimit = (
            info["sublimit"]["raised_to"]
            if raised and info["sublimit"]["raised_to"]
            else info["sublimit"]["initial"]
        )
        series.append(
            series_doc(s, info["priority"], info["outstanding"], sub_cap={"amount": str(sublimit)})
        )
    return offer_document(series, aggregate_cap={"amount": "500000000", "currency": "USD"})


def test_k19_04_05_capped_allocation_with_raised_sublimits() -> None:
    terms, _ = build_terms(kellogg_document(raised=True))
    tendered = checks(KELLOGG)["K19-04"]["given"]["tendered"]
    tenders = [tender(f"k{i}", sid, amount) for i, (sid, amount) in enumerate(tendered.items())]
    allocation = allocate(terms, tenders, EXPIRATION)
    expected = checks(KELLOGG)["K19-04"]["expect"]["with_one_instruction_per_series"]
    assert {sid: allocation.accepted_principal(sid) for sid in tendered} == {
        k: Decimal(v) for k, v in expected.items()
    }
    level3 = next(g for g in allocation.groups if g.series_id == "k-2.650-2023")
    assert level3.binding_cap == "aggregate" and level3.outcome == GroupOutcome.PRORATED
    level4 = next(g for g in allocation.groups if g.series_id == "k-3.400-2027")
    assert level4.outcome == GroupOutcome.STOPPED


def test_k19_04_level3_with_many_instructions_stays_in_the_published_band() -> None:
    terms, _ = build_terms(kellogg_document(raised=True))
    tendered = checks(KELLOGG)["K19-04"]["given"]["tendered"]
    tenders = [
        tender("l1", "k-4.000-2020", tendered["k-4.000-2020"]),
        tender("l2", "k-3.250-2021", tendered["k-3.250-2021"]),
        tender("l4", "k-3.400-2027", tendered["k-3.400-2027"]),
    ]
    # 300,986,000 of level 3 from 61 holders of uneven size.
    sizes = [1000 * (1000 + 97 * i) for i in range(60)]
    sizes.append(300986000 - sum(sizes))
    tenders += [
        tender(f"l3-{i}", "k-2.650-2023", size, offset_minutes=i) for i, size in enumerate(sizes)
    ]
    allocation = allocate(terms, tenders, EXPIRATION)
    level3 = allocation.accepted_principal("k-2.650-2023")
    assert Decimal(50000000 - 1000 * len(sizes)) < level3 <= Decimal(50000000)
    assert (
        allocation.accepted_principal("k-3.400-2027") == 0
    )  # K19-05: the shortfall is not passed down
    assert allocation.accepted_principal("k-4.000-2020") == 248053000


def test_k19_06_any_and_all_offer_pays_toc_to_late_tenders() -> None:
    doc = offer_document(
        [
            series_doc(
                "k-4.150-2019",
                1,
                500000000,
                tender_offer_consideration="974.95",
                early_tender_payment="30.00",
            )
        ]
    )
    terms, _ = build_terms(doc)
    expected = checks(KELLOGG)["K19-06"]["expect"]
    allocation = allocate(
        terms,
        [
            tender("e", "k-4.150-2019", expected["accepted_early"]),
            tender("l", "k-4.150-2019", expected["accepted_late"], early=False),
        ],
        EXPIRATION,
    )
    assert allocation.accepted_principal("k-4.150-2019") == expected["accepted_total"]
    late = next(t for t in allocation.tenders if t.tender.instruction_id == "l")
    assert late.price_per_1000 == Decimal(expected["late_price_per_1000"])
    assert late.early_tender_payment_amount == 0


def test_k19_08_sublimit_amendment_is_a_new_terms_version() -> None:
    doc = kellogg_document(raised=False)
    doc["amendments"] = [
        {
            "id": "sublimits",
            "effective_at": (LAUNCH + timedelta(days=10)).isoformat(),
            "sub_cap_amounts": {"k-4.000-2020": "248053000", "k-3.250-2021": "201947000"},
        }
    ]
    base, amendments = build_terms(doc)
    before = terms_as_of(base, amendments, LAUNCH + timedelta(days=1))
    after = terms_as_of(base, amendments, LAUNCH + timedelta(days=11))
    caps = {s.series_id: s.sub_cap.amount for s in after.series if s.sub_cap}
    assert before.version == 0 and after.version == 1
    assert (
        caps["k-4.000-2020"] + caps["k-3.250-2021"]
        == checks(KELLOGG)["K19-08"]["expect"]["level1_plus_level2"]
    )
    assert after.aggregate_cap is not None and after.aggregate_cap.amount == 500000000


def hcc_terms() -> Any:
    offer = HCC["offers"][0]
    series = HCC["series"][0]
    doc = offer_document(
        [
            series_doc(
                series["id"],
                1,
                series["outstanding"],
                tender_offer_consideration=offer["price_per_1000"],
                early_tender_payment="0",
            )
        ],
        aggregate_cap={"amount": str(offer["aggregate_cap"]["amount"]), "currency": "USD"},
        proration={"mode": "fixed", "fixed_factor": HCC["derived"]["factor_published_decimal"]},
    )
    doc["deadlines"].pop("early_tender_at")
    return build_terms(doc)[0]


def test_hcc_01_published_factor_is_cap_over_outstanding_truncated() -> None:
    exact = Fraction(150000000, 302618000)
    assert (
        f"{display_factor(exact * 100, 4)}%" == checks(HCC)["HCC-01"]["expect"]["factor_published"]
    )


def test_hcc_02_03_04_fixed_factor_floors_each_tender() -> None:
    terms = hcc_terms()
    allocation = allocate(terms, [tender("h1", "hcc-7.875-2028", 200000)], EXPIRATION)
    expected = checks(HCC)["HCC-02"]["expect"]
    result = allocation.tenders[0]
    assert result.principal_accepted == expected["accepted"]
    assert result.principal_returned == expected["not_accepted"]
    assert result.price_per_1000 == Decimal(
        checks(HCC)["HCC-03"]["expect"]["restricted_payment_offer_per_1000"]
    )
    assert result.purchase_price_amount == Decimal(checks(HCC)["HCC-04"]["expect"]["cash"])


def test_hcc_05_fixed_factor_does_not_depend_on_the_amount_tendered() -> None:
    terms = hcc_terms()
    everything = allocate(terms, [tender("all", "hcc-7.875-2028", 302618000)], EXPIRATION)
    assert everything.accepted_principal("hcc-7.875-2028") == 149999000
    # 2,000 x 0.495674 = 991.3: floors to 0; nothing below the minimum denomination is bought.
    small = allocate(terms, [tender("s", "hcc-7.875-2028", 2000)], EXPIRATION)
    assert small.accepted_principal("hcc-7.875-2028") == 0


def rogers_terms(cap: int) -> Any:
    series = [
        series_doc(
            s["id"],
            s["priority"],
            s["outstanding_musd"] * 1_000_000,
            tender_offer_consideration=s["tc_per_1000"],
            early_tender_payment="0",
        )
        for s in ROGERS["series"]
    ]
    doc = offer_document(
        series,
        aggregate_cap={"basis": "total_consideration", "amount": str(cap), "currency": "USD"},
    )
    doc["deadlines"].pop("early_tender_at")
    doc["deadlines"].pop("withdrawal_at")
    return build_terms(doc)[0]


def rogers_tenders(with_gd: bool) -> list[Tender]:
    tenders = [tender(f"r-{s['id']}", s["id"], s["tendered"]) for s in ROGERS["series"]]
    if with_gd:
        tenders += [
            tender(f"gd-{s['id']}", s["id"], s["guaranteed_delivery"], guaranteed_delivery=True)
            for s in ROGERS["series"]
            if s["guaranteed_delivery"]
        ]
    return tenders


@pytest.mark.parametrize("partial_fit", ["stop", "skip"])
@pytest.mark.parametrize("with_gd", [False, True])
def test_rog_10_no_proration_under_the_raised_cap(partial_fit: str, with_gd: bool) -> None:
    from dataclasses import replace

    terms = rogers_terms(1400000000)
    runs_out = CapacityRunsOut(partial_fit)
    terms = replace(terms, proration=replace(terms.proration, capacity_runs_out=runs_out))
    assert (
        terms.aggregate_cap is not None
        and terms.aggregate_cap.basis is CapBasis.TOTAL_CONSIDERATION
    )
    assert terms.proration.enabled is False
    allocation = allocate(terms, rogers_tenders(with_gd), EXPIRATION)
    expect = checks(ROGERS)["ROG-10"]["expect"]
    for s in ROGERS["series"]:
        delivered = next(t for t in allocation.tenders if t.tender.instruction_id == f"r-{s['id']}")
        assert delivered.principal_accepted == expect["accepted"][s["id"]]
    total = sum((t.purchase_price_amount for t in allocation.tenders), Decimal(0))
    key = (
        "total_consideration_levels_1_5_incl_gd"
        if with_gd
        else "total_consideration_levels_1_5_excl_gd"
    )
    assert total == Decimal(expect[key])


def test_rog_11_original_cap_takes_levels_one_to_four() -> None:
    allocation = allocate(rogers_terms(1250000000), rogers_tenders(True), EXPIRATION)
    accepted_levels = sorted(
        {s["priority"] for s in ROGERS["series"] if allocation.accepted_principal(s["id"]) > 0}
    )
    assert accepted_levels == checks(ROGERS)["ROG-11"]["expect"]["accepted_levels"]
    total = sum((t.purchase_price_amount for t in allocation.tenders), Decimal(0))
    assert total == Decimal(checks(ROGERS)["ROG-11"]["expect"]["cumulative_tc_levels_1_4_incl_gd"])


def test_rog_09_tendered_totals() -> None:
    assert (
        sum(s["tendered"] for s in ROGERS["series"])
        == checks(ROGERS)["ROG-09"]["expect"]["tendered_total"]
    )
    assert (
        sum(s["guaranteed_delivery"] for s in ROGERS["series"])
        == checks(ROGERS)["ROG-09"]["expect"]["gd_total"]
    )


def lowes_terms() -> Any:
    series = [
        series_doc(s["id"], s["priority"], 1_000_000_000, tender_offer_consideration="1200.00")
        for s in LOWES["series"]
    ]
    for doc in series:
        if doc["id"] == "low-5.125-2050":
            doc["sub_cap"] = {"amount": "500000000"}
    document = offer_document(
        series,
        aggregate_cap={"basis": "purchase_price", "amount": "3500000000.00", "currency": "USD"},
        early_tenders_have_priority=True,
        amendments=[
            {
                "id": "early-results",
                "effective_at": (LAUNCH + timedelta(days=12)).isoformat(),
                "aggregate_cap_amount": "3982632051.62",
                "sub_cap_amounts": {"low-5.125-2050": "812724000"},
            }
        ],
    )
    return build_terms(document)


def test_low_01_02_eighteen_levels_and_a_versioned_cap_with_cents() -> None:
    base, amendments = lowes_terms()
    assert base.levels() == list(range(1, 19))
    after = terms_as_of(base, amendments, EXPIRATION)
    assert after.aggregate_cap is not None and after.aggregate_cap.amount == Decimal(
        "3982632051.62"
    )
    sub = next(s.sub_cap for s in after.series if s.series_id == "low-5.125-2050")
    assert sub is not None and sub.amount == 812724000
    assert after.version == 1 and base.aggregate_cap is not None
    assert base.aggregate_cap.amount == Decimal("3500000000.00")


def test_low_03_04_early_level_18_ranks_ahead_of_late_level_1_at_their_own_prices() -> None:
    base, _ = lowes_terms()
    from dataclasses import replace

    assert base.aggregate_cap is not None
    terms = replace(base, aggregate_cap=replace(base.aggregate_cap, amount=Decimal("1230000.00")))
    early_18 = tender("early-18", "low-4.500-2030", 1_000_000)
    late_1 = tender("late-1", "low-7.110-2037", 1_000_000, early=False)
    allocation = allocate(terms, [late_1, early_18], EXPIRATION)
    accepted = {t.tender.instruction_id: t.principal_accepted for t in allocation.tenders}
    assert accepted["early-18"] == 1_000_000  # 1,230,000 at TC 1,230.00: fills the cap
    assert accepted["late-1"] == 0
    aggregate = next(c for c in allocation.caps if c.key == "aggregate")
    assert aggregate.used == Fraction(1230000)
    # With room for both, the late tender counts at TOC (1,200.00), not TC.
    roomy = replace(base, aggregate_cap=replace(base.aggregate_cap, amount=Decimal("2430000.00")))
    both = allocate(roomy, [late_1, early_18], EXPIRATION)
    assert next(c for c in both.caps if c.key == "aggregate").used == Fraction(2430000)
