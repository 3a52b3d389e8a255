"""Golden tests: the Level 3 2004 reference offer (case file level3-2004.yaml)."""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from fractions import Fraction
from typing import Any

import pytest

from corpact.cli.common import examples_root
from corpact.money import FxRate, Money, Rounding
from corpact.tender import allocate, build_ledger, load_terms, read_instructions_csv, run_offer
from corpact.tender.allocation import GroupOutcome
from corpact.tender.examples import level3_instruction_rows
from corpact.tender.instructions import Tender
from corpact.tender.synthetic import rows_to_csv
from corpact.tender.terms import OfferTerms
from tests.cli_helpers import run_cli
from tests.tender.builders import NEW_YORK, case

CASE = case("level3-2004")
CHECKS = {c["id"]: c for c in CASE["checks"]}
FOLDER = examples_root() / "level3-2004"
OFFER = FOLDER / "offer.toml"
ETD = datetime(2004, 11, 12, 17, 0, tzinfo=NEW_YORK)
SERIES = [s["id"] for s in CASE["series"]]


def expect(check_id: str) -> dict[str, Any]:
    value = CHECKS[check_id]["expect"]
    assert isinstance(value, dict)
    return value


def snapshot_tenders(terms: OfferTerms, extra: list[Tender] | None = None) -> list[Tender]:
    """One instruction per series holding the published early-tender amount (the case's input)."""
    tenders = [
        Tender(
            f"snap-{s['id']}",
            datetime(2004, 11, 1, tzinfo=NEW_YORK),
            s["id"],
            Decimal(s["tendered_by_etd"]),
        )
        for s in CASE["series"]
    ]
    return tenders + (extra or [])


def terms_with_cap(cap: int, early_priority: bool = False) -> OfferTerms:
    terms, _ = load_terms(OFFER)
    assert terms.aggregate_cap is not None
    from dataclasses import replace

    return replace(
        terms,
        aggregate_cap=replace(terms.aggregate_cap, amount=Decimal(cap)),
        early_tenders_have_priority=early_priority,
    )


def test_shipped_instructions_are_the_documented_synthetic_split() -> None:
    assert (FOLDER / "instructions-early.csv").read_text() == rows_to_csv(
        level3_instruction_rows(False)
    )
    assert (FOLDER / "instructions.csv").read_text() == rows_to_csv(level3_instruction_rows(True))


def test_l3_01_02_usd_equivalent_total_at_1_2973() -> None:
    usd = sum(Decimal(s["tendered_by_etd"]) for s in CASE["series"] if s["currency"] == "USD")
    assert usd == expect("L3-01")["usd_tendered_by_etd"]
    fx = FxRate("EUR", "USD", Decimal(CASE["derived"]["fx_usd_per_eur"]["value"]), source="derived")
    eur = fx.convert(Money(Decimal(284461000), "EUR")).amount
    assert usd + eur == Decimal(expect("L3-02")["unrounded"])
    assert (
        Rounding.FLOOR_UNIT.apply(usd + eur) == expect("L3-02")["aggregate_principal_tendered_usd"]
    )


def test_reference_table_through_the_cli_json() -> None:
    result = run_cli(
        "tender",
        "results",
        str(OFFER),
        str(FOLDER / "instructions-early.csv"),
        "--as-of",
        "2004-11-12T17:00",
        "--format",
        "json",
    )
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    rows = {r["series"]: r for r in data["series"]}
    for s in CASE["series"]:
        row = rows[s["id"]]
        assert row["priority_level"] == s["priority"]
        assert Decimal(row["principal_outstanding"]) == s["outstanding"]
        assert Decimal(row["maximum_offer_amount"]) == s["max_offer_amount"]
        assert Decimal(row["tendered"]) == s["tendered_by_etd"]
        assert row["percent_of_outstanding_tendered"] == expect("L3-03")[s["id"]]
        assert row["tender_offer_consideration"] == s["toc_per_1000"]
        assert row["early_tender_payment"] == s["etp_per_1000"]
        assert row["total_consideration"] == expect("L3-04")[s["id"]]
    assert data["totals"]["tendered_equivalent"] == "1104727255"
    assert "1.2973 USD per EUR" in data["totals"]["fx"]


