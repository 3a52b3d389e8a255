"""End-to-end CLI: outcome calculator, tabulate outputs, validate, schemas, demo."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from corpact.cli.common import examples_root
from corpact.meeting.jsonout import dumps
from corpact.meeting.meeting_file import meeting_json_schema
from corpact.meeting.schemas import register_json_schema, votes_json_schema
from tests.cli_helpers import run_cli

EXAMPLE = examples_root() / "level3-2007-meeting"
FILES = [str(EXAMPLE / n) for n in ("meeting.yaml", "register.csv", "votes.csv")]
SCHEMAS = Path(__file__).resolve().parents[2] / "docs" / "schemas"


def outcome(*args: str) -> dict[str, Any]:
    result = run_cli("meeting", "outcome", *args, "--format", "json")
    assert result.exit_code == 0, result.stderr
    data: dict[str, Any] = json.loads(result.stdout, parse_float=Decimal)
    return data


def test_outcome_majority_of_outstanding_ubx() -> None:
    data = outcome(
        "--standard",
        "outstanding",
        "--for",
        "91661622",
        "--against",
        "3314490",
        "--abstain",
        "319183",
        "--outstanding",
        "140226122",
    )
    assert data["passed"] is True
    assert (data["numerator"], data["denominator"]) == (91661622, 140226122)
    assert data["threshold"] == "1/2"
    assert data["votes_needed"] == 70113062
    assert data["percent_for_4dp"] == "65.3670"
    assert abs(data["percent_for"] - Decimal("65.36700915")) < Decimal("0.0000001")


def test_outcome_votes_cast_fails_dennis() -> None:
    data = outcome(
        "--standard",
        "votes_cast",
        "--for",
        "43951801",
        "--against",
        "49933646",
        "--abstain",
        "212087",
        "--broker-non-votes",
        "16599710",
    )
    assert data["passed"] is False
    assert data["denominator"] == 43951801 + 49933646
    assert data["percent_for_4dp"] == "46.8143"


def test_outcome_strict_and_not_strict_at_exactly_the_threshold() -> None:
    args = [
        "--standard",
        "outstanding",
        "--threshold",
        "4/5",
        "--for",
        "80",
        "--against",
        "0",
        "--outstanding",
        "100",
    ]
    assert outcome(*args, "--no-strict")["passed"] is True
    assert outcome(*args, "--strict")["passed"] is False
    assert outcome(*args, "--no-strict")["percent_for"] == 80


def test_outcome_present_and_entitled_counts_abstentions_against() -> None:
    data = outcome(
        "--standard",
        "present_and_entitled",
        "--for",
        "25646101",
        "--against",
        "592472",
        "--abstain",
        "51291",
    )
    assert data["percent_for_4dp"] == "97.5513" and data["passed"] is True


def test_outcome_plurality_and_a_tie_under_votes_cast() -> None:
    assert outcome("--standard", "plurality", "--for", "1", "--against", "9")["passed"] is True
    assert outcome("--standard", "votes_cast", "--for", "5", "--against", "5")["passed"] is False
    assert outcome("--standard", "votes_cast", "--for", "0", "--against", "0")["passed"] is False


@pytest.mark.parametrize(
    "args",
    [
        ["--standard", "outstanding", "--for", "1", "--against", "1"],
        ["--standard", "votes_cast", "--for", "-1", "--against", "1"],
        ["--standard", "votes_cast", "--for", "1", "--against", "1", "--threshold", "3/2"],
    ],
)
def test_outcome_bad_input_exits_1_with_a_message(args: list[str]) -> None:
    result = run_cli("meeting", "outcome", *args, "--format", "json")
    assert result.exit_code == 1
    assert "error:" in result.stderr


def test_tabulate_reference_meeting_outputs(tmp_path: Path) -> None:
    table = run_cli("meeting", "tabulate", *FILES)
    assert table.exit_code == 0, table.stderr
    assert "SYNTHETIC" in table.stdout and "1,112,500,000" in table.stdout
    # The summary counts each kind of exception apart, as the report lists them.
    assert (
        "Rejected: 4 instructions and 2 lines; revoked: 2 instructions; over-votes cut back: 1."
        in table.stdout
    )
    data = json.loads(run_cli("meeting", "tabulate", *FILES, "--format", "json").stdout)
    split = next(p for p in data["proposals"] if p["id"] == "reverse-split")
    assert split["kind"] == "reverse_split" and split["passed"] is True
    assert split["split_authority"] == {
        "ratios": ["1-for-5", "1-for-10", "1-for-15", "1-for-20"],
        "range": None,
        "expires_on": "2008-05-15",  # synthetic, set for the split example
        "delegate": "board",
    }
    assert all(p["split_authority"] is None for p in data["proposals"] if p is not split)
    assert {"id", "issuer", "date", "record_date"} <= set(data["meeting"])
    csv_out = run_cli("meeting", "tabulate", *FILES, "--format", "csv").stdout.splitlines()
    assert csv_out[0].startswith("proposal,number,item") and len(csv_out) == 1 + 6 + 2
    out = tmp_path / "result.json"
    report, item_507 = tmp_path / "report.txt", tmp_path / "8k.txt"
    written = run_cli(
        "meeting",
        "tabulate",
        *FILES,
        "--format",
        "json",
        "--output",
        str(out),
        "--report",
        str(report),
        "--8k",
        str(item_507),
    )
    assert written.exit_code == 0 and json.loads(out.read_text()) == data
    assert "REPORT OF THE INSPECTOR OF ELECTION" in report.read_text()
    assert "Item 5.07" in item_507.read_text()


def test_reference_meeting_checks_from_the_spec() -> None:
    data = json.loads(
        run_cli("meeting", "tabulate", *FILES, "--format", "json").stdout, parse_float=Decimal
    )
    by_id = {p["id"]: p for p in data["proposals"]}
    directors = by_id["directors"]["nominees"]
    # check 3: a Class I and a Class III seat both end at the 2008 meeting
    assert {(n["director_class"], n["term_ends"]) for n in directors} == {
        ("I", "2008 annual meeting"),
        ("III", "2008 annual meeting"),
    }
    # check 4: 2007 < 2010: no BNV on directors or the split, BNV on the stockholder proposal
    assert all(n["tally"]["broker_non_vote"] == 0 for n in directors)
    assert by_id["reverse-split"]["tally"]["broker_non_vote"] == 0
    assert by_id["supermajority-proposal"]["tally"]["broker_non_vote"] > 0
    # check 2: governed by F > O/2, compared with the post-2023 votes-cast standard
    split = by_id["reverse-split"]
    assert split["test"]["denominator"] == data["classes"][0]["outstanding_votes"]
    assert split["compare_under"][0]["label"] == "votes_cast"
    # check 5: a passing precatory proposal is a recommendation only
    assert by_id["supermajority-proposal"]["recommendation_only"] is True
    report = data["report"]
    assert {r["reason"] for r in report["rejections"]} == {
        "conflicting_same_time",
        "negative_shares",
        "choice_not_allowed",
        "after_polls_closed",
        "unknown_voter",
    }
    assert [a["voter"] for a in report["adjustments"]] == ["P0352"]


def test_sections_report_press_8k() -> None:
    press = run_cli("meeting", "tabulate", *FILES, "--section", "press").stdout
    assert "Re-elected Walter Scott, Jr., James Q. Crowe and Robert E. Julian as Class I" in press
    report = run_cli("meeting", "tabulate", *FILES, "--section", "report").stdout
    assert "H999" in report and "unknown_voter" in report and "P0352" in report


def test_validate_and_errors() -> None:
    ok = run_cli("meeting", "validate", *FILES)
    assert ok.exit_code == 0 and ok.stdout.rstrip().endswith("valid")
    missing = run_cli("meeting", "tabulate", "nope.yaml", *FILES[1:])
    assert missing.exit_code == 1 and "no such file" in missing.stderr


def test_bad_meeting_file_names_the_field(tmp_path: Path) -> None:
    text = (EXAMPLE / "meeting.yaml").read_text().replace("preset: plurality", "preset: plural")
    bad = tmp_path / "meeting.yaml"
    bad.write_text(text)
    result = run_cli("meeting", "validate", str(bad))
    assert result.exit_code == 1
    assert "proposals.0.standard.preset" in result.stderr


@pytest.mark.parametrize(
    ("name", "generate"),
    [
        ("meeting", meeting_json_schema),
        ("meeting-register", register_json_schema),
        ("meeting-votes", votes_json_schema),
    ],
)
def test_committed_schema_equals_generated(name: str, generate: Any) -> None:
    committed = (SCHEMAS / f"{name}.schema.json").read_text()
    assert committed == dumps(generate())


def test_demo_section_runs() -> None:
    result = run_cli("demo", "meeting")
    assert result.exit_code == 0, result.stderr
    assert "Item 5.07" in result.stdout and '"passed": true' in result.stdout
