"""The votes CSV reader: every row kept, bad cells as error codes, physical line numbers."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from corpact.errors import InputError
from corpact.meeting.votes import load_votes

HEADER = (
    "instruction_id,executed_at,voter,class,channel,proposal,nominee,choice,shares,discretionary"
)


def rows(tmp_path: Path, text: str) -> list[dict[str, object]]:
    path = tmp_path / "votes.csv"
    path.write_text(text, encoding="utf-8")
    table = load_votes(path, "America/New_York").table
    found: list[dict[str, object]] = table.select(
        ["line_no", "instruction_id", "executed_us", "voter", "choice", "shares",
         "discretionary", "header_error", "line_error"]
    ).to_pylist()  # fmt: skip
    return found


def test_rows_cells_and_error_codes(tmp_path: Path) -> None:
    found = rows(
        tmp_path,
        f"{HEADER}\n"
        "# a comment keeps the line numbers physical\n"
        " A1 , 2024-05-01T12:00 , H1 ,, internet , p1 ,, FOR ,, \n"
        "A1,2024-05-01T12:00,H1,,internet,p2,,against,10.5,yes\n"
        "\n"
        ",,,\n"
        "A2,not a time,H2,,internet,p1,,for,,\n"
        "A3,not a time,,,fax,p1,,for,1.2345678,maybe\n"
        "A4,2024-05-01T12:00:00+00:00,H4,,internet,p1\n"  # short row: missing cells are empty
        "A5,2024-05-01T12:00Z,H5,,telephone,p1,,abstain,,n,extra,cells\n",
    )
    noon_ny_us = 1_714_579_200_000_000  # 2024-05-01 16:00 UTC
    assert [r["line_no"] for r in found] == [3, 4, 7, 8, 9, 10]
    assert found[0] | {"shares": None} == {
        "line_no": 3, "instruction_id": "A1", "executed_us": noon_ny_us, "voter": "H1",
        "choice": "for", "shares": None, "discretionary": False, "header_error": None,
        "line_error": None,
    }  # fmt: skip
    assert found[1]["shares"] == Decimal("10.5") and found[1]["discretionary"] is True
    assert (found[2]["header_error"], found[2]["executed_us"]) == ("bad_time", None)
    # A missing voter outranks the bad time; a bad quantity outranks the bad flag.
    assert (found[3]["header_error"], found[3]["line_error"]) == ("missing_field", "bad_shares")
    assert found[4]["header_error"] is None and found[4]["choice"] == ""
    assert found[4]["executed_us"] == noon_ny_us - 4 * 3600 * 1_000_000
    assert (found[5]["executed_us"], found[5]["line_error"]) == (found[4]["executed_us"], None)


def test_a_repeated_column_reads_its_last_copy(tmp_path: Path) -> None:
    found = rows(tmp_path, f"{HEADER},choice\nA1,2024-05-01T12:00,H1,,internet,p1,,for,,,against\n")
    assert found[0]["choice"] == "against"


def test_a_quantity_beyond_the_share_digits_is_a_bad_line(tmp_path: Path) -> None:
    """24 digits before the point is what a share quantity may have; more is `bad_shares`."""
    found = rows(
        tmp_path,
        f"{HEADER}\n"
        "A1,2024-05-01T12:00,H1,,nominee,p1,,for,123456789012345678901234.5,\n"
        "A1,2024-05-01T12:00,H1,,nominee,p2,,for,1234567890123456789012345,\n"
        "A1,2024-05-01T12:00,H1,,nominee,p3,,for,1e400,\n",
    )
    assert [r["line_error"] for r in found] == [None, "bad_shares", "bad_shares"]
    assert found[0]["shares"] == Decimal("123456789012345678901234.5")


def test_a_file_that_is_not_utf8_is_refused_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "votes.csv"
    path.write_bytes(f"{HEADER}\n".encode() + b"A\xe91,2024-05-01T12:00,H1,,internet,p1,,for,,\n")
    with pytest.raises(InputError) as caught:
        load_votes(path, "UTC")
    (problem,) = caught.value.problems
    assert (problem.rule, problem.line, problem.source) == ("file-utf8", 2, "votes.csv")
