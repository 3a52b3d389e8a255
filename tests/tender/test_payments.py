"""Payments: consideration, early tender payment and accrued interest per settlement date."""

from __future__ import annotations

import csv
import io
import json
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from corpact.cli.common import examples_root
from corpact.money import round_half_up_to_cent
from corpact.tender import allocate, load_terms
from corpact.tender.instructions import Tender
from corpact.tender.payments import PaymentRounding, payment_run
from tests.cli_helpers import run_cli
from tests.tender.builders import NEW_YORK, build_terms, case, offer_document, series_doc, tender

FOLDER = examples_root() / "level3-2004"
OFFER = FOLDER / "offer.toml"
LEVEL3 = case("level3-2004")
ROGERS = case("rogers-2025")


def test_l3_10_accrued_interest_per_1000_at_the_actual_settlement() -> None:
    result = run_cli(
        "tender", "payments", str(OFFER), str(FOLDER / "instructions.csv"), "--format", "json"
    )
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    per_1000 = {row["series"]: row["accrued_interest_per_1000"] for row in data["payments"]}
    expected = next(c for c in LEVEL3["checks"] if c["id"] == "L3-10")["expect"]
    assert per_1000 == expected
    assert {row["settlement_date"] for row in data["payments"]} == {"2004-12-02"}
    assert "l3-10.75-euro-2008" in data["assumed_note_terms"]


def test_payment_lines_add_up_and_round_once() -> None:
    terms, _ = load_terms(OFFER)
    from dataclasses import replace

    assert terms.aggregate_cap is not None
    roomy = replace(terms, aggregate_cap=replace(terms.aggregate_cap, amount=Decimal(2 * 10**9)))
    tenders = [
        Tender("a", datetime(2004, 11, 1, tzinfo=NEW_YORK), "l3-9.125-2008", Decimal(1000)),
        Tender("b", datetime(2004, 11, 20, tzinfo=NEW_YORK), "l3-9.125-2008", Decimal(3000)),
    ]
    allocation = allocate(roomy, tenders, datetime(2004, 11, 29, tzinfo=NEW_YORK))
    run = payment_run(allocation)
    early, late = run.lines
    # 30/360 from 1 Nov to 30 Nov: 29 days; 1,000 x 9.125% x 29/360 = 7.350694...
    assert early.accrued_interest == Decimal(1000) * Decimal("0.09125") * 29 / 360
    assert early.total_cash == round_half_up_to_cent(
        Decimal("837.50") + Decimal("20.00") + early.accrued_interest
    )
    assert late.early_tender_payment == 0 and late.price_per_1000 == Decimal("837.50")
    assert sum(t.total_cash for t in run.totals) == early.total_cash + late.total_cash
    per_1000 = payment_run(allocation, PaymentRounding.PER_1000)
    assert per_1000.lines[1].accrued_interest == Decimal("7.35") * 3


def test_early_late_and_guaranteed_delivery_settle_on_their_own_dates() -> None:
    document = offer_document(
        [series_doc("a", 1, 10_000_000, note={"coupon_rate": "0.06", "maturity": "2030-01-15"})],
        settlement={
            "early_settlement_date": "2020-01-22",
            "final_settlement_date": "2020-02-05",
            "guaranteed_delivery_settlement_date": "2020-02-07",
        },
    )
    terms, _ = build_terms(document)
    allocation = allocate(
        terms,
        [tender("e", "a", 1000), tender("l", "a", 1000, early=False),
         tender("g", "a", 1000, early=False, guaranteed_delivery=True)],
        datetime(2020, 2, 4, tzinfo=NEW_YORK),
    )  # fmt: skip
    lines = {line.instruction_id: line for line in payment_run(allocation).lines}
    assert lines["e"].settlement_date == date(2020, 1, 22)
    assert lines["l"].settlement_date == date(2020, 2, 5)
    assert lines["g"].settlement_date == date(2020, 2, 7)
    # Coupons on 15 Jan / 15 Jul: 7, 20 and 22 days of 30/360 interest.
    assert [lines[k].accrued_interest for k in "elg"] == [
        Decimal(60) * d / 360 for d in (7, 20, 22)
    ]


def test_no_accrued_interest_on_a_coupon_date() -> None:
    document = offer_document(
        [series_doc("a", 1, 10_000_000, note={"coupon_rate": "0.06", "maturity": "2030-02-05"})]
    )
    terms, _ = build_terms(document)
    allocation = allocate(terms, [tender("e", "a", 5000)], datetime(2020, 2, 4, tzinfo=NEW_YORK))
    assert payment_run(allocation).lines[0].accrued_interest == 0


def rogers_document() -> dict[str, Any]:
    series = []
    for s in ROGERS["series"]:
        series.append(
            series_doc(
                s["id"],
                s["priority"],
                s["outstanding_musd"] * 1_000_000,
                tender_offer_consideration=None,
                early_tender_payment="0",
                note={
                    "coupon_rate": s["coupon"],
                    "maturity": s["maturity"],
                    "par_call_date": s["par_call_date"],
                },
                pricing={
                    "reference_security": s["reference_security"],
                    "spread_bps": str(s["spread_bp"]),
                    "reference_yield": str(Decimal(s["reference_yield"]) * 100),
                },
            )
        )
        series[-1].pop("tender_offer_consideration")
    return offer_document(
        series,
        settlement={"final_settlement_date": "2025-07-23"},
        deadlines={"launch_at": "2025-07-11T08:00", "expiration_at": "2025-07-18T17:00"},
        aggregate_cap={"basis": "total_consideration", "amount": "1400000000", "currency": "USD"},
    )


