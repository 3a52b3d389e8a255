"""Plain CSV files read column by column, with the csv module's meaning.

The meeting's row readers (votes, register) spend microseconds of Python on every line. For
the plain files that bulk systems write, Arrow can split the lines instead, and a reader's own
per-cell rules can run once per *distinct* text of a column (`Column.mapped`), the answers
spread over the rows by dictionary index.

`read_plain_csv` takes only files whose lines it splits exactly as the csv module would (as
`text.read_cells` reads them): no quote characters, no comment or blank lines after the
header, no NUL or other line breaks of `str.splitlines`, every line as wide as the header, no
repeated column names, no line of blank cells. Anything else returns None and goes to the row
reader, which alone decides what an unusual file means.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Collection
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv

BOOL = pa.bool_()
# Below this many rows a thread pool costs more than it saves.
PARALLEL_ROWS = 100_000
# Every character `str.isspace` accepts (a test holds this to Python's own set): a text with
# none of them at either end is its own `strip()`.
PYTHON_WHITESPACE = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004"
    "\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)
# Quotes and NUL follow csv rules Arrow is not asked to copy; the rest are line breaks to
# `str.splitlines`, which the row reader's line numbers count, but not to Arrow.
_UNUSUAL = '"\x00\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029'


def re2_escape(text: str) -> str:
    """`text` as an RE2 pattern that matches it literally."""
    return "".join(f"\\x{{{ord(c):x}}}" for c in text)


def _re2_class(characters: str) -> str:
    return "[" + re2_escape(characters) + "]"


_SPACE_CLASS = _re2_class(PYTHON_WHITESPACE)
_STRIPPABLE = f"^{_SPACE_CLASS}|{_SPACE_CLASS}$"
_BLANK = f"^{_SPACE_CLASS}*$"
# Their UTF-8 forms: UTF-8 is self-synchronizing, so a byte search finds only whole characters.
_UNUSUAL_BYTES = tuple(c.encode() for c in _UNUSUAL)


# ISO 8601 with an explicit offset, in the field ranges `datetime.fromisoformat` accepts.
# (RE2, whose \d is ASCII only; no blanks around it, so `strip` has nothing to do.)
STRICT_INSTANT = (
    r"^[1-9]\d{3}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])T([01]\d|2[0-3]):[0-5]\d"
    r"(:[0-5]\d(\.\d{3}|\.\d{6})?)?(Z|[+-]([01]\d|2[0-3]):[0-5]\d)$"
)


@dataclass(frozen=True, slots=True)
class PlainCsv:
    header: list[str]
    header_line: int  # its physical line number; the rows follow it line by line
    columns: Columns


def read_plain_csv(data: bytes, encode: Collection[str] | None = None) -> PlainCsv | None:
    """The file's columns when it is plain (see the module), else None.

    `data` are the file's bytes as `corpact.inputfiles.read_data` gives them; `encode` as in
    `Columns`."""
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
    columns = Columns(table, encode)
    if _any_unusual(data, offset) or columns.starts_with(header[0], "#") or columns.any_blank_row():
        return None  # a comment line as wide as the header, or a line of blank cells
    return PlainCsv(header, header_line, columns)


def _any_unusual(data: bytes, offset: int) -> bool:
    """Whether a cell holds an `_UNUSUAL` character: cells hold every byte after the header
    but the commas and line ends, which are not unusual. ASCII data is checked for the
    one-byte characters only (a one-byte search is several times faster than a longer one)."""
    characters = _UNUSUAL_BYTES
    if data.isascii():
        characters = tuple(c for c in characters if len(c) == 1)
    return any(data.find(c, offset) >= 0 for c in characters)


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
        if any(c in line for c in _UNUSUAL):
            return None  # before the header too: it would move the header to another line
        if line and not line.startswith("#"):
            if not line.strip():
                return None  # a line of blanks is a row of one blank cell to the csv module
            return [name.strip() for name in line.split(",")], number, end + 1
        start = end + 1
    return None


class Column:
    """One column of the file, dictionary-encoded: its distinct texts and each row's index.

    The encoding is made up front, or when first needed (`Columns(encode=...)`): a column of
    a million distinct texts (ids, references) costs more to encode than any rule saves on it.
    """

    def __init__(self, cells: pa.ChunkedArray, encode: bool = True) -> None:
        self.cells = cells
        self._encoded: pa.DictionaryArray | None = (
            pc.dictionary_encode(cells.combine_chunks()) if encode else None
        )
        self._distinct: list[str] | None = None

    @property
    def encoded(self) -> pa.DictionaryArray:
        if self._encoded is None:
            self._encoded = pc.dictionary_encode(self.cells.combine_chunks())
        return self._encoded

    @property
    def dictionary(self) -> pa.Array:
        return self.encoded.dictionary

    @property
    def distinct(self) -> list[str]:
        if self._distinct is None:
            self._distinct = self.dictionary.to_pylist()
        return self._distinct

    def has(self, pattern: str) -> bool:
        """Whether some cell matches the (RE2) pattern."""
        texts = self.cells if self._encoded is None else self._encoded.dictionary
        return bool(pc.any(pc.match_substring_regex(texts, pattern)).as_py())

    def mapped(self, rule: Callable[[str], Any], kind: pa.DataType) -> pa.Array:
        answers = pa.array([rule(text) for text in self.distinct], kind)
        taken: pa.Array = answers.take(self.encoded.indices)
        return taken

    def converted(
        self,
        layout: str,
        convert: Callable[[pa.Array], pa.Array],
        rule: Callable[[str], Any],
        kind: pa.DataType,
    ) -> pa.Array:
        """`rule(cell)` for every row, where the texts matching the RE2 `layout` are given to
        `convert` all at once instead (it must agree with `rule` on them); when `convert`
        refuses one of them, `rule` decides them all."""
        if self._encoded is None and pc.all(pc.match_substring_regex(self.cells, layout)).as_py():
            try:  # every cell in the layout: no encoding needed
                converted: pa.Array = convert(self.cells.combine_chunks())
                return converted
            except pa.ArrowInvalid:
                pass
        distinct = self.dictionary
        strict = pc.match_substring_regex(distinct, layout)
        values = pa.nulls(len(distinct), kind)
        if pc.any(strict).as_py():
            try:
                values = pc.replace_with_mask(values, strict, convert(pc.filter(distinct, strict)))
            except pa.ArrowInvalid:
                strict = pa.repeat(pa.scalar(False), len(distinct))
        others = pc.invert(strict)
        if pc.any(others).as_py():
            answers = [rule(text) for text in pc.filter(distinct, others).to_pylist()]
            values = pc.replace_with_mask(values, others, pa.array(answers, kind))
        taken: pa.Array = values.take(self.encoded.indices)
        return taken

    def stripped(self) -> pa.Array | pa.ChunkedArray:
        """`str.strip` of every cell; the cells themselves when no text has anything to strip."""
        if not self.has(_STRIPPABLE):
            return self.cells
        return self.mapped(str.strip, pa.string())


class Columns:
    """The file's columns; each rule runs once per distinct text of its column."""

    def __init__(self, table: pa.Table, encode: Collection[str] | None = None) -> None:
        """`encode`: the columns to encode up front (default: all); the rest when needed."""
        self.rows: int = table.num_rows
        names = table.column_names

        def column(name: str) -> Column:
            return Column(table.column(name), encode is None or name in encode)

        if self.rows >= PARALLEL_ROWS:
            # Arrow's kernels run without the GIL: the columns are encoded side by side.
            with ThreadPoolExecutor(min(len(names), os.cpu_count() or 1)) as pool:
                built = list(pool.map(column, names))
        else:
            built = [column(name) for name in names]
        self._columns: dict[str, Column] = dict(zip(names, built, strict=True))

    def mapped(self, column: str, rule: Callable[[str], Any], kind: pa.DataType) -> pa.Array:
        """`rule(cell)` for every row, computed once per distinct cell text."""
        found = self._columns.get(column)
        if found is None:  # an optional column the file does not have: every cell is empty
            return pa.repeat(pa.scalar(rule(""), kind), self.rows)
        return found.mapped(rule, kind)

    def converted(
        self,
        column: str,
        layout: str,
        convert: Callable[[pa.Array], pa.Array],
        rule: Callable[[str], Any],
        kind: pa.DataType,
    ) -> pa.Array:
        """`Column.converted`; `rule("")` everywhere for a column the file does not have."""
        found = self._columns.get(column)
        if found is None:
            return pa.repeat(pa.scalar(rule(""), kind), self.rows)
        return found.converted(layout, convert, rule, kind)

    def stripped(self, column: str) -> pa.Array | pa.ChunkedArray:
        found = self._columns.get(column)
        return pa.repeat(pa.scalar(""), self.rows) if found is None else found.stripped()

    def column(self, name: str) -> Column | None:
        return self._columns.get(name)

    def starts_with(self, column: str, prefix: str) -> bool:
        return self._columns[column].has("^" + re2_escape(prefix))

    def any_blank_row(self) -> bool:
        columns = self._columns.values()
        if any(not c.has(_BLANK) for c in columns):
            return False  # a column with no blank cell: no row is blank throughout
        blank: pa.Array | None = None
        for column in columns:
            empty = column.mapped(lambda t: not t.strip(), BOOL)
            blank = empty if blank is None else pc.and_(blank, empty)
        return blank is not None and bool(pc.any(blank).as_py())


def utc_epoch_us(texts: pa.Array) -> pa.Array:
    """Microseconds since the epoch of texts in the `STRICT_INSTANT` layout."""
    instants = pc.cast(pc.replace_substring(texts, "Z", "+00:00"), pa.timestamp("us", tz="UTC"))
    return instants.cast(pa.int64())
