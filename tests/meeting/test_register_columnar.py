"""The register read by column gives the row reader's register, or leaves the file to it."""

from __future__ import annotations

import hashlib
from decimal import Decimal

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from corpact.errors import InputError
from corpact.inputfiles import universal_newlines
from corpact.meeting.register import (
    REGISTER_SCHEMA,
    SHARES_TYPE,
    Register,
    _content_hash,
    _plain_register,
    _register_by_row,
)

CELLS = {
    "holder_id": ["H1", "H2", " H3 ", "H4", "N-9", ""],
    "name": ["Alice", " Bob ", "", "Zoë Ünal", "Cede & Co"],
    "class": ["common", " preferred", ""],
    "shares": ["100", "0", "0100.50", "1000.123456", " 7 ", "1000.000000", "-5", "1.1234567", "x",
               "12345678901234567890123456789012.5", "123456789012345678901234567890123", "1e40",
               ""],
    "type": ["registered", "nominee", " nominee ", "beneficial"],
}  # fmt: skip


@st.composite
def register_files(draw: st.DrawFn) -> str:
    header = draw(st.permutations(list(CELLS)))
    rows = draw(
        st.lists(st.tuples(*(st.sampled_from(CELLS[c]) for c in header)), min_size=1, max_size=12)
    )
    lead = draw(st.sampled_from(["", "# record date 2007-03-26\n"]))
    return lead + ",".join(header) + "\n" + "\n".join(",".join(r) for r in rows) + "\n"


def by_row(text: str) -> Register | list[str]:
    try:
        return _register_by_row(text, "register.csv")
    except InputError as err:
        return [p.rule for p in err.problems]


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(register_files())
def test_a_plain_valid_register_reads_the_same_by_column(text: str) -> None:
    plain = _plain_register(universal_newlines(text.encode()), "register.csv")
    expected = by_row(text)
    if plain is None:
        # Only a register the row reader refuses is left to it (it names the lines).
        assert isinstance(expected, list) and expected
        return
    assert isinstance(expected, Register)
    assert plain.table.equals(expected.table)
    assert plain.content_hash == expected.content_hash


def test_a_valid_register_is_read_by_column() -> None:
    text = (
        "holder_id,name,class,shares,type\n"
        "H1,Alice,common,100,registered\nH2,Bob,common,5.5,nominee\n"
    )
    plain = _plain_register(text.encode(), "register.csv")
    assert plain is not None and plain.table.num_rows == 2


def reference_hash(table: pa.Table) -> str:
    """The content hash as first written, line by line in Python."""
    ordered = table.sort_by([("class_id", "ascending"), ("holder_id", "ascending")])
    digest = hashlib.sha256()
    columns = [ordered.column(n).to_pylist() for n in REGISTER_SCHEMA.names]
    for holder, name, class_id, shares, holder_type in zip(*columns, strict=True):
        digest.update(f"{holder}\x1f{name}\x1f{class_id}\x1f{shares}\x1f{holder_type}\n".encode())
    return digest.hexdigest()


share_values = st.decimals(
    min_value=0, max_value=Decimal("1e31"), places=6, allow_nan=False, allow_infinity=False
)
texts = st.text(max_size=8)


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.tuples(texts, texts, texts, share_values, texts), max_size=20),
    st.integers(min_value=1, max_value=5),
)
def test_the_content_hash_is_the_line_by_line_hash(
    rows: list[tuple[str, str, str, Decimal, str]], chunks: int
) -> None:
    columns: list[list[object]] = [[row[n] for row in rows] for n in range(5)]
    table = pa.table(
        [
            pa.array(values, field.type)
            for values, field in zip(columns, REGISTER_SCHEMA, strict=True)
        ],
        schema=REGISTER_SCHEMA,
    )
    # Several chunks, some sliced: the hash reads each chunk where it lies in its buffer.
    size = max(1, table.num_rows // chunks)
    batches = [table.slice(i, size) for i in range(0, table.num_rows, size)]
    chunked = pa.concat_tables(batches) if batches else table
    assert _content_hash(chunked) == reference_hash(table)


@pytest.mark.parametrize(
    "line",
    ["H1,Alice,common,-5,registered", "H1,Alice,common,100,beneficial", ",A,common,1,nominee"],
)
def test_a_bad_row_is_left_to_the_row_reader(line: str) -> None:
    text = f"holder_id,name,class,shares,type\n{line}\n"
    assert _plain_register(text.encode(), "register.csv") is None


def test_a_register_from_arrow_refuses_an_unknown_holder_type() -> None:
    """The tabulation knows registered holders and nominees only; anything else is refused
    with the rule and field named, not counted as one or the other."""
    table = pa.table(
        {
            "holder_id": ["H1", "H2"],
            "name": ["One", "Two"],
            "class_id": ["common", "common"],
            "shares": pa.array([Decimal(1), Decimal(2)], SHARES_TYPE),
            "holder_type": ["registered", "beneficial"],
        }
    )
    with pytest.raises(InputError) as caught:
        Register.from_arrow(table, "positions.arrow")
    [problem] = caught.value.problems
    assert (problem.rule, problem.field, problem.source) == (
        "register-type",
        "type",
        "positions.arrow",
    )
    assert "'beneficial'" in problem.message


@pytest.mark.parametrize("shares", ["-1", "1000000000000000000000000", None])
def test_a_register_from_arrow_refuses_shares_out_of_range(shares: str | None) -> None:
    table = pa.table(
        {
            "holder_id": ["H1", "H2"],
            "name": ["", ""],
            "class_id": ["common", "common"],
            "shares": pa.array([Decimal(5), None if shares is None else Decimal(shares)]),
            "holder_type": ["registered", "registered"],
        }
    )
    with pytest.raises(InputError) as caught:
        Register.from_arrow(table, "positions")
    (problem,) = caught.value.problems
    assert (problem.rule, problem.field) == ("register-shares", "shares")
    assert "'H2'" in problem.message