def test_fixed_spread_series_are_priced_from_the_terms_file(tmp_path: Path) -> None:
    import yaml

    path = tmp_path / "rogers.yaml"
    path.write_text(yaml.safe_dump(rogers_document()))
    terms, _ = load_terms(path)
    prices = {s.series_id: str(s.total_consideration) for s in terms.series}
    assert prices == {s["id"]: s["tc_per_1000"] for s in ROGERS["series"]}


def test_pricing_determined_later_by_an_amendment() -> None:
    document = rogers_document()
    for s in document["series"]:
        s["pricing"].pop("reference_yield")
    yields = {s["id"]: str(Decimal(s["reference_yield"]) * 100) for s in ROGERS["series"]}
    document["amendments"] = [
        {"id": "pricing", "effective_at": "2025-07-18T14:00", "reference_yields": yields}
    ]
    from corpact.tender import terms_as_of

    base, amendments = build_terms(document)
    priced = terms_as_of(base, amendments, datetime(2025, 7, 18, 15, tzinfo=NEW_YORK))
    assert str(priced.series_by_id()["r-4.350-2049"].total_consideration) == "814.59"
    assert base.series_by_id()["r-4.350-2049"].total_consideration == 0


@given(
    principal_steps=st.lists(st.integers(1, 10_000), min_size=1, max_size=12),
    days=st.integers(0, 400),
)
def test_every_payment_is_its_parts_rounded_once(principal_steps: list[int], days: int) -> None:
    document = offer_document(
        [series_doc("a", 1, 10**12, note={"coupon_rate": "0.0737", "maturity": "2031-03-31"})]
    )
    terms, _ = build_terms(document)
    tenders = [
        tender(f"t{i}", "a", 1000 * n, offset_minutes=i) for i, n in enumerate(principal_steps)
    ]
    allocation = allocate(terms, tenders, datetime(2020, 2, 4, tzinfo=NEW_YORK))
    run = payment_run(allocation, settlement_override=date(2020, 1, 1) + timedelta(days=days))
    for line in run.lines:
        assert abs(line.rounding_residue) <= Decimal("0.005")
        assert line.total_cash == line.total_cash.quantize(Decimal("0.01"))
    assert sum(t.total_cash for t in run.totals) == sum(line.total_cash for line in run.lines)


def test_payment_file_csv_through_the_cli(tmp_path: Path) -> None:
    out = tmp_path / "payments.csv"
    result = run_cli(
        "tender", "payments", str(OFFER), str(FOLDER / "instructions.csv"),
        "--format", "csv", "--output", str(out),
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    assert len(rows) == 198  # 200 tenders, 2 withdrawn; each of the rest gets something
    by_series: dict[str, Decimal] = {}
    for row in rows:
        by_series[row["series"]] = by_series.get(row["series"], Decimal(0)) + Decimal(
            row["principal_accepted"]
        )
    assert by_series["l3-9.125-2008"] == 249457000


def test_reference_yield_from_a_treasury_bid_price() -> None:
    from corpact.bondmath.treasury import treasury_price_from_yield
    from corpact.money import round_half_up

    # The bid that yields 4.996% on the 4.625% UST due 2055-02-15 for settlement on Monday
    # 2025-07-21 (T+1 after the 2:00 p.m. pricing on Friday 2025-07-18).
    bid = round_half_up(
        treasury_price_from_yield(Decimal("0.04625"), date(2055, 2, 15), date(2025, 7, 21),
                                  Decimal("0.04996")), 6
    )  # fmt: skip
    document = rogers_document()
    first = document["series"][0]
    first["pricing"].pop("reference_yield")
    first["pricing"].update(
        reference_bid_price=str(bid), reference_coupon="0.04625",
        reference_maturity="2055-02-15", pricing_at="2025-07-18T14:00",
    )  # fmt: skip
    terms, _ = build_terms(document)
    series = terms.series_by_id()["r-4.350-2049"]
    assert series.pricing is not None and series.pricing.reference_yield == Decimal("0.04996")
    assert str(series.total_consideration) == "814.59"


def test_results_carry_each_accepted_instructions_accrued_interest() -> None:
    result = run_cli(
        "tender", "results", str(OFFER), str(FOLDER / "instructions.csv"), "--format", "json"
    )
    assert result.exit_code == 0, result.stderr
    rows = json.loads(result.stdout)["instructions"]
    first = next(r for r in rows if r["series"] == "l3-11-2008" and r["principal_accepted"] != "0")
    # 11% notes, 77 days of 30/360 from 15 Sep to 2 Dec 2004.
    exact = Decimal(first["principal_accepted"]) * Decimal("0.11") * 77 / 360
    assert first["accrued_interest"] == str(round_half_up_to_cent(exact))
    assert first["settlement_date"] == "2004-12-02"
