"""The record-date register snapshot: one row per (holder, class) with exact decimal shares.

Held as an Arrow table so that a million positions tabulate without Python objects per row.
The snapshot carries a SHA-256 content hash over its canonical text; the inspector's report
cites it.
"""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from corpact.csvfiles.columns import read_plain_csv
from corpact.csvfiles.text import rows_of_text
from corpact.errors import InputError, Problem
from corpact.inputfiles import decoded_text, read_data

SHARE_PLACES = 6
SHARES_TYPE = pa.decimal128(38, SHARE_PLACES)
# Digits before the point of a share quantity: the sum of 100,000,000 of them still fits
# `SHARES_TYPE`, in which DuckDB adds them up (38 digits, 6 after the point).
SHARE_DIGITS = 24
SHARE_LIMIT = Decimal(10) ** SHARE_DIGITS
SHARES_RULE = (
    f"not a decimal of at most {SHARE_DIGITS} digits before the point and {SHARE_PLACES} after"
)
HOLDER_TYPES = ("registered", "nominee")
REGISTER_SCHEMA = pa.schema(
    [
        ("holder_id", pa.string()),
        ("name", pa.string()),
        ("class_id", pa.string()),
        ("shares", SHARES_TYPE),
        ("holder_type", pa.string()),
    ]
)
REGISTER_COLUMNS = ("holder_id", "name", "class", "shares", "type")


@dataclass(frozen=True, slots=True)
class RegisterRow:
    holder_id: str
    name: str
    class_id: str
    shares: Decimal
    holder_type: str


@dataclass(frozen=True, slots=True, eq=False)
class Register:
    """Record-date positions. Build with `load_register`, `from_rows` or `from_arrow`."""

    table: pa.Table
    source: str
    content_hash: str

    @classmethod
    def from_arrow(cls, table: pa.Table, source: str = "register") -> Register:
        table = table.select(REGISTER_SCHEMA.names).cast(REGISTER_SCHEMA)
        _refuse_shares_out_of_range(table, source)
        _refuse_unknown_types(table, source)
        _refuse_repeated_positions(table, source)
        return cls(table, source, _content_hash(table))

    @classmethod
    def from_rows(cls, rows: list[RegisterRow], source: str = "register") -> Register:
        table = pa.table(
            {
                "holder_id": [r.holder_id for r in rows],
                "name": [r.name for r in rows],
                "class_id": [r.class_id for r in rows],
                "shares": pa.array([r.shares for r in rows], SHARES_TYPE),
                "holder_type": [r.holder_type for r in rows],
            },
            schema=REGISTER_SCHEMA,
        )
        return cls.from_arrow(table, source)

    def rows(self) -> list[RegisterRow]:
        return [RegisterRow(**row) for row in self.table.to_pylist()]

    @property
    def class_ids(self) -> frozenset[str]:
        return frozenset(self.table.column("class_id").unique().to_pylist())


def _refuse_unknown_types(table: pa.Table, source: str) -> None:
    """A position is held by a registered holder or a nominee; the tabulation knows no other
    kind (and counts a nominee's votes by what it reports)."""
    known = _known_types(table.column("holder_type"))
    if not pc.all(known).as_py():
        found = table.filter(pc.invert(known)).column("holder_type").unique().to_pylist()
        raise InputError(
            Problem(
                "register-type",
                f"type {kind!r} is not one of {', '.join(HOLDER_TYPES)}",
                source=source,
                field="type",
            )
            for kind in sorted(found, key=str)
        )


def _refuse_shares_out_of_range(table: pa.Table, source: str) -> None:
    """Shares are known, not negative and below `SHARE_LIMIT`, as the CSV readers require."""
    shares = table.column("shares")
    bad = pc.or_kleene(
        pc.less(shares, pa.scalar(Decimal(0), SHARES_TYPE)),
        pc.greater_equal(shares, pa.scalar(SHARE_LIMIT, SHARES_TYPE)),
    )
    bad = pc.fill_null(pc.or_kleene(bad, pc.is_null(shares)), True)
    if pc.any(bad).as_py():
        rows = table.filter(bad).slice(0, 10).to_pylist()
        raise InputError(
            Problem(
                "register-shares",
                f"holder {row['holder_id']!r} class {row['class_id']!r}: shares "
                f"{row['shares']} are not at least 0 and below 10^{SHARE_DIGITS}",
                source=source,
                field="shares",
            )
            for row in rows
        )


