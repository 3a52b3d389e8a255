"""Executor behaviour beyond the cases: forward splits, par and authorized rules, the sale."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest

from corpact.errors import InputError
from corpact.split import apply_split
from corpact.split.model import HoldingForm
from corpact.split.register import Register, RegisterEntry
from tests.split.helpers import any_ratio_split, register_of, split_dict, terms_from


def test_forward_split_with_scaled_par_and_proportional_authorized(tmp_path: Path) -> None:
    data = any_ratio_split("3-for-2", "round_down_no_cash")
    data["split"]["jurisdiction"] = "Nevada"
    data["classes"][0] |= {
        "par_value_before": "0.003",
        "par_rule": "scaled",
        "authorized_before": 1000,
        "authorized_rule": "proportional",
    }
    terms = terms_from(tmp_path, data)
    (common,) = terms.classes
    assert (common.par_value_after, common.authorized_after) == (Decimal("0.002"), 1500)
    result = apply_split(terms, register_of([101, 2, 1]))
    (outcome,) = result.classes
    assert [h.new_shares for h in result.holders] == [151, 3, 1]
    assert outcome.fractions_total == Fraction(1, 2) + Fraction(1, 2)
    # 104 x 0.003 = 0.312 before; 155 x 0.002 = 0.310 after; the half shares cancelled move 0.002
    assert outcome.par_reclass == Decimal("0.002")
    assert result.terms.ratio.direction.value == "forward"


def test_forward_split_moves_par_from_apic_when_par_is_unchanged(tmp_path: Path) -> None:
    data = any_ratio_split("2-for-1", "round_up")
    result = apply_split(terms_from(tmp_path, data), register_of([10, 5]))
    (outcome,) = result.classes
    assert outcome.new_outstanding == 30
    assert outcome.par_reclass == Decimal("-0.0015")
    (entry,) = result.journal
    assert entry.lines[0].account == "Additional paid-in capital"
    assert entry.lines[0].debit == Decimal("0.0015")


def test_scaled_par_that_does_not_terminate_is_refused(tmp_path: Path) -> None:
    data = any_ratio_split("3-for-1", "round_up")
    data["classes"][0] |= {"par_value_before": "0.01", "par_rule": "scaled"}
    with pytest.raises(InputError) as caught:
        terms_from(tmp_path, data)
    assert caught.value.problems[0].rule == "par-scaled-not-exact"


def test_proportional_authorized_needs_exactness_or_a_rounding(tmp_path: Path) -> None:
    data = split_dict(resolution__ratio="1-for-15")
    data["classes"][0] |= {"authorized_before": 4400000005, "authorized_rule": "proportional"}
    with pytest.raises(InputError) as caught:
        terms_from(tmp_path, data)
    assert caught.value.problems[0].rule == "authorized-proportional-not-exact"
    data["classes"][0]["authorized_rounding"] = "floor"
    assert terms_from(tmp_path, data).classes[0].authorized_after == 293333333


def _sale_split(tmp_path: Path, expenses: str = "1.00") -> dict[str, object]:
    data = split_dict()
    data["fractional"] = {
        "policy": "aggregate_and_sell",
        "sale_agent_holder_id": "AGENT-FRAC",
        "sale_agent_name": "Exchange agent, fractional pool",
        "sales": [{"class_id": "common", "price_per_new_share": "12.34", "expenses": expenses}],
    }
    return data


def test_aggregate_and_sell_issues_pooled_shares_to_the_agent(tmp_path: Path) -> None:
    terms = terms_from(tmp_path, _sale_split(tmp_path))
    result = apply_split(terms, register_of([1005, 7, 8, 3, 2]))
    (outcome,) = result.classes
    # remainders 5 + 7 + 8 + 3 + 2 = 25 old shares = 2.5 new: 2 sold, 0.5 left over
    assert outcome.pooled_shares_sold == 2
    assert outcome.pool_residual == Fraction(1, 2)
    assert outcome.sale_net_proceeds == Decimal("23.68")
    assert [p.amount for p in result.payments] == [
        Decimal(x) for x in ("4.74", "6.63", "7.58", "2.84", "1.89")
    ]
    assert sum(p.amount for p in result.payments) == Decimal("23.68")
    agent = [e for e in result.new_register if e.holder_id == "AGENT-FRAC"]
    assert [(e.shares, e.holding_form) for e in agent] == [(2, HoldingForm.nominee)]
    assert outcome.new_outstanding == 100 + 2
    assert not [e for e in result.journal if "cash in lieu" in e.memo]


def test_sale_agent_already_on_the_register_is_refused(tmp_path: Path) -> None:
    terms = terms_from(tmp_path, _sale_split(tmp_path))
    register = Register(
        "reg.csv",
        (RegisterEntry("AGENT-FRAC", "Agent", "common", 10, HoldingForm.nominee, line=2),),
    )
    with pytest.raises(InputError) as caught:
        apply_split(terms, register)
    assert (caught.value.problems[0].rule, caught.value.problems[0].line) == (
        "sale-agent-in-register",
        2,
    )


def test_sale_missing_for_a_class(tmp_path: Path) -> None:
    data = _sale_split(tmp_path)
    data["fractional"]["sales"] = []  # type: ignore[index]
    with pytest.raises(InputError) as caught:
        terms_from(tmp_path, data)
    assert caught.value.problems[0].rule == "sale-missing"


def test_certificates_stay_unexchanged_and_their_cash_is_held(tmp_path: Path) -> None:
    terms = terms_from(tmp_path, split_dict())
    register = Register(
        "reg.csv",
        (
            RegisterEntry("C1", "Cert holder", "common", 25, HoldingForm.certificate, line=2),
            RegisterEntry("D1", "DRS holder", "common", 25, HoldingForm.drs, line=3),
        ),
    )
    result = apply_split(terms, register)
    assert [e.surrender_status for e in result.new_register] == ["unexchanged", None]
    assert [p.status.value for p in result.payments] == ["held_until_surrender", "payable"]
    assert [p.amount for p in result.payments] == [Decimal("6.00"), Decimal("6.00")]


def test_n_day_average_price_rounded_down_to_the_cent(tmp_path: Path) -> None:
    data = split_dict()
    data["fractional"]["price"] = {
        "source": "n_day_average",
        "basis": "pre_split_per_old_share",
        "days": 3,
        "closes": [
            {"on": "2023-06-12", "close": "1.00"},
            {"on": "2023-06-13", "close": "1.00"},
            {"on": "2023-06-14", "close": "1.01"},
        ],
    }
    terms = terms_from(tmp_path, data)
    assert terms.fractional.price is not None
    assert terms.fractional.price.amount == Decimal("1.00")  # 1.00333... down to the cent
    data["fractional"]["price"]["days"] = 5
    with pytest.raises(InputError) as caught:
        terms_from(tmp_path, data)
    assert caught.value.problems[0].rule == "price-average-days"


INPUTS = Path(__file__).parent / "data" / "inputs"


def test_authority_from_a_real_tabulation_and_the_meeting_register(tmp_path: Path) -> None:
    # level3-2007-meeting-result.json was printed by `corpact meeting tabulate --format json`
    # on the synthetic Level 3 2007 meeting example; the register is that meeting's register.
    import shutil

    from corpact.split import load_register

    shutil.copy(INPUTS / "level3-2007-meeting-result.json", tmp_path / "result.json")
    data = split_dict(
        resolution__ratio="1-for-20",
        resolution__decided_on="2008-01-10",
        resolution__effective_at="2008-01-15T17:00:00",
    )
    data["authority"] = {"meeting": {"meeting_result": "result.json", "proposal": "reverse-split"}}
    data["fractional"]["price"]["close_on"] = "2008-01-14"
    terms = terms_from(tmp_path, data)
    assert terms.authority.id == "level3-2007-annual/reverse-split"
    assert terms.authority.expires_on is None
    register = load_register(INPUTS / "level3-2007-meeting-register.csv")
    assert {e.holding_form for e in register.entries} == {HoldingForm.nominee, HoldingForm.drs}
    assert register.entries[0].line == 4  # two comment lines, then the header
    (outcome,) = apply_split(terms, register).classes
    assert outcome.old_outstanding == 1_500_000_000
    assert outcome.new_outstanding == 75_000_000
    data["resolution"]["ratio"] = "1-for-25"
    with pytest.raises(InputError) as caught:
        terms_from(tmp_path, data)
    assert caught.value.problems[0].rule == "ratio-not-authorized"
