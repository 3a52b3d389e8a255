"""The column reader of the votes CSV gives the row reader's table, or declines the file."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from corpact.cli.common import examples_root
from corpact.csvfiles import columns as plain_csv
from corpact.csvfiles.columns import PYTHON_WHITESPACE, Column
from corpact.csvfiles.text import cells_of_text
from corpact.inputfiles import universal_newlines
from corpact.meeting import votes
from corpact.meeting.register import SHARES_TYPE
from corpact.meeting.votes import VOTE_CSV_COLUMNS, VoteBook, _parse_rows, load_votes
from corpact.meeting.votes_columnar import read_votes_columnar

NEW_YORK = ZoneInfo("America/New_York")

# Cells a vote file holds, good and bad, with the padding and case real files have.
CELLS = {
    "instruction_id": ["A1", "A2", " A3 ", "", "B-17"],
    "executed_at": [
        "2024-05-01T12:00", "2024-05-01T12:00:00-04:00", " 2024-05-01T16:00Z ", "2024-05-01",
        "2024-03-10T02:30", "2024-11-03T01:30", "2024-05-01T12:00:00.5+02:00", "not a time",
        "2024-02-30T10:00", "", "2024-05-01T12:00+02:00", "2024-05-01T12:00:00.123+05:30",
        "2024-05-01T12:00:00.123456Z", "2024-12-31T23:59:59-23:59", "0999-05-01T12:00Z",
        "2024-05-01T12:00:60Z", "2024-05-01 12:00Z", "2024-05-01T12:00:00.1234567Z",
    ],
    # One impossible date among strict times sends every time to `parse_instant`.
    "executed_at_or_impossible": ["2023-02-29T10:00:00Z"],
    "voter": ["H1", "H2", " H3", "", "N-9"],
    "class": ["", "common", " preferred "],
    "channel": ["internet", "proxy_card", " nominee ", "fax", "", "Internet"],
    "proposal": ["p1", "p2", " 1 ", ""],
    "nominee": ["", "n1", " n2 "],
    "choice": ["for", "AGAINST", " Abstain ", "withhold", "1 year", "maybe", ""],
    "shares": ["", "100", "1000.50", "-5", "1.1234567", "NaN", "1e3", " 7 ", "abc", "1e400",
               "12345678901234567890123456789012.5", "123456789012345678901234567890123"],
    "discretionary": ["", "yes", "No", " TRUE ", "1", "maybe"],
}  # fmt: skip


@st.composite
def plain_files(draw: st.DrawFn) -> str:
    """Files the column reader should take: any header order and subset, any cells."""
    required = ["instruction_id", "executed_at", "voter", "channel", "proposal", "choice"]
    optional = draw(st.lists(st.sampled_from(["class", "nominee", "shares", "discretionary"]),
                             unique=True))  # fmt: skip
    header = draw(st.permutations(required + optional))
    times = CELLS["executed_at"] + draw(st.sampled_from([[], CELLS["executed_at_or_impossible"]]))
    cells = {**CELLS, "executed_at": times}
    rows = draw(
        st.lists(
            st.tuples(*(st.sampled_from(cells[name]) for name in header)), min_size=1, max_size=25
        )
    )
    lead = draw(st.sampled_from(["", "# exported by a voting system\n", "\n# two\n\n"]))
    body = "\n".join(",".join(row) for row in rows)
    return lead + ",".join(header) + "\n" + body + draw(st.sampled_from(["", "\n"]))


def columnar(text: str) -> tuple[list[str], pa.Table] | None:
    found = read_votes_columnar(universal_newlines(text.encode()), NEW_YORK)
    if found is None:
        return None
    header, table, encoded = found
    # The reader's encodings number the lines exactly as the vote book would by itself.
    given, own = VoteBook(table, "given", encoded).codes, VoteBook(table, "own").codes
    assert given.lines.equals(own.lines) and given.header_sizes == own.header_sizes
    assert all(given.names[c].equals(own.names[c]) for c in own.names)
    return header, table


def row_reader(text: str) -> pa.Table:
    header, records = cells_of_text(text)
    return _parse_rows(header, records, NEW_YORK)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(plain_files())
def test_plain_files_are_read_by_column_as_by_row(text: str) -> None:
    found = columnar(text)
    expected = row_reader(text)
    if found is None:
        # Only a file of blank-celled lines may be declined here: the row reader skips them.
        assert any(not "".join(row).strip() for row in _data_rows(text))
        return
    assert found[1].equals(expected), (found[1].to_pylist(), expected.to_pylist())


def _data_rows(text: str) -> list[list[str]]:
    lines = [line for line in text.split("\n") if line and not line.startswith("#")]
    return [line.split(",") for line in lines[1:]]


UNUSUAL = [
    pytest.param('"A1",2024-05-01T12:00,H1,,internet,p1,,for,,\n', id="quotes"),
    pytest.param(
        "A1,2024-05-01T12:00,H1,,internet,p1,,for,,\n\nA2,x,H2,,fax,p1,,for,,\n", id="blank line"
    ),
    pytest.param("A1,2024-05-01T12:00,H1,,internet,p1,,for,,\n# note\n", id="comment line"),
    pytest.param("A1,2024-05-01T12:00,H1,,internet,p1\n", id="short row"),
    pytest.param("A1,2024-05-01T12:00,H1,,internet,p1,,for,,,extra\n", id="long row"),
    pytest.param("A1,2024-05-01T12:00,H1,,internet,p1,,for,,\n#,,,,,,,,,\n", id="wide comment"),
    pytest.param("A1,2024-05-01T12:00,H1\x0c,,internet,p1,,for,,\n", id="form feed"),
    pytest.param("A1,2024-05-01T12:00,H1\u2028,,internet,p1,,for,,\n", id="line separator"),
    pytest.param(",,,,,,,,,\nA1,2024-05-01T12:00,H1,,internet,p1,,for,,\n", id="empty cells"),
    pytest.param(" , ,\xa0,,,,,,,\n", id="blank cells"),
]
HEADER = ",".join(VOTE_CSV_COLUMNS)


@pytest.mark.parametrize("body", UNUSUAL)
def test_unusual_files_go_to_the_row_reader(body: str) -> None:
    assert columnar(f"{HEADER}\n{body}") is None


def test_a_repeated_column_goes_to_the_row_reader() -> None:
    text = f"{HEADER},choice\nA1,2024-05-01T12:00,H1,,internet,p1,,for,,,against\n"
    assert columnar(text) is None


def test_load_votes_reads_both_kinds_the_same(tmp_path: Path) -> None:
    lines = [f"A{n},2024-05-01T12:{n % 60:02d},H{n % 7}, ,internet,p{n % 3},,For,{n},yes"
             for n in range(200)]  # fmt: skip
    plain = tmp_path / "plain.csv"
    plain.write_text(HEADER + "\n" + "\n".join(lines) + "\n", encoding="utf-8")
    quoted = tmp_path / "quoted.csv"  # the same votes, one cell quoted: read row by row
    quoted.write_text(HEADER + "\n" + "\n".join(lines).replace("H1,", '"H1",') + "\n")
    assert columnar(plain.read_text()) is not None
    assert columnar(quoted.read_text()) is None
    by_column = load_votes(plain, "America/New_York").table
    by_row = load_votes(quoted, "America/New_York").table
    assert by_column.equals(by_row)
    assert by_column.num_rows == 200 and by_column.column("line_no")[0].as_py() == 2


def test_the_whitespace_set_is_pythons() -> None:
    assert set(PYTHON_WHITESPACE) == {c for c in map(chr, range(0x110000)) if c.isspace()}


def test_line_ends_are_read_as_text_mode_reads_them(tmp_path: Path) -> None:
    body = "A1,2024-05-01T12:00,H1,,internet,p1,,for,,\r\nA2,2024-05-01T12:00,H2,,fax,p1,,for,,\r"
    path = tmp_path / "crlf.csv"
    path.write_bytes(f"{HEADER}\r\n{body}".encode())
    assert columnar(f"{HEADER}\r\n{body}") is not None
    expected = row_reader(path.read_text(encoding="utf-8"))
    assert load_votes(path, "America/New_York").table.equals(expected)
    assert expected.column("line_no").to_pylist() == [2, 3]


@pytest.mark.parametrize("space", list(PYTHON_WHITESPACE))
def test_every_python_blank_is_stripped_at_either_end(space: str) -> None:
    for cell in (f"{space}H1", f"H1{space}"):
        column = Column(pa.chunked_array([[cell, "H2"]]))
        assert column.stripped().to_pylist() == ["H1", "H2"]
    assert Column(pa.chunked_array([["H1", "H2"]])).stripped().to_pylist() == ["H1", "H2"]


def test_numbering_side_by_side_gives_the_same_numbers(monkeypatch: pytest.MonkeyPatch) -> None:
    lines = [f"A{n % 37},2024-05-01T12:{n % 60:02d}Z,H{n % 11},,internet,p{n % 3},,for,,"
             for n in range(500)]  # fmt: skip
    table = row_reader(HEADER + "\n" + "\n".join(lines) + "\n")
    serial = VoteBook(table, "serial").codes
    monkeypatch.setattr(votes, "PARALLEL_NUMBERING_ROWS", 0)
    parallel = VoteBook(table, "parallel").codes
    assert parallel.lines.equals(serial.lines) and parallel.header_sizes == serial.header_sizes
    assert all(parallel.names[c].equals(serial.names[c]) for c in serial.names)


def test_encoding_columns_side_by_side_reads_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    lines = [f"A{n % 37},2024-05-01T12:{n % 60:02d}Z,H{n % 11},,internet,p{n % 3},,For,{n},yes"
             for n in range(300)]  # fmt: skip
    text = HEADER + "\n" + "\n".join(lines) + "\n"
    serial = columnar(text)
    monkeypatch.setattr(plain_csv, "PARALLEL_ROWS", 0)
    parallel = columnar(text)
    assert serial is not None and parallel is not None
    assert parallel[1].equals(serial[1]) and parallel[0] == serial[0]


EXAMPLE_VOTES = examples_root() / "level3-2007-meeting" / "votes.csv"


def test_a_vote_book_from_arrow_marks_quantities_beyond_the_share_digits() -> None:
    """As the CSV readers would: a `bad_shares` line with no quantity, the others untouched."""
    table = load_votes(EXAMPLE_VOTES, "America/Denver").table
    quantities = table.column("shares").to_pylist()
    big = Decimal(10) ** 24
    changed = [big if i == 0 else -big if i == 1 else q for i, q in enumerate(quantities)]
    book = VoteBook.from_arrow(
        table.set_column(
            table.schema.get_field_index("shares"), "shares", pa.array(changed, SHARES_TYPE)
        )
    )
    errors = book.table.column("line_error").to_pylist()
    assert errors[:2] == ["bad_shares", "bad_shares"]
    assert errors[2:] == table.column("line_error").to_pylist()[2:]
    assert book.table.column("shares").to_pylist() == [None, None, *quantities[2:]]