def _known_types(holder_type: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """Per position, whether its type is one of `HOLDER_TYPES` (a NULL type is not)."""
    return pc.fill_null(pc.is_in(holder_type, pa.array(HOLDER_TYPES)), False)


def _refuse_repeated_positions(table: pa.Table, source: str) -> None:
    """One row per (holder, class): the tabulation counts each position once by its row."""
    counts = table.group_by(["holder_id", "class_id"]).aggregate([("holder_id", "count")])
    repeated = counts.filter(pc.greater(counts.column("holder_id_count"), 1))
    if repeated.num_rows:
        raise InputError(
            Problem(
                "register-duplicate",
                f"holder {row['holder_id']!r} class {row['class_id']!r} appears "
                f"{row['holder_id_count']} times",
                source=source,
                field="holder_id",
            )
            for row in repeated.sort_by([("holder_id", "ascending")]).to_pylist()
        )


def _content_hash(table: pa.Table) -> str:
    """SHA-256 of the positions in (class, holder) order, one line each: holder, name, class,
    shares and type joined by U+001F (shares with their six places), then a newline."""
    ordered = table.sort_by([("class_id", "ascending"), ("holder_id", "ascending")])
    shares = pc.cast(ordered.column("shares"), pa.string())  # as str() of its Decimal
    fields = [ordered.column(n) for n in ("holder_id", "name", "class_id")]
    fields += [shares, ordered.column("holder_type")]
    lines = pc.binary_join_element_wise(*fields, "\x1f")
    digest = hashlib.sha256()
    ended = pc.binary_join_element_wise(lines, "\n", "").cast(pa.large_string())
    for chunk in ended.chunks:
        if len(chunk):
            # The chunk's text is one run of its data buffer (64-bit offsets): hash it in place.
            _validity, offsets, text = chunk.buffers()
            first = struct.unpack_from("=q", offsets, 8 * chunk.offset)[0]
            last = struct.unpack_from("=q", offsets, 8 * (chunk.offset + len(chunk)))[0]
            digest.update(memoryview(text)[first:last])
    return digest.hexdigest()


def parse_shares(text: str) -> Decimal | None:
    """Exact decimal with at most `SHARE_DIGITS` digits before the point and `SHARE_PLACES`
    after it (what `SHARES_TYPE` holds), or None when the text is not such a number."""
    try:
        value = Decimal(text.strip().replace(",", ""))
    except InvalidOperation:
        return None
    if not value.is_finite() or -value.as_tuple().exponent > SHARE_PLACES:  # type: ignore[operator]
        return None
    if value and value.adjusted() >= SHARE_DIGITS:
        return None
    return value


def _row(record: dict[str, str], source: str, line: int, problems: list[Problem]) -> RegisterRow:
    def bad(rule: str, message: str, field: str) -> None:
        problems.append(Problem(rule, message, source=source, line=line, field=field))

    holder = (record.get("holder_id") or "").strip()
    class_id = (record.get("class") or "").strip()
    holder_type = (record.get("type") or "").strip()
    shares = parse_shares(record.get("shares") or "")
    if not holder:
        bad("register-holder", "holder id is empty", "holder_id")
    if not class_id:
        bad("register-class", "class is empty", "class")
    if holder_type not in HOLDER_TYPES:
        bad("register-type", f"type must be one of {', '.join(HOLDER_TYPES)}", "type")
    if shares is None:
        bad("register-shares", SHARES_RULE, "shares")
    elif shares < 0:
        bad("register-shares", "shares cannot be negative", "shares")
    name = (record.get("name") or "").strip()
    return RegisterRow(holder, name, class_id, shares or Decimal(0), holder_type)


def load_register(path: str | Path) -> Register:
    """Read the register CSV (holder_id,name,class,shares,type); report every bad row at once.

    A plain file with nothing wrong in it is read column by column (`_plain_register`); any
    other file row by row, which names every problem with its line."""
    source = Path(path).name
    data = read_data(path)
    plain = _plain_register(data, source)
    if plain is not None:
        return plain
    return _register_by_row(decoded_text(data, source), source)


def _register_by_row(text: str, source: str) -> Register:
    header, records = rows_of_text(text)
    missing = [c for c in REGISTER_COLUMNS if c not in header]
    if missing:
        raise InputError.single(
            "register-columns", f"missing column(s): {', '.join(missing)}", source=source, line=1
        )
    problems: list[Problem] = []
    rows: list[RegisterRow] = []
    seen: dict[tuple[str, str], int] = {}
    for line, record in records:
        row = _row(record, source, line, problems)
        key = (row.holder_id, row.class_id)
        if key in seen:
            problems.append(
                Problem(
                    "register-duplicate",
                    f"holder {row.holder_id!r} class {row.class_id!r} repeats line {seen[key]}",
                    source=source,
                    line=line,
                )
            )
        seen[key] = line
        rows.append(row)
    if not rows:
        problems.append(Problem("register-empty", "the register has no positions", source=source))
    if problems:
        raise InputError(problems)
    return Register.from_rows(rows, source)


# Digits with at most six places: Arrow's cast to `SHARES_TYPE` reads them as `parse_shares`.
_PLAIN_SHARES = rf"^\d{{1,{SHARE_DIGITS}}}(\.\d{{1,{SHARE_PLACES}}})?$"


def _plain_register(data: bytes, source: str) -> Register | None:
    """The register, when the file is plain (`corpact.csvfiles.columns`) and every row is
    valid; else None.

    The row reader's rules (`_row`) per distinct text: `strip`, `parse_shares`, the holder
    types; positions repeated, empty ids or bad shares leave the file to the row reader."""
    plain = read_plain_csv(data)
    if plain is None or any(name not in plain.header for name in REGISTER_COLUMNS):
        return None
    columns = plain.columns
    holder, class_id = columns.stripped("holder_id"), columns.stripped("class")
    holder_type = columns.stripped("type")
    shares = columns.converted(
        "shares", _PLAIN_SHARES, lambda texts: pc.cast(texts, SHARES_TYPE), parse_shares,
        SHARES_TYPE,
    )  # fmt: skip
    invalid = (
        pc.any(pc.equal(holder, "")).as_py()
        or pc.any(pc.equal(class_id, "")).as_py()
        or not pc.all(_known_types(holder_type)).as_py()
        or shares.null_count > 0
        or pc.any(pc.less(shares, pa.scalar(Decimal(0), SHARES_TYPE))).as_py()
    )
    if invalid:
        return None
    table = pa.table(
        {
            "holder_id": holder,
            "name": columns.stripped("name"),
            "class_id": class_id,
            "shares": shares,
            "holder_type": holder_type,
        },
        schema=REGISTER_SCHEMA,
    )
    positions = table.group_by(["holder_id", "class_id"]).aggregate([])
    if positions.num_rows != table.num_rows:
        return None  # the row reader names each repeat with its line
    return Register(table, source, _content_hash(table))