def test_reference_table_through_the_cli_terminal_output() -> None:
    result = run_cli(
        "tender",
        "results",
        str(OFFER),
        str(FOLDER / "instructions-early.csv"),
        "--as-of",
        "2004-11-12T17:00",
    )
    assert result.exit_code == 0, result.stderr
    for figure in (
        "20.3%",
        "63.3%",
        "64.1%",
        "88.7%",
        "$1,104,727,255",
        "1.2973 USD per EUR",
        "$1,203,652,000",
        "EUR320,826,000",
        "$857.50",
        "$887.50",
        "EUR850.00",
    ):
        assert figure in result.stdout


def test_l3_05_06_allocation_under_the_450_million_cap() -> None:
    terms = terms_with_cap(450000000)
    allocation = allocate(terms, snapshot_tenders(terms), ETD)
    accepted = {sid: allocation.accepted_principal(sid) for sid in SERIES}
    assert accepted == {k: Decimal(v) for k, v in expect("L3-05")["accepted"].items()}
    level2 = next(g for g in allocation.groups if g.series_id == "l3-11-2008")
    assert level2.factor == Fraction(206045000, 229226000)
    assert level2.outcome == GroupOutcome.PRORATED
    price = {
        sid: sum((t.purchase_price_amount for t in allocation.by_series(sid)), Decimal(0))
        for sid in ("l3-9.125-2008", "l3-11-2008")
    }
    assert price == {k: Decimal(v) for k, v in expect("L3-06").items() if k != "total"}
    assert sum(price.values()) == Decimal(expect("L3-06")["total"])


def test_l3_05_level2_bound_with_the_real_instruction_list() -> None:
    terms, amendments = load_terms(OFFER)
    path = FOLDER / "instructions-early.csv"
    ledger = build_ledger(terms, amendments, read_instructions_csv(path, terms))
    run = run_offer(terms, amendments, ledger, ETD)
    level2 = run.allocation.accepted_principal("l3-11-2008")
    count = len([t for t in ledger.active_tenders(ETD) if t.series_id == "l3-11-2008"])
    assert Decimal(206045000) - 1000 * count < level2 <= Decimal(206045000)
    assert run.allocation.accepted_principal("l3-10.5-discount-2008") == 0


def test_l3_07_after_the_cap_increase_every_early_tender_fits() -> None:
    terms = terms_with_cap(1105000000)
    allocation = allocate(terms, snapshot_tenders(terms), ETD)
    assert {sid: allocation.accepted_principal(sid) for sid in SERIES} == {
        k: Decimal(v) for k, v in expect("L3-07")["accepted"].items()
    }
    aggregate = next(c for c in allocation.caps if c.key == "aggregate")
    assert aggregate.used == Fraction(Decimal(expect("L3-07")["usd_equivalent_accepted"]))
    assert aggregate.remaining == Fraction(Decimal(expect("L3-07")["headroom_usd"]))


@pytest.mark.parametrize("early_priority", [False, True])
def test_l3_09_the_early_over_late_flag_decides_level_one(early_priority: bool) -> None:
    terms = terms_with_cap(1105000000, early_priority)
    late = Tender(
        "late-l1", datetime(2004, 11, 20, tzinfo=NEW_YORK), "l3-9.125-2008", Decimal(5502000)
    )
    allocation = allocate(
        terms, snapshot_tenders(terms, [late]), datetime(2004, 12, 2, tzinfo=NEW_YORK)
    )
    key = (
        "early_tenders_have_priority_true"
        if early_priority
        else "early_tenders_have_priority_false"
    )
    assert allocation.accepted_principal("l3-9.125-2008") == expect("L3-09")[key]["l3-9.125-2008"]


def test_l3_08_remaining_outstanding_after_the_final_replay() -> None:
    terms, amendments = load_terms(OFFER)
    path = FOLDER / "instructions.csv"
    ledger = build_ledger(terms, amendments, read_instructions_csv(path, terms))
    run = run_offer(terms, amendments, ledger, datetime(2004, 12, 2, tzinfo=NEW_YORK))
    bought = run.allocation.accepted_principal("l3-9.125-2008")
    published = CASE["published_results"]["final"]["rows"][0]
    assert bought == published["repurchased"]
    assert Decimal(1203652000) - bought == expect("L3-08")["remaining"]
    accepted_usd = run.results.totals.accepted_equivalent_exact
    assert Decimal(1104000000) < accepted_usd <= Decimal(1105000000)  # "$1.105 billion accepted"
    tendered_usd = run.results.totals.tendered_equivalent
    assert Decimal(1126500000) <= tendered_usd < Decimal(1127500000)  # "about $1.127 billion"
