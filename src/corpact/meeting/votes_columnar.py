"""The votes CSV read column by column, for the plain files that bulk voting systems write.

The row reader (`votes._parse_rows`) spends about 5 µs of Python on every line, which is most
of a minute for a 10,000,000-line file. This reader lets Arrow split the lines and applies the
row reader's own rules (`str.strip`, `parse_instant`, `parse_shares`, the flag and channel
words) once per *distinct* text of a column, then spreads the answers over the rows by
dictionary index. A vote file repeats its texts heavily (ten lines per instruction share an id,
a voter and a time; choices, channels and proposals are a handful of words), so the per-line
work left is Arrow's.

It takes only files whose lines it splits exactly as the csv module would: no quote
characters, no comment or blank lines after the header, no NUL, every line as wide as the
header, no repeated column names. Anything else returns None and goes to the row reader, which
alone decides what an unusual file means. Both must give the same table for a plain file
(tests/meeting/test_votes_columnar.py compares them).
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv

from corpact.errors import InputError
from corpact.meeting.register import SHARES_TYPE, parse_shares
from corpact.meeting.votes import (
    CHANNELS,
    FLAG_WORDS,
    TRUE_WORDS,
    VOTES_SCHEMA,
    counting,
    to_epoch_us,
)
from corpact.timeutil import parse_instant

BOOL = pa.bool_()
# Every character `str.isspace` accepts (a test holds this to Python's own set): a text with
# none of them at either end is its own `strip()`.
PYTHON_WHITESPACE = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004"
    "\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)
# Quotes and NUL follow csv rules Arrow is not asked to copy; the rest are line breaks to
# `str.splitlines`, which the row reader's line numbers count, but not to Arrow.
_UNUSUAL = '"\x00\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029'


def _re2_class(characters: str) -> str:
    return "[" + "".join(f"\\x{{{ord(c):x}}}" for c in characters) + "]"


_SPACE_CLASS = _re2_class(PYTHON_WHITESPACE)
_STRIPPABLE = f"^{_SPACE_CLASS}|{_SPACE_CLASS}$"
_BLANK = f"^{_SPACE_CLASS}*$"
# Quotes and NUL follow csv rules Arrow is not asked to copy; the rest are line breaks to
# `str.splitlines`, which the row reader's line numbers count, but not to Arrow.
_NOT_PLAIN = (
    "[" + "".join(f"\\x{{{ord(c):x}}}" for c in '"\x00\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029') + "]"
)
# ISO 8601 with an explicit offset, in the field ranges `datetime.fromisoformat` accepts.
# (RE2, whose \d is ASCII only; no blanks around it, so `strip` has nothing to do.)
_STRICT_INSTANT = (
    r"^[1-9]\d{3}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])T([01]\d|2[0-3]):[0-5]\d"
    r"(:[0-5]\d(\.\d{3}|\.\d{6})?)?(Z|[+-]([01]\d|2[0-3]):[0-5]\d)$"
)
# The row reader's output columns, by the CSV column each comes from.
_TEXT_COLUMNS = {
    "instruction_id": "instruction_id",
    "voter": "voter",
    "class_id": "class",
    "channel": "channel",
    "proposal_id": "proposal",
    "item_id": "nominee",
}


def universal_newlines(data: bytes) -> bytes:
    """What reading the file as text does to its line ends (`open(..., newline=None)`)."""
    if b"\r" not in data:
        return data
    return data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")


def read_votes_columnar(
    data: bytes, tz: ZoneInfo
) -> tuple[list[str], pa.Table, dict[str, pa.DictionaryArray]] | None:
    """(header, the lines as `VOTES_SCHEMA` columns, the dictionary encoding of those text
    columns that are the file's cells unchanged) for a plain file, or None (see above).

    `data` are the file's bytes with `universal_newlines` applied."""
    found = _header(data)
    if found is None:
        return None
    header, header_line, offset = found
    if len(set(header)) != len(header):
        return None
    lines = data.count(b"\n", offset) + (0 if data.endswith(b"\n") else 1)
    try:
        table = pa_csv.read_csv(
            pa.BufferReader(pa.py_buffer(data)[offset:]),
            read_options=pa_csv.ReadOptions(column_names=header),
            parse_options=pa_csv.ParseOptions(
                quote_char=False, escape_char=False, newlines_in_values=False
            ),
            convert_options=pa_csv.ConvertOptions(
                column_types={name: pa.string() for name in header},
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except pa.ArrowInvalid:
        return None  # a line of another width, or not UTF-8: the row reader has rules for that
    # Arrow skips blank lines, which the row reader counts: then the rows are fewer.
    if table.num_rows == 0 or table.num_rows != lines:
        return None
    columns = _Columns(table)
    if columns.any_not_plain() or columns.starts_with(header[0], "#") or columns.any_blank_row():
        return None  # a comment line as wide as the header, or a line of blank cells
    return header, *_votes_table(columns, header_line, tz)


def _header(data: bytes) -> tuple[list[str], int, int] | None:
    """The first line that is neither a comment nor empty, its physical number, and the byte
    offset of the line after it."""
    start, number = 0, 0
    while start < len(data):
        end = data.find(b"\n", start)
        end = len(data) if end < 0 else end
        try:
            line = data[start:end].decode("utf-8")
        except UnicodeDecodeError:
            return None
        number += 1
        if line and not line.startswith("#"):
            if not line.strip() or any(
                c in line for c in '"\x00\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029'
            ):
                return None  # the csv module reads these lines its own way
            return [name.strip() for name in line.split(",")], number, end + 1
        start = end + 1
    return None


class _Column:
    """One column of the file, dictionary-encoded: its distinct texts and each row's index."""

    def __init__(self, cells: pa.ChunkedArray) -> None:
        self.cells = cells
        self.encoded: pa.DictionaryArray = pc.dictionary_encode(cells.combine_chunks())
        self.dictionary: pa.Array = self.encoded.dictionary
        self._distinct: list[str] | None = None

    @property
    def distinct(self) -> list[str]:
        if self._distinct is None:
            self._distinct = self.dictionary.to_pylist()
        return self._distinct

    def has(self, pattern: str) -> bool:
        """Whether some cell matches the (RE2) pattern."""
        return bool(pc.any(pc.match_substring_regex(self.dictionary, pattern)).as_py())

    def mapped(self, rule: Callable[[str], Any], kind: pa.DataType) -> pa.Array:
        answers = pa.array([rule(text) for text in self.distinct], kind)
        taken: pa.Array = answers.take(self.encoded.indices)
        return taken

    def stripped(self) -> pa.Array | pa.ChunkedArray:
        """`str.strip` of every cell; the cells themselves when no text has anything to strip."""
        if not self.has(_STRIPPABLE):
            return self.cells
        return self.mapped(str.strip, pa.string())


class _Columns:
    """The file's columns; each rule runs once per distinct text of its column."""

    def __init__(self, table: pa.Table) -> None:
        self.rows: int = table.num_rows
        self._columns = {name: _Column(table.column(name)) for name in table.column_names}

    def mapped(self, column: str, rule: Callable[[str], Any], kind: pa.DataType) -> pa.Array:
        """`rule(cell)` for every row, computed once per distinct cell text."""
        found = self._columns.get(column)
        if found is None:  # an optional column the file does not have: every cell is empty
            return pa.repeat(pa.scalar(rule(""), kind), self.rows)
        return found.mapped(rule, kind)

    def stripped(self, column: str) -> pa.Array | pa.ChunkedArray:
        found = self._columns.get(column)
        return pa.repeat(pa.scalar(""), self.rows) if found is None else found.stripped()

    def column(self, name: str) -> _Column | None:
        return self._columns.get(name)

    def any_not_plain(self) -> bool:
        return any(column.has(_NOT_PLAIN) for column in self._columns.values())

    def starts_with(self, column: str, prefix: str) -> bool:
        starts = pc.starts_with(self._columns[column].dictionary, prefix)
        return bool(pc.any(starts).as_py())

    def any_blank_row(self) -> bool:
        columns = self._columns.values()
        if any(not c.has(_BLANK) for c in columns):
            return False  # a column with no blank cell: no row is blank throughout
        blank: pa.Array | None = None
        for column in columns:
            empty = column.mapped(lambda t: not t.strip(), BOOL)
            blank = empty if blank is None else pc.and_(blank, empty)
        return blank is not None and bool(pc.any(blank).as_py())


def _votes_table(
    columns: _Columns, header_line: int, tz: ZoneInfo
) -> tuple[pa.Table, dict[str, pa.DictionaryArray]]:

    def shares(cell: str) -> Decimal | None:
        stripped = cell.strip()
        return parse_shares(stripped) if stripped else None

    text = {name: columns.stripped(source) for name, source in _TEXT_COLUMNS.items()}
    encoded = {
        name: found.encoded
        for name, source in _TEXT_COLUMNS.items()
        if (found := columns.column(source)) is not None and text[name] is found.cells
    }
    executed_us = _epoch_us(columns.column("executed_at"), tz)
    if executed_us is None:
        executed_us = columns.mapped("executed_at", lambda t: _parsed_us(t, tz), pa.int64())
    share_values = columns.mapped("shares", shares, SHARES_TYPE)
    bad_shares = columns.mapped("shares", lambda t: bool(t.strip()) and shares(t) is None, BOOL)
    flag_words = columns.mapped("discretionary", lambda t: t.strip().lower(), pa.string())
    missing = pc.or_(pc.equal(text["instruction_id"], ""), pc.equal(text["voter"], ""))
    unknown_channel = pc.invert(pc.is_in(text["channel"], pa.array(CHANNELS)))
    header_error = _first_error(
        [
            (missing, "missing_field"),
            (pc.is_null(executed_us), "bad_time"),
            (unknown_channel, "unknown_channel"),
        ]
    )
    bad_flag = pc.invert(pc.is_in(flag_words, pa.array(sorted(FLAG_WORDS))))
    line_error = _first_error([(bad_shares, "bad_shares"), (bad_flag, "bad_flag")])
    line_no = pc.add(counting(columns.rows), header_line + 1)
    table = pa.table(
        {
            "line_no": line_no,
            "instruction_id": text["instruction_id"],
            "executed_us": executed_us,
            "voter": text["voter"],
            "class_id": text["class_id"],
            "channel": text["channel"],
            "proposal_id": text["proposal_id"],
            "item_id": text["item_id"],
            "choice": columns.mapped("choice", lambda t: t.strip().lower(), pa.string()),
            "shares": share_values,
            "discretionary": pc.is_in(flag_words, pa.array(sorted(TRUE_WORDS))),
            "header_error": header_error,
            "line_error": line_error,
        },
        schema=VOTES_SCHEMA,
    )
    return table, encoded


def _epoch_us(column: _Column | None, tz: ZoneInfo) -> pa.Array | None:
    """Each time cell as microseconds since the epoch (NULL: not a time), as the row reader's
    `parse_instant` reads it; None when the file has no time column. Times with an explicit
    offset in the common layout are converted by Arrow, all at once; the rest (no offset, so
    the meeting's zone and its daylight-saving gaps apply; or another layout) by
    `parse_instant` itself, once per distinct text."""
    if column is None:
        return None
    distinct = column.dictionary
    strict = pc.match_substring_regex(distinct, _STRICT_INSTANT)
    values = pa.nulls(len(distinct), pa.int64())
    if pc.any(strict).as_py():
        texts = pc.replace_substring(pc.filter(distinct, strict), "Z", "+00:00")
        try:
            instants = pc.cast(texts, pa.timestamp("us", tz="UTC")).cast(pa.int64())
        except pa.ArrowInvalid:  # say, 30 February: the row reader's rule names it
            strict = pa.repeat(pa.scalar(False), len(distinct))
        else:
            values = pc.replace_with_mask(values, strict, instants)
    others = pc.invert(strict)
    if pc.any(others).as_py():
        parsed = [_parsed_us(text, tz) for text in pc.filter(distinct, others).to_pylist()]
        values = pc.replace_with_mask(values, others, pa.array(parsed, pa.int64()))
    taken: pa.Array = values.take(column.encoded.indices)
    return taken


def _parsed_us(text: str, tz: ZoneInfo) -> int | None:
    try:
        return to_epoch_us(parse_instant(text.strip(), tz))
    except InputError:
        return None


def _first_error(ranked: list[tuple[pa.Array, str]]) -> pa.Array:
    """The code of the first condition that holds on each row, NULL where none does."""
    result = pa.nulls(len(ranked[0][0]), pa.string())
    for condition, code in reversed(ranked):
        result = pc.if_else(condition, pa.scalar(code), result)
    return result
