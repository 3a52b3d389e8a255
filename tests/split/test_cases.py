"""Golden tests: one test per check of every real split case (copied from the published cases).

Issuers publish aggregates, not holder lists; each runner builds a register with the published
total (and, where the published result pins it, the per-holder remainders) and says so.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
import yaml

from corpact.errors import InputError, LifecycleError
from corpact.split import ClassOutcome, Register, SplitResult, SplitTerms, apply_split, load_split
from corpact.split.arith import FractionalPolicy, PriceBasis, split_position
from corpact.split.model import HoldingForm
from corpact.split.ratio import SplitRatio
from corpact.split.register import RegisterEntry
from corpact.split.terms import authority_breaches
from tests.split.helpers import register_of

DATA = Path(__file__).parent / "data"
CASES = sorted((DATA / "cases").glob("*.yaml"))
Case = dict[str, Any]


def _case(name: str) -> Case:
    loaded: Case = yaml.safe_load((DATA / "cases" / f"{name}.yaml").read_text())
    return loaded


def _terms(name: str) -> SplitTerms:
    return load_split(DATA / "inputs" / f"{name}.split.yaml")


def _holders(class_id: str, shares: list[int], prefix: str) -> list[RegisterEntry]:
    return [
        RegisterEntry(f"{prefix}{i:04d}", f"Holder {prefix}{i}", class_id, h, HoldingForm.drs)
        for i, h in enumerate(shares)
    ]


# --- INVO 2020: 8 -> 5, round up -------------------------------------------------------------

INVO_ISSUED = 7926255
# One holder of 7 shares (5*7 = 35 = 4*8 + 3: fraction 3/8, round-up adds 5/8) and the rest in
# multiples of 8: the only excess is 5/8, so per-holder round-up lands on the published figure.
INVO_REGISTER = register_of([7900000, 16000, 10248, 7])


def _invo() -> SplitResult:
    return apply_split(_terms("invo-2020"), INVO_REGISTER)


def invo_authorized(case: Case, check: Case) -> None:
    (common,) = _invo().classes
    assert common.class_terms.authorized_after == check["expect"]["authorized_after"]
    assert Fraction(case["execution"]["authorized_before"]) * Fraction(5, 8) == Fraction(
        check["expect"]["authorized_after"]
    )


def invo_aggregate(case: Case, check: Case) -> None:
    (common,) = _invo().classes
    assert common.old_outstanding == case["execution"]["issued_before"] == INVO_ISSUED
    assert common.exact_new == Fraction(Decimal(check["expect"]["exact"]))
    assert int(common.exact_new) == check["expect"]["floor"]
    assert -(-common.exact_new.numerator // common.exact_new.denominator) == check["expect"]["ceil"]


def invo_ceiling(case: Case, check: Case) -> None:
    lower = check["expect"]["lower_bound"]
    registers = [
        INVO_REGISTER,
        register_of([INVO_ISSUED]),
        register_of([1] * 15 + [INVO_ISSUED - 15]),
    ]
    for register in registers:
        (common,) = apply_split(_terms("invo-2020"), register).classes
        excess = sum(
            (1 - Fraction(split_position(e.shares, SplitRatio(5, 8))[1], 8))
            for e in register.entries
            if split_position(e.shares, SplitRatio(5, 8))[1]
        )
        assert common.new_outstanding >= lower
        assert common.new_outstanding == common.exact_new + excess
    (published,) = _invo().classes
    assert published.new_outstanding == case["execution"]["issued_after_published"] == lower


def invo_lattice(case: Case, check: Case) -> None:
    ratio = _terms("invo-2020").ratio
    seen = {Fraction(split_position(h, ratio)[1], ratio.old_shares) for h in range(64)}
    assert seen == {Fraction(text) for text in check["expect"]["possible_fractions"]}


def invo_non_unit(case: Case, check: Case) -> None:
    terms = _terms("invo-2020")
    shares = list(range(0, 97))
    result = apply_split(terms, register_of(shares))
    by_holder = {h.entry.shares: h.new_shares for h in result.holders}
    for h in shares:
        assert by_holder[h] == (5 * h) // 8 + (1 if (5 * h) % 8 else 0)


def invo_par(case: Case, check: Case) -> None:
    (common,) = _invo().classes
    assert common.old_outstanding - common.new_outstanding == check["expect"]["shares_removed"]
    assert common.par_reclass == Decimal(check["expect"]["amount"])
    assert str(common.par_reclass) == check["expect"]["amount"]


def invo_reporting(case: Case, check: Case) -> None:
    (common,) = _invo().classes
    assert check["expect"]["metric_reported"] is True
    assert common.shares_created_by_rounding == 1
    assert common.holders_with_fraction == 1
    report = common.to_json_dict()
    assert report["shares_created_by_rounding"] == 1
    # "Less than 1% of the outstanding shares will be affected": 7 of 7,926,255 old shares here.
    assert Fraction(7, common.old_outstanding) < Fraction(1, 100)


# --- P3 Health 2025: 1-for-50 of two classes, cash in lieu -------------------------------------

# Remainders that reproduce the published counts: class A 98 x 49 + 2 x 48 = 4,898 old shares
# (97.96 new shares) over 100 holders; class V 16 x 49 = 784 (15.68 new shares) over 16 holders.
P3_A_SMALL = [49] * 98 + [48] * 2
P3_V_SMALL = [49] * 16


def _p3_register(case: Case) -> Register:
    before = {c["id"]: c["shares_before"] for c in case["execution"]["classes"]}
    class_a = _holders("class_a", [before["class_a"] - sum(P3_A_SMALL), *P3_A_SMALL], "A")
    class_v = _holders("class_v", [before["class_v"] - sum(P3_V_SMALL), *P3_V_SMALL], "V")
    return Register("p3-synthetic-register.csv", tuple(class_a + class_v))


def _p3(case: Case) -> SplitResult:
    return apply_split(_terms("p3-health-2025"), _p3_register(case))


def _p3_class(case: Case, class_id: str) -> ClassOutcome:
    return next(c for c in _p3(case).classes if c.class_terms.id == class_id)


def _p3_floor_check(case: Case, check: Case, class_id: str) -> None:
    expect = check["expect"]
    outcome = _p3_class(case, class_id)
    assert outcome.exact_new == Fraction(Decimal(expect["exact"]))
    assert int(outcome.exact_new) == expect["aggregate_floor"]
    assert outcome.new_outstanding == expect["published"] <= expect["aggregate_floor"]
    assert outcome.fractions_total == Fraction(Decimal(expect["fractions_removed"]))
    assert outcome.holders_with_fraction >= expect["min_holders_with_fraction"]
    # No holder's fraction exceeds 49/50, so fewer holders could not remove this much.
    most_per_holder = Fraction(49, 50)
    assert outcome.fractions_total > (expect["min_holders_with_fraction"] - 1) * most_per_holder


def p3_class_a(case: Case, check: Case) -> None:
    _p3_floor_check(case, check, "class_a")


def p3_class_v(case: Case, check: Case) -> None:
    _p3_floor_check(case, check, "class_v")


def p3_same_ratio(case: Case, check: Case) -> None:
    result = _p3(case)
    assert [c.class_terms.id for c in result.classes] == check["expect"]["classes"]
    assert {str(c.ratio) for c in result.classes} == {case["execution"]["ratio"]}
    assert len(result.event.classes) == 2


def p3_cross_class_price(case: Case, check: Case) -> None:
    result = _p3(case)
    price = result.terms.fractional.price
    assert price is not None
    assert price.basis is PriceBasis(check["expect"]["price_basis"])
    assert price.class_id == check["expect"]["price_class"]
    class_v = next(c for c in result.classes if c.class_terms.id == "class_v")
    # 16 holders x 49/50 of a new share at $5.10 = $4.998 -> $4.99 each (rounded down)
    assert class_v.cash_total == 16 * Decimal("4.99")
    v_payments = [p for p in result.payments if p.class_id == "class_v"]
    assert len(v_payments) == 16


def p3_par(case: Case, check: Case) -> None:
    for class_id, expect in check["expect"].items():
        outcome = _p3_class(case, class_id)
        assert outcome.old_outstanding - outcome.new_outstanding == expect["shares_removed"]
        assert outcome.par_reclass == Decimal(expect["amount"])
    journal = _p3(case).journal
    reclass = [e for e in journal if "par of" in e.memo]
    assert len(reclass) == 2


def p3_awards(case: Case, check: Case) -> None:
    divisor = check["expect"]["divisor"]
    awards = {a.id: a for a in _p3(case).awards}
    assert awards["options"].shares_after == 5000000 // divisor
    assert awards["options"].price_after == Decimal("0.25") * divisor
    assert awards["incentive-plan"].shares_after == 20000000 // divisor
    warrant = awards["warrants"]
    assert warrant.shares_after == 1234567 // divisor  # 24,691 (floor of 24,691.34)
    assert warrant.price_after == Decimal("5.50")  # 0.1099 x 50 = 5.495, up to the cent


# --- NeuBase 2023: range authority, cash at the prior close ------------------------------------

NEUBASE_OUTSTANDING = 33800000


def _neubase_register() -> Register:
    return register_of([NEUBASE_OUTSTANDING - 60 - 39 - 1, 60, 39, 1])


def neubase_range(case: Case, check: Case) -> None:
    terms = _terms("neubase-2023")
    assert check["expect"]["valid"] is True
    assert terms.ratio == SplitRatio.parse(case["execution"]["ratio"])
    for text, allowed in (
        ("1-for-5", True),
        ("1-for-20", True),
        ("1-for-21", False),
        ("1-for-4", False),
        ("2-for-1", False),
    ):
        assert terms.authority.allows(SplitRatio.parse(text)) is allowed


def neubase_timing(case: Case, check: Case) -> None:
    import dataclasses

    terms = _terms("neubase-2023")
    assert authority_breaches(terms.authority, terms.resolution) == []
    unattested = dataclasses.replace(terms.resolution, expiry_meeting_not_held_attested=False)
    assert [b.rule for b in authority_breaches(terms.authority, unattested)] == [
        "expiry-needs-attestation"
    ]


def neubase_single_use(case: Case, check: Case) -> None:
    terms = _terms("neubase-2023")
    first = apply_split(terms, _neubase_register())
    assert first.to_json_dict()["authority"]["state_after"] == check["expect"]["state_after"]
    with pytest.raises(LifecycleError):
        apply_split(terms, _neubase_register(), executed_authorities={first.event.authority_id})


def neubase_aggregate(case: Case, check: Case) -> None:
    (common,) = apply_split(_terms("neubase-2023"), _neubase_register()).classes
    assert common.exact_new == check["expect"]["pure_division"]
    millions = Fraction(common.new_outstanding, 1_000_000)
    assert round(millions, 1) == Fraction(17, 10)


def neubase_formula(case: Case, check: Case) -> None:
    result = apply_split(_terms("neubase-2023"), _neubase_register())
    for h in result.holders:
        assert (h.whole, h.remainder) == (h.entry.shares // 20, h.entry.shares % 20)


def neubase_price_basis(case: Case, check: Case, tmp_path: Path) -> None:
    source = yaml.safe_load((DATA / "inputs" / "neubase-2023.split.yaml").read_text())
    del source["fractional"]["price"]["basis"]
    path = tmp_path / "no-basis.yaml"
    path.write_text(yaml.safe_dump(source))
    with pytest.raises(InputError) as caught:
        load_split(path)
    assert caught.value.problems[0].field == "fractional.price.basis"
    result = apply_split(_terms("neubase-2023"), _neubase_register())
    close = Decimal("0.35")
    for h in result.holders:
        assert h.cash == (h.remainder * close).quantize(Decimal("0.01"))


def neubase_authorized(case: Case, check: Case) -> None:
    (common,) = apply_split(_terms("neubase-2023"), _neubase_register()).classes
    assert common.class_terms.authorized_rule.value == check["expect"]["authorized_rule"]
    assert common.class_terms.authorized_after == common.class_terms.authorized_before
    gained = common.old_outstanding - common.new_outstanding
    authorized = common.class_terms.authorized_before
    assert common.available_after - (authorized - common.old_outstanding) == gained


def neubase_par(case: Case, check: Case) -> None:
    result = apply_split(_terms("neubase-2023"), _neubase_register())
    (common,) = result.classes
    assert check["expect"]["entry_balances"] is True
    for entry in result.journal:
        assert sum(ln.debit for ln in entry.lines) == sum(ln.credit for ln in entry.lines)
    assert common.par_reclass == (common.old_outstanding - common.new_outstanding) * Decimal(
        "0.0001"
    )


def neubase_cusip(case: Case, check: Case) -> None:
    result = apply_split(_terms("neubase-2023"), _neubase_register())
    assert result.classes[0].class_terms.new_cusip == check["expect"]["new_cusip"]
    assert {e.cusip for e in result.new_register} == {check["expect"]["new_cusip"]}
    assert result.terms.fractional.policy is FractionalPolicy.cash_in_lieu


Runner = Callable[..., None]
RUNNERS: dict[tuple[str, str], Runner] = {
    ("invo-2020", "authorized-proportional"): invo_authorized,
    ("invo-2020", "aggregate-exact"): invo_aggregate,
    ("invo-2020", "published-equals-aggregate-ceiling"): invo_ceiling,
    ("invo-2020", "fraction-lattice"): invo_lattice,
    ("invo-2020", "non-unit-ratio"): invo_non_unit,
    ("invo-2020", "par-reclass-sub-cent"): invo_par,
    ("invo-2020", "round-up-reporting"): invo_reporting,
    ("p3-health-2025", "class-a-floor"): p3_class_a,
    ("p3-health-2025", "class-v-floor"): p3_class_v,
    ("p3-health-2025", "same-ratio-every-class"): p3_same_ratio,
    ("p3-health-2025", "cross-class-price"): p3_cross_class_price,
    ("p3-health-2025", "par-reclass"): p3_par,
    ("p3-health-2025", "award-adjustment"): p3_awards,
    ("neubase-2023", "ratio-within-range"): neubase_range,
    ("neubase-2023", "timing-within-expiry"): neubase_timing,
    ("neubase-2023", "single-use"): neubase_single_use,
    ("neubase-2023", "aggregate-consistency"): neubase_aggregate,
    ("neubase-2023", "per-holder-formula"): neubase_formula,
    ("neubase-2023", "price-basis-explicit"): neubase_price_basis,
    ("neubase-2023", "authorized-unchanged"): neubase_authorized,
    ("neubase-2023", "par-reclass"): neubase_par,
    ("neubase-2023", "security-master"): neubase_cusip,
}


def _checks() -> list[Any]:
    params = []
    for path in CASES:
        case = yaml.safe_load(path.read_text())
        for check in case["checks"]:
            params.append(pytest.param(case, check, id=f"{case['case']}:{check['id']}"))
    return params


@pytest.mark.parametrize(("case", "check"), _checks())
def test_case_check(case: Case, check: Case, tmp_path: Path) -> None:
    runner = RUNNERS.get((case["case"], check["id"]))
    assert runner is not None, f"no runner for {case['case']}:{check['id']}"
    if "tmp_path" in runner.__code__.co_varnames:
        runner(case, check, tmp_path)
    else:
        runner(case, check)


def test_every_case_has_a_runner_for_each_check_and_no_float_money() -> None:
    assert len(CASES) == 3
    for path in CASES:
        case = yaml.safe_load(path.read_text())
        assert case["case"] == path.stem and case["kind"] == "split"
        assert isinstance(case["sources"], dict) and case["sources"]
        assert not _floats(case), f"{path.name} has a money-like float"


def _floats(value: object) -> list[float]:
    if isinstance(value, dict):
        return [f for v in value.values() for f in _floats(v)]
    if isinstance(value, list):
        return [f for v in value for f in _floats(v)]
    return [value] if isinstance(value, float) else []
