"""Bad input is refused with the file, line or field and the rule, and nothing is computed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from corpact.errors import InputError, LifecycleError
from corpact.split import apply_split, load_register, load_split
from corpact.split.register import parse_register
from tests.split.helpers import DELETE, register_of, split_dict, terms_from, write_split


def _rules(err: InputError) -> list[str]:
    return [p.rule for p in err.problems]


def _refused(tmp_path: Path, data: dict[str, Any]) -> InputError:
    with pytest.raises(InputError) as caught:
        terms_from(tmp_path, data)
    return caught.value


def test_base_split_is_valid(tmp_path: Path) -> None:
    terms = terms_from(tmp_path, split_dict())
    assert str(terms.ratio) == "1-for-10"


def test_ratio_not_authorized_names_file_line_and_field(tmp_path: Path) -> None:
    err = _refused(tmp_path, split_dict(resolution__ratio="1-for-12"))
    problem = err.problems[0]
    assert problem.rule == "ratio-not-authorized"
    assert problem.field == "resolution.ratio"
    assert problem.source is not None and problem.source.endswith("split.yaml")
    lines = (tmp_path / "split.yaml").read_text().splitlines()
    assert problem.line is not None and "ratio: 1-for-12" in lines[problem.line - 1]
    assert "1-for-5, 1-for-10, 1-for-15, 1-for-20" in problem.message


def test_forward_ratio_against_a_reverse_authority(tmp_path: Path) -> None:
    err = _refused(tmp_path, split_dict(resolution__ratio="2-for-1"))
    assert _rules(err) == ["ratio-not-authorized"]


def test_expired_authority(tmp_path: Path) -> None:
    err = _refused(
        tmp_path,
        split_dict(authority__inline__expires_on="2023-06-10"),
    )
    assert _rules(err) == ["authority-expired"]
    assert err.problems[0].field == "resolution.effective_at"


def test_decision_after_expiry_is_also_reported(tmp_path: Path) -> None:
    err = _refused(tmp_path, split_dict(authority__inline__expires_on="2023-05-01"))
    assert sorted(p.field or "" for p in err.problems) == [
        "resolution.decided_on",
        "resolution.effective_at",
    ]


def test_abandoned_authority(tmp_path: Path) -> None:
    err = _refused(
        tmp_path, split_dict(resolution__abandoned=True, resolution__abandoned_on="2023-06-05")
    )
    assert _rules(err) == ["authority-abandoned"]


def test_proposal_that_did_not_pass(tmp_path: Path) -> None:
    err = _refused(tmp_path, split_dict(authority__inline__passed=False))
    assert _rules(err) == ["proposal-not-passed"]


def test_wrong_delegate(tmp_path: Path) -> None:
    err = _refused(tmp_path, split_dict(resolution__decided_by="committee:pricing"))
    assert _rules(err) == ["delegate-mismatch"]


def test_cash_policy_without_price(tmp_path: Path) -> None:
    err = _refused(tmp_path, split_dict(fractional__price=DELETE))
    assert _rules(err) == ["cash-policy-needs-price"]
    assert err.problems[0].field == "fractional.price"


def test_price_basis_is_mandatory(tmp_path: Path) -> None:
    err = _refused(tmp_path, split_dict(fractional__price__basis=DELETE))
    assert _rules(err) == ["split-file-schema"]
    assert err.problems[0].field == "fractional.price.basis"


def test_money_written_as_a_float_is_refused(tmp_path: Path) -> None:
    data = split_dict()
    data["fractional"]["price"]["close"] = 1.2
    err = _refused(tmp_path, data)
    assert err.problems[0].field == "fractional.price.close"
    assert "quoted" in err.problems[0].message


def test_prior_close_must_precede_the_effective_date(tmp_path: Path) -> None:
    err = _refused(tmp_path, split_dict(fractional__price__close_on="2023-06-14"))
    assert _rules(err) == ["price-date"]


def test_round_down_without_cash_needs_override_in_delaware(tmp_path: Path) -> None:
    err = _refused(tmp_path, split_dict(fractional__policy="round_down_no_cash"))
    assert _rules(err) == ["round-down-needs-override"]
    overridden = split_dict(
        fractional__policy="round_down_no_cash", fractional__allow_round_down_without_cash=True
    )
    assert terms_from(tmp_path, overridden).fractional.policy.value == "round_down_no_cash"


def test_many_problems_are_reported_together(tmp_path: Path) -> None:
    err = _refused(
        tmp_path,
        split_dict(
            resolution__ratio="1-for-12",
            fractional__price=DELETE,
            resolution__decided_by="ceo",
        ),
    )
    assert sorted(_rules(err)) == [
        "cash-policy-needs-price",
        "delegate-mismatch",
        "ratio-not-authorized",
    ]


def test_expiry_at_an_undated_meeting_needs_an_attestation(tmp_path: Path) -> None:
    data = split_dict(
        authority__inline__expires_on=None,
        authority__inline__expires_at_meeting="2023 annual meeting",
    )
    assert _rules(_refused(tmp_path, data)) == ["expiry-needs-attestation"]
    data["resolution"]["expiry_meeting_not_held_attested"] = True
    assert terms_from(tmp_path, data).authority.expires_at_meeting == "2023 annual meeting"
    data["authority"]["inline"]["expiry_meeting_date"] = "2023-06-14"
    assert _rules(_refused(tmp_path, data)) == ["authority-expired"]


def test_duplicate_holder_in_register(tmp_path: Path) -> None:
    path = tmp_path / "register.csv"
    path.write_text(
        "holder_id,name,class_id,shares,holding_form\n"
        "H1,Ann,common,100,drs\nH2,Bob,common,5,drs\nH1,Ann again,common,7,certificate\n"
    )
    with pytest.raises(InputError) as caught:
        load_register(path)
    problem = caught.value.problems[0]
    assert (problem.rule, problem.line, problem.field) == (
        "register-duplicate-holder",
        4,
        "holder_id",
    )
    assert problem.source == str(path)
    assert "line 2" in problem.message


@pytest.mark.parametrize(
    ("row", "rule", "field"),
    [
        ("H1,Ann,common,-5,drs", "register-negative-position", "shares"),
        ("H1,Ann,common,2.5,drs", "register-whole-shares", "shares"),
        ("H1,Ann,common,5,street", "register-holding-form", "holding_form"),
        ("H1,,common,5,drs", "register-required", "name"),
        ("H1,Ann,common,5", "register-row-width", "*"),
    ],
)
def test_bad_register_rows(row: str, rule: str, field: str) -> None:
    text = "holder_id,name,class_id,shares,holding_form\nH0,Zed,common,1,drs\n" + row + "\n"
    with pytest.raises(InputError) as caught:
        parse_register(text, source="reg.csv")
    problem = caught.value.problems[0]
    assert (problem.rule, problem.line, problem.field, problem.source) == (
        rule,
        3,
        field,
        "reg.csv",
    )


def test_register_header_problems() -> None:
    with pytest.raises(InputError) as caught:
        parse_register("holder_id,name,klass,shares,holding_form\n", source="reg.csv")
    assert sorted(p.field or "" for p in caught.value.problems) == ["class_id", "klass"]


def test_negative_position_built_in_memory_is_refused_by_the_engine(tmp_path: Path) -> None:
    terms = terms_from(tmp_path, split_dict())
    with pytest.raises(InputError) as caught:
        apply_split(terms, register_of([100, -3]))
    assert caught.value.problems[0].rule == "register-negative-position"


def test_register_class_not_in_split(tmp_path: Path) -> None:
    terms = terms_from(tmp_path, split_dict())
    with pytest.raises(InputError) as caught:
        apply_split(terms, register_of([100], class_id="preferred"))
    assert caught.value.problems[0].rule == "register-class-unknown"


def test_second_execution_of_an_authority_is_rejected(tmp_path: Path) -> None:
    terms = terms_from(tmp_path, split_dict())
    first = apply_split(terms, register_of([105, 7]))
    with pytest.raises(LifecycleError):
        apply_split(terms, register_of([105, 7]), executed_authorities={first.event.authority_id})


def test_register_already_carrying_the_new_cusip_is_refused(tmp_path: Path) -> None:
    data = split_dict()
    data["classes"][0] |= {"old_cusip": "64132K102", "new_cusip": "64132K201"}
    terms = terms_from(tmp_path, data)
    text = "holder_id,name,class_id,shares,holding_form,cusip\nH1,Ann,common,5,drs,64132K201\n"
    register = parse_register(text, source="reg.csv")
    with pytest.raises(InputError) as caught:
        apply_split(terms, register)
    assert caught.value.problems[0].rule == "register-cusip-mismatch"
    assert "already split" in caught.value.problems[0].message


def test_round_up_beyond_authorized_shares_is_refused(tmp_path: Path) -> None:
    data = split_dict(resolution__ratio="1-for-5", fractional__policy="round_up")
    data["classes"][0]["authorized_before"] = 2
    terms = terms_from(tmp_path, data)
    with pytest.raises(InputError) as caught:
        apply_split(terms, register_of([6, 6]))  # 2 x ceil(6/5) = 4 > 2
    assert caught.value.problems[0].rule == "authorized-exceeded"


def test_meeting_result_problems_name_the_json_file(tmp_path: Path) -> None:
    meeting = {
        "meeting": {"id": "m", "issuer": "X", "date": "2023-01-10", "record_date": "2022-12-01"},
        "proposals": [
            {
                "id": "rs",
                "kind": "reverse_split",
                "title": "t",
                "passed": False,
                "split_authority": {
                    "ratios": ["1-for-5"],
                    "range": None,
                    "expires_on": None,
                    "delegate": "board",
                },
            }
        ],
    }
    (tmp_path / "result.json").write_text(json.dumps(meeting))
    data = split_dict(resolution__ratio="1-for-5")
    data["authority"] = {"meeting": {"meeting_result": "result.json", "proposal": "nope"}}
    err = _refused(tmp_path, data)
    assert err.problems[0].rule == "authority-proposal-unknown"
    assert err.problems[0].source == str(tmp_path / "result.json")
    data["authority"]["meeting"]["proposal"] = "rs"
    assert _rules(_refused(tmp_path, data)) == ["proposal-not-passed"]


def test_yaml_syntax_error_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "split.yaml"
    path.write_text("split:\n  id: x\n  issuer: [unclosed\n")
    with pytest.raises(InputError) as caught:
        load_split(path)
    assert caught.value.problems[0].rule == "file-syntax"
    assert caught.value.problems[0].line is not None


def test_toml_split_file_is_accepted(tmp_path: Path) -> None:
    yaml_terms = terms_from(tmp_path, split_dict())
    toml = Path(__file__).parent / "data" / "inputs" / "split.toml"
    assert load_split(toml).ratio == yaml_terms.ratio
    assert write_split(tmp_path, split_dict()).exists()
