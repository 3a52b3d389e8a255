"""Bad input: every rule named with its file, line or field; nothing is computed."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from corpact.cli.common import examples_root
from corpact.errors import InputError
from corpact.tender import build_ledger, load_terms
from corpact.tender.instructions import (
    CSV_COLUMNS,
    Instruction,
    ledger_from_csv_text,
    parse_instructions_csv,
    parse_instructions_csv_lenient,
    parse_row,
)
from corpact.tender.terms import OfferTerms
from tests.cli_helpers import run_cli
from tests.tender.builders import build_terms, offer_document, series_doc

OFFER = examples_root() / "level3-2004" / "offer.toml"
HEADER = "instruction_id,received_at,action,series,principal,currency,withdraws\n"


def level3() -> tuple[OfferTerms, Any]:
    return load_terms(OFFER)


def problems_for(csv_body: str) -> list[tuple[int | None, str | None, str]]:
    terms, amendments = level3()
    with pytest.raises(InputError) as caught:
        ledger_from_csv_text(terms, amendments, HEADER + csv_body, "in.csv")
    return [(p.line, p.field, p.rule) for p in caught.value.problems]


@pytest.mark.parametrize(
    ("row", "field", "rule"),
    [
        ("t1,2004-11-01T10:00,tender,no-such-series,1000,,", "series", "series-known"),
        ("t1,2004-11-01T10:00,tender,l3-11-2008,1500,,", "principal", "principal-increment"),
        ("t1,2004-11-01T10:00,tender,l3-11-2008,-5000,,", "principal", "principal-positive"),
        ("t1,2004-11-01T10:00,tender,l3-11-2008,lots,,", "principal", "principal-numeric"),
        ("t1,2004-11-01T10:00,tender,l3-11-2008,1000,EUR,", "currency", "currency-match"),
        ("t1,2004-13-01T10:00,tender,l3-11-2008,1000,,", "received_at", "timestamp-format"),
        ("t1,2004-12-03T10:00,tender,l3-11-2008,1000,,", "received_at", "tender-before-expiration"),
        ("t1,2004-10-01T10:00,tender,l3-11-2008,1000,,", "received_at", "tender-after-launch"),
        ("t1,2004-11-01T10:00,buy,l3-11-2008,1000,,", "action", "action-known"),
        ("w1,2004-11-01T10:00,withdraw,,,,nobody", "withdraws", "withdraw-known-tender"),
        (
            "t" * 257 + ",2004-11-01T10:00,tender,l3-11-2008,1000,,",
            "instruction_id",
            "instruction-id-length",
        ),
    ],
)
def test_each_bad_row_names_its_line_field_and_rule(row: str, field: str, rule: str) -> None:
    assert problems_for(row + "\n") == [(2, field, rule)]


def test_below_the_minimum_denomination() -> None:
    document = offer_document([series_doc("a", 1, 10_000_000, minimum_denomination=2000)])
    terms, amendments = build_terms(document)
    body = "t1,2020-01-07T10:00,tender,a,1000,,\n"
    with pytest.raises(InputError) as caught:
        build_ledger(terms, amendments, parse_instructions_csv(HEADER + body, terms, "x.csv"))
    assert [p.rule for p in caught.value.problems] == ["minimum-denomination"]


def test_same_id_same_payload_is_idempotent_but_another_payload_is_refused() -> None:
    terms, amendments = level3()
    same = "t1,2004-11-01T10:00,tender,l3-11-2008,1000,,\n" * 2
    ledger = build_ledger(terms, amendments, parse_instructions_csv(HEADER + same, terms, "x"))
    assert len(ledger.tenders) == 1 and ledger.duplicates == ["t1"]
    changed = (
        "t1,2004-11-01T10:00,tender,l3-11-2008,1000,,\n"
        "t1,2004-11-01T10:00,tender,l3-11-2008,2000,,\n"
    )
    assert problems_for(changed) == [(3, "instruction_id", "instruction-id-unique")]


def test_withdrawal_rules() -> None:
    twice = (
        "t1,2004-11-20T10:00,tender,l3-11-2008,1000,,\n"
        "w1,2004-11-21T10:00,withdraw,,,,t1\n"
        "w2,2004-11-22T10:00,withdraw,,,,t1\n"
    )
    assert problems_for(twice) == [(4, "withdraws", "withdraw-once")]
    # Tendered before the early tender date: no withdrawal after it (Level 3 rule).
    late_withdrawal = (
        "t1,2004-11-01T10:00,tender,l3-11-2008,1000,,\nw1,2004-11-13T10:00,withdraw,,,,t1\n"
    )
    assert problems_for(late_withdrawal) == [(3, "received_at", "withdrawal-deadline")]
    # Tendered after it: withdrawable until expiration, which the amendment moved to 2 Dec.
    ok = "t1,2004-11-20T10:00,tender,l3-11-2008,1000,,\nw1,2004-12-01T10:00,withdraw,,,,t1\n"
    terms, amendments = level3()
    ledger = build_ledger(terms, amendments, parse_instructions_csv(HEADER + ok, terms, "x"))
    assert ledger.withdrawn_by == {"t1": "w1"}


def test_all_problems_are_reported_at_once() -> None:
    body = (
        "t1,2004-11-01T10:00,tender,nope,1000,,\n"
        "t2,2004-11-01T10:00,tender,l3-11-2008,1500,,\n"
        "t3,yesterday,tender,l3-11-2008,1000,,\n"
    )
    assert sorted(problems_for(body)) == [
        (2, "series", "series-known"),
        (3, "principal", "principal-increment"),
        (4, "received_at", "timestamp-format"),
    ]


def contradiction(document: dict[str, Any]) -> list[str]:
    with pytest.raises(InputError) as caught:
        build_terms(document)
    return [p.rule for p in caught.value.problems]


def test_terms_that_contradict_themselves() -> None:
    shared = offer_document([series_doc("a", 1, 1000000), series_doc("b", 1, 1000000)])
    assert contradiction(shared) == ["one-series-per-level"]
    above = offer_document([series_doc("a", 1, 1000000, sub_cap={"amount": "2000000"})])
    assert contradiction(above) == ["sub-cap-within-outstanding"]
    no_fx = offer_document(
        [series_doc("a", 1, 1000000, currency="EUR")],
        aggregate_cap={"amount": "500000", "currency": "USD"},
    )
    assert contradiction(no_fx) == ["fx-rate-present"]


def test_floats_are_refused_in_terms(tmp_path: Path) -> None:
    text = OFFER.read_text().replace('rate = "1.2973"', "rate = 1.2973")
    path = tmp_path / "offer.toml"
    path.write_text(text)
    with pytest.raises(InputError) as caught:
        load_terms(path)
    assert caught.value.problems[0].field == "fx_rates.0.rate"
    assert "not floats" in caught.value.problems[0].message


def test_cli_reports_problems_and_exits_non_zero(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text(HEADER + "t1,2004-11-01T10:00,tender,l3-11-2008,1500,,\n")
    result = run_cli("tender", "results", str(OFFER), str(bad))
    assert result.exit_code == 1
    assert f"{bad}, line 2, field 'principal'" in result.stderr
    assert "[rule: principal-increment]" in result.stderr
    assert "nothing was changed" in result.stderr
    assert result.stdout == ""
    missing = run_cli("tender", "validate", str(tmp_path / "nope.toml"))
    assert missing.exit_code == 1 and "no such file" in missing.stderr


def row_by_row(text: str, terms: OfferTerms) -> tuple[list[Instruction], list[Any]]:
    """The reference reading: csv.DictReader and `parse_row` for every row."""
    reader = csv.DictReader(io.StringIO(text))
    instructions: list[Instruction] = []
    problems: list[Any] = []
    for row in reader:
        found, instruction = parse_row(row, terms, "in.csv", reader.line_num)
        problems += found
        if instruction is not None:
            instructions.append(instruction)
    return instructions, problems


CELLS = {
    "instruction_id": ["t1", " t2 ", ""],
    "received_at": ["2004-11-01T10:00", " 2004-11-01T10:00:00Z", "2004-11-01T10:00-08:00",
                    "2004-13-01T10:00", "", "2004-11-07T01:30", "yesterday"],
    "action": ["tender", " TENDER", "withdraw", "buy", ""],
    "series": ["l3-11-2008", "l3-10.75-euro-2008", "no-such", " l3-11-2008 ", ""],
    "principal": ["1000", "1,000", "1_000.00", "NaN", "Infinity", "-5", "lots", "", "1e3"],
    "currency": ["", "USD", "usd", "EUR", " eur "],
    "participant": ["DTC 0001", "", '"quoted, with comma"', '"two\nlines"'],
    "guaranteed_delivery": [" Yes", "", "true", "n", "maybe"],
    "withdraws": ["", "t1", "nobody"],
}  # fmt: skip


@st.composite
def csv_texts(draw: st.DrawFn) -> str:
    """Mostly good rows (the first cell of each pool), with odd cells, rows and headers."""
    base = ["instruction_id", "received_at", "action", "series", "principal"]
    optional = [c for c in CSV_COLUMNS if c not in base]
    header = base[: draw(st.sampled_from([3, 5, 5, 5]))]
    header += draw(st.lists(st.sampled_from(optional), max_size=len(optional), unique=True))
    if draw(st.integers(0, 4)) == 0:
        header.append(draw(st.sampled_from(header)))  # a duplicate column: the last one wins
    header = draw(st.permutations(header))
    lines = [",".join(header)]
    for _ in range(draw(st.integers(0, 12))):
        width = draw(st.sampled_from([len(header), len(header), len(header) - 1, len(header) + 1]))
        names = [*header, "withdraws"][:width]
        cells = [CELLS.get(n, [""])[0] for n in names]
        for _ in range(draw(st.integers(0, 2))):  # one or two odd cells in some rows
            at = draw(st.integers(0, width - 1))
            cells[at] = draw(st.sampled_from(CELLS.get(names[at], [""])))
        lines.append("" if draw(st.integers(0, 9)) == 0 else ",".join(cells))
    return "\n".join(lines) + "\n"


@given(csv_texts())
@example(
    "instruction_id,received_at,action,series,principal,currency,guaranteed_delivery\n"
    "t1,2004-11-01T10:00,tender,l3-11-2008,NaN,,\n"
    "t2,2004-11-01T10:00:00Z,tender,l3-11-2008,Infinity,USD,yes\n"
    "t3,2004-11-01T10:00-08:00,Tender,l3-11-2008,1_000,usd,maybe\n"
    "t4,2004-11-01T10:00,tender,l3-10.75-euro-2008,1000,USD,no\n"
    "t5,2004-11-01T10:00,tender,l3-11-2008\n"
)
def test_the_fast_row_reader_agrees_with_parse_row(text: str) -> None:
    terms, _ = level3()
    instructions, problems = parse_instructions_csv_lenient(text, terms, "in.csv")
    expected, expected_problems = row_by_row(text, terms)
    assert [(i, i.line) for i in instructions] == [(i, i.line) for i in expected]
    assert [type(i) for i in instructions] == [type(i) for i in expected]
    assert [i.received_at.tzinfo for i in instructions] == [i.received_at.tzinfo for i in expected]
    assert problems == expected_problems
