"""End-to-end: `corpact split validate|apply` through the real CLI."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from corpact.cli.common import examples_root
from tests.cli_helpers import run_cli
from tests.split.helpers import split_dict, write_split

EXAMPLE = examples_root() / "level3-2007-split"
SPLIT = str(EXAMPLE / "split.yaml")
REGISTER = str(EXAMPLE / "register.csv")


def test_validate_example() -> None:
    result = run_cli("split", "validate", SPLIT, REGISTER)
    assert result.exit_code == 0, result.stderr
    assert "1-for-15 reverse split of Level 3 Communications, Inc." in result.stdout
    assert "allows 1-for-5, 1-for-10, 1-for-15, 1-for-20" in result.stdout
    assert "12 record-holder rows, 1501189918 shares" in result.stdout
    assert "synthetic" in result.stdout


def test_apply_example_table() -> None:
    result = run_cli("split", "apply", SPLIT, REGISTER)
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert out.startswith("SYNTHETIC EXAMPLE")
    assert "1,501,189,918" in out and "100,079,322" in out
    assert "265.76" in out
    assert "0.0015" in out


def test_apply_example_json_reconciles() -> None:
    result = run_cli("split", "apply", SPLIT, REGISTER, "--format", "json")
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    (common,) = report["classes"]
    assert common["old_outstanding"] == 1501189918
    # 1,501,189,918 / 15 = 100,079,327 13/15; fractions per holder add up to 88/15
    assert common["exact_new"] == "1501189918/15"
    assert common["new_outstanding"] == 100079322
    assert common["fractions_total"] == "88/15"
    assert common["cash_total"] == report["cash_total"] == "265.76"
    assert common["par_reclass_to_apic"] == "14011105.96"
    assert report["event"]["kind"] == "split.executed"
    assert report["split"]["synthetic"] is True


def test_apply_example_csv() -> None:
    result = run_cli("split", "apply", SPLIT, REGISTER, "--format", "csv")
    assert result.exit_code == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [r["new_outstanding"] for r in rows] == ["100079322"]


def test_output_dir_files_and_second_execution_refused(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = run_cli(
        "split", "apply", SPLIT, REGISTER, "--output-dir", str(out), "--format", "json"
    )
    assert result.exit_code == 0, result.stderr
    assert sorted(p.name for p in out.iterdir()) == [
        "event.json",
        "payments.csv",
        "register.csv",
        "report.json",
    ]
    new_register = list(csv.DictReader(io.StringIO((out / "register.csv").read_text())))
    assert sum(int(r["shares"]) for r in new_register) == 100079322
    payments = list(csv.DictReader(io.StringIO((out / "payments.csv").read_text())))
    assert sum(int(p["amount"].replace(".", "")) for p in payments) == 26576
    assert {p["status"] for p in payments} == {"payable", "held_until_surrender"}
    again = run_cli("split", "apply", SPLIT, REGISTER, "--executed", str(out / "event.json"))
    assert again.exit_code == 1
    assert "already executed" in again.stderr


def test_refused_ratio_changes_nothing(tmp_path: Path) -> None:
    data = split_dict(resolution__ratio="1-for-12")
    split = write_split(tmp_path, data)
    out = tmp_path / "out"
    result = run_cli("split", "apply", str(split), REGISTER, "--output-dir", str(out))
    assert result.exit_code == 1
    assert "rule: ratio-not-authorized" in result.stderr
    assert "field 'resolution.ratio'" in result.stderr
    assert "nothing was changed" in result.stderr
    assert not out.exists()
    assert result.stdout == ""


def test_demo_section_runs() -> None:
    result = run_cli("demo", "split")
    assert result.exit_code == 0, result.stderr
    assert "1-for-15" in result.stdout
