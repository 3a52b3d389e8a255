"""`corpact price` end to end through the real CLI."""

from __future__ import annotations

import json

import pytest

from corpact.cli.price import demo_steps
from tests.cli_helpers import run_cli

ROGERS_1 = [
    "price", "fixed-spread", "--coupon", "4.350", "--maturity", "2049-05-01",
    "--settlement", "2025-07-23", "--reference-yield", "4.996", "--spread-bps", "80",
    "--par-call", "2048-11-01",
]  # fmt: skip


def test_fixed_spread_json_has_the_documented_fields() -> None:
    result = run_cli(*ROGERS_1, "--early-tender-payment", "50", "--format", "json")
    assert result.exit_code == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["total_consideration"] == "814.59"
    assert out["tender_offer_consideration"] == "764.59"
    assert out["accrued_interest"] == "9.91"  # 82 days of 30/360 at 4.350%
    assert out["yield"] == "5.796"
    assert out["binding_end_date"] == "2049-05-01"
    assert out["coupons_left"] == "48"


def test_fixed_spread_table_and_csv() -> None:
    table = run_cli(*ROGERS_1, "--format", "table")
    assert table.exit_code == 0, table.stderr
    assert "total_consideration" in table.stdout and "814.59" in table.stdout
    csv_out = run_cli(*ROGERS_1, "--format", "csv")
    header, row = csv_out.stdout.strip().splitlines()
    fields = dict(zip(header.split(","), row.split(","), strict=True))
    assert fields["total_consideration"] == "814.59"


def test_reference_yield_from_a_treasury_bid() -> None:
    result = run_cli(
        "price", "fixed-spread", "--coupon", "4.350", "--maturity", "2049-05-01",
        "--settlement", "2025-07-23", "--spread-bps", "80", "--treasury-bid", "95-00",
        "--treasury-coupon", "4.625", "--treasury-maturity", "2055-02-15",
        "--treasury-settlement", "2025-07-21", "--format", "json",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["reference_yield"] == "4.948"  # QuantLib: 4.94849 % at 95-00 settling 2025-07-21
    assert out["treasury_bid"] == "95"


def test_yield_accrued_and_treasury_commands() -> None:
    found = run_cli(
        "price", "yield", "--coupon", "4.350", "--maturity", "2049-05-01", "--settlement",
        "2025-07-23", "--price", "814.5850363873809687", "--reference-yield", "4.996",
        "--format", "json",
    )  # fmt: skip
    assert found.exit_code == 0, found.stderr
    out = json.loads(found.stdout)
    assert out["yield"] == "5.796"
    assert out["spread_bps"] == "80"
    accrued = run_cli(
        "price", "accrued", "--coupon", "11", "--maturity", "2008-03-15", "--settlement",
        "2004-12-02", "--principal", "229226000", "--format", "json",
    )  # fmt: skip
    out = json.loads(accrued.stdout)
    assert (out["accrued_interest"], out["days"], out["last_coupon_date"]) == (
        "23.53",
        "77",
        "2004-09-15",
    )
    assert out["accrued_interest_on_principal"] == "5393178.39"
    treasury = run_cli(
        "price", "treasury-yield", "--coupon", "4.625", "--maturity", "2055-02-15",
        "--settlement", "2025-07-21", "--bid", "95-00", "--format", "json",
    )  # fmt: skip
    assert json.loads(treasury.stdout)["yield_3dp"] == "4.948"


@pytest.mark.parametrize(
    ("extra", "needle"),
    [
        (["--day-count", "30/365"], "field '--day-count'"),
        (["--frequency", "3"], "field 'frequency'"),
        (["--issue-date", "2025-08-01"], "settlement-after-issue"),
        (
            ["--first-coupon", "2025-12-15", "--issue-date", "2025-01-01"],
            "first-coupon-on-schedule",
        ),
        (["--maturity", "2025-07-01"], "before-maturity"),
    ],
)
def test_bad_input_is_rejected_with_field_and_rule(extra: list[str], needle: str) -> None:
    argv = list(ROGERS_1)
    if "--maturity" in extra:
        argv[argv.index("--maturity") + 1] = extra[1]
        argv = argv[: argv.index("--par-call")]
        extra = []
    result = run_cli(*argv, *extra, "--format", "json")
    assert result.exit_code == 1
    assert needle in result.stderr
    assert "nothing was changed" in result.stderr
    assert result.stdout == ""


def test_unreachable_yield_is_rejected() -> None:
    result = run_cli(
        "price", "yield", "--coupon", "5", "--maturity", "2026-07-01", "--settlement",
        "2025-07-23", "--price", "0.0001",
    )  # fmt: skip
    assert result.exit_code == 1
    assert "yield-reachable" in result.stderr


def test_demo_runs_every_step() -> None:
    steps = demo_steps()
    assert len(steps) >= 8
    for step in steps:
        result = run_cli(*step.argv)
        assert result.exit_code == 0, (step.title, result.stderr)
    demo = run_cli("demo", "price")
    assert demo.exit_code == 0, demo.stderr
    for expected in ["814.59", "738.97", "980.36", "926.39", "7.86,", "23.53,", "0.29,", "22.99,"]:
        assert expected in demo.stdout
