"""Golden checks from the published cases (copied into tests/bondmath/data)."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml

from corpact.bondmath import (
    DayCount,
    NoteTerms,
    accrued_interest_per_1000,
    coupons_between,
    day_count_days,
    last_coupon_on_or_before,
    price_fixed_spread,
)
from corpact.bondmath.accretion import accretion_from_issue_price
from corpact.calendars import settlement_date
from corpact.money import round_half_up_to_cent
from tests.cli_helpers import run_cli

DATA = Path(__file__).parent / "data"


def _case(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((DATA / f"{name}.yaml").read_text())
    return loaded


ROGERS = _case("rogers-2025")
PRICING_CHECKS = [c for c in ROGERS["checks"] if c["id"] in {f"ROG-0{i}" for i in range(1, 9)}]


def _percent(fraction: str) -> str:
    return str(Decimal(fraction) * 100)


@pytest.mark.parametrize("check", PRICING_CHECKS, ids=[c["id"] for c in PRICING_CHECKS])
def test_rogers_vector_through_the_cli(check: dict[str, Any]) -> None:
    given = check["given"]
    result = run_cli(
        "price", "fixed-spread",
        "--coupon", _percent(given["coupon"]),
        "--maturity", given["maturity"],
        "--settlement", given["settlement"],
        "--reference-yield", _percent(given["reference_yield"]),
        "--spread-bps", str(given["spread_bp"]),
        "--par-call", given["par_call"],
        "--format", "json",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    output = json.loads(result.stdout)
    assert output["total_consideration"] == check["expect"]["tc_per_1000"]
    assert output["tender_offer_consideration"] == check["expect"]["tc_per_1000"]
    assert output["binding"] == check["expect"]["binding_end_date"]
    assert output["binding_end_date"] == given["maturity"]


@pytest.mark.parametrize("series_id", list(ROGERS["derived"]["per_vector_N_S"]))
def test_rogers_derived_n_and_s(series_id: str) -> None:
    derived = ROGERS["derived"]["per_vector_N_S"][series_id]
    series = next(s for s in ROGERS["series"] if s["id"] == series_id)
    terms = NoteTerms(Decimal(series["coupon"]), date.fromisoformat(series["maturity"]))
    settlement = date(2025, 7, 23)
    last = last_coupon_on_or_before(terms, settlement)
    assert day_count_days(DayCount.THIRTY_360_US, last, settlement) == derived["S"]
    assert coupons_between(terms, settlement, terms.maturity) == derived["N"]
    price = price_fixed_spread(
        terms, settlement, Decimal(series["reference_yield"]), series["spread_bp"]
    )
    assert price.yield_rate == Decimal(derived["yld"])
    assert price.to_maturity.coupons_left == derived["N"]
    assert str(price.total_consideration) == series["tc_per_1000"]


KELLOGG = _case("kellogg-2019")


@pytest.mark.parametrize("check_id", ["K19-01", "K19-02"])
def test_kellogg_prices_with_the_implied_reference_yield(check_id: str) -> None:
    check = next(c for c in KELLOGG["checks"] if c["id"] == check_id)
    given = check["given"]
    terms = NoteTerms(Decimal(given["coupon"]), date.fromisoformat(given["maturity"]))
    price = price_fixed_spread(
        terms,
        date.fromisoformat(given["settlement"]),
        Decimal(given["reference_yield"]),
        given["spread_bp"],
        early_tender_payment=Decimal("30.00"),
    )
    assert str(price.total_consideration) == check["expect"]["tc_per_1000"]
    toc = next(c for c in KELLOGG["checks"] if c["id"] == "K19-03")["expect"]
    series_id = "k-4.000-2020" if check_id == "K19-01" else "k-3.250-2021"
    assert str(price.tender_offer_consideration) == toc[series_id]


def test_kellogg_early_settlement_is_three_business_days_after_the_early_tender_date() -> None:
    check = next(c for c in KELLOGG["checks"] if c["id"] == "K19-07")
    early = date.fromisoformat(check["given"]["early_tender_date"])
    expected = date.fromisoformat(check["expect"]["early_settlement_date"])
    assert settlement_date(early, 3, "US-SIFMA") == expected


LEVEL3 = _case("level3-2004")
L3_SETTLEMENT = date(2004, 12, 2)


def _level3_terms() -> dict[str, NoteTerms]:
    discount = accretion_from_issue_price(
        date(1998, 12, 2),
        Decimal("599.66"),
        Decimal("0.105"),
        date(2003, 12, 1),
    )
    return {
        "l3-9.125-2008": NoteTerms(
            Decimal("0.09125"), date(2008, 5, 1), first_coupon_date=date(1998, 11, 1)
        ),
        "l3-11-2008": NoteTerms(
            Decimal("0.11"), date(2008, 3, 15), first_coupon_date=date(2000, 9, 15)
        ),
        # Assumed [VERIFY]: cash interest from 2003-12-01, paid 1 Jun / 1 Dec from 2004-06-01.
        "l3-10.5-discount-2008": NoteTerms(
            Decimal("0.105"), date(2008, 12, 1), first_coupon_date=date(2004, 6, 1),
            accretion=discount,
        ),
        # Assumed [VERIFY]: like the 11% notes, 30/360.
        "l3-10.75-euro-2008": NoteTerms(
            Decimal("0.1075"), date(2008, 3, 15), first_coupon_date=date(2000, 9, 15)
        ),
    }  # fmt: skip


def test_level3_accrued_interest_at_settlement_l3_10() -> None:
    check = next(c for c in LEVEL3["checks"] if c["id"] == "L3-10")
    derived = LEVEL3["derived"]["accrued_interest_per_1000_at_2004_12_02"]
    for series_id, terms in _level3_terms().items():
        exact = accrued_interest_per_1000(terms, L3_SETTLEMENT)
        assert str(round_half_up_to_cent(exact)) == check["expect"][series_id], series_id
        assert str(exact).startswith(derived[series_id]["exact"].rstrip(".")), series_id
        last = last_coupon_on_or_before(terms, L3_SETTLEMENT)
        assert last.isoformat() == derived[series_id]["last_coupon"]
        days = day_count_days(DayCount.THIRTY_360_US, last, L3_SETTLEMENT)
        assert days == derived[series_id]["days_30_360"]


def test_level3_euro_notes_alternative_day_counts() -> None:
    alternatives = LEVEL3["derived"]["accrued_interest_per_1000_at_2004_12_02"][
        "l3-10.75-euro-2008"
    ]["alternatives"]
    semi = NoteTerms(Decimal("0.1075"), date(2008, 3, 15), day_count=DayCount.ACT_ACT_ICMA)
    annual = NoteTerms(
        Decimal("0.1075"), date(2008, 3, 15), frequency=1, day_count=DayCount.ACT_ACT_ICMA
    )
    semi_ai = round_half_up_to_cent(accrued_interest_per_1000(semi, L3_SETTLEMENT))
    annual_ai = round_half_up_to_cent(accrued_interest_per_1000(annual, L3_SETTLEMENT))
    assert str(semi_ai) == alternatives["semiannual_act_act_icma"]
    assert str(annual_ai) == alternatives["annual_act_act_icma"]


def test_level3_discount_notes_are_fully_accreted_and_pay_cash_interest() -> None:
    terms = _level3_terms()["l3-10.5-discount-2008"]
    from corpact.bondmath.accretion import accreted_value_per_1000

    assert accreted_value_per_1000(terms, L3_SETTLEMENT) == Decimal(1000)
    # One day of cash interest; none before the cash-pay start.
    assert accrued_interest_per_1000(terms, date(2003, 11, 28)) == 0
    assert accrued_interest_per_1000(terms, date(2003, 12, 1)) == 0
    # 599.66 x 1.0525^10 = 1000.29: the table reaches PAM by 2003-12-01 (spec §15.6).
    generated = terms.accretion
    assert generated is not None
    assert generated.points[0] == (date(1998, 12, 2), Decimal("599.66"))
    assert generated.points[-1] == (date(2003, 12, 1), Decimal(1000))
