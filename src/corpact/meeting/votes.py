"""Vote instructions: proxies, internet and telephone votes, ballots and nominee reports.

One CSV row is one line of an instruction (a choice on one proposal, or on one nominee of an
election, optionally with a quantity). Rows that share an `instruction_id` form one
instruction. Rows that cannot be parsed are kept with an error code: the tabulation puts them
in the inspector's report instead of dropping them.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import InitVar, dataclass, field
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pyarrow as pa
import pyarrow.compute as pc

from corpact.csvfiles.text import cells_of_text
from corpact.errors import InputError, Problem, check
from corpact.inputfiles import decoded_text, read_data
from corpact.meeting.register import SHARE_LIMIT, SHARES_RULE, SHARES_TYPE, parse_shares
from corpact.timeutil import from_epoch_us, parse_instant, to_epoch_us, zone

CHANNELS = ("proxy_card", "internet", "telephone", "in_person", "nominee")
VOTE_COLUMNS_REQUIRED = ("instruction_id", "executed_at", "voter", "channel", "proposal", "choice")
VOTE_COLUMNS_OPTIONAL = ("class", "nominee", "shares", "discretionary")
VOTES_SCHEMA = pa.schema(
    [
        ("line_no", pa.int64()),
        ("instruction_id", pa.string()),
        ("executed_us", pa.int64()),
        ("voter", pa.string()),
        ("class_id", pa.string()),
        ("channel", pa.string()),
        ("proposal_id", pa.string()),
        ("item_id", pa.string()),
        ("choice", pa.string()),
        ("shares", SHARES_TYPE),
        ("discretionary", pa.bool_()),
        ("header_error", pa.string()),
        ("line_error", pa.string()),
    ]
)
# Text columns numbered at load, as a columnar store would: instruction number, voter number...
CODED_COLUMNS = {
    "instruction_id": "ins_no",
    "voter": "voter_no",
    "channel": "channel_no",
    "class_id": "class_no",
    "proposal_id": "proposal_no",
    "item_id": "item_no",
    "choice": "choice_no",
    "header_error": "header_error_no",
}
# Below this many lines a thread pool costs more than it saves.
PARALLEL_NUMBERING_ROWS = 100_000
# Numbered in text order, so that the largest number is the largest text.
ORDERED_CODES = frozenset({"header_error"})
TRUE_WORDS = frozenset({"true", "yes", "1", "y"})
FLAG_WORDS = TRUE_WORDS | {"false", "no", "0", "n", ""}


@dataclass(frozen=True, slots=True)
class VoteLine:
    """One mark: a choice on a proposal (or on one nominee), with an optional quantity."""

    proposal_id: str
    choice: str
    nominee_id: str | None = None
    shares: Decimal | None = None
    discretionary: bool = False


@dataclass(frozen=True, slots=True)
class VoteInstruction:
    """A proxy, vote or ballot as received: a journal event payload."""

    instruction_id: str
    executed_at: datetime
    voter: str
    channel: str
    lines: tuple[VoteLine, ...]
    class_id: str | None = None

    def to_payload(self) -> dict[str, Any]:
        return {
            "instruction_id": self.instruction_id,
            "executed_at": self.executed_at.isoformat(),
            "voter": self.voter,
            "class": self.class_id,
            "channel": self.channel,
            "lines": [
                {
                    "proposal": line.proposal_id,
                    "nominee": line.nominee_id,
                    "choice": line.choice,
                    "shares": str(line.shares) if line.shares is not None else None,
                    "discretionary": line.discretionary,
                }
                for line in self.lines
            ],
        }

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any]) -> VoteInstruction:
        """Inverse of `to_payload`; raises `InputError` naming the bad field."""
        source = f"instruction {payload.get('instruction_id')!r}"
        try:
            executed_at = datetime.fromisoformat(str(payload["executed_at"]))
            if executed_at.tzinfo is None:
                raise ValueError("executed_at needs an offset")
            lines = tuple(_line_from_payload(item) for item in payload["lines"])
            channel = str(payload["channel"])
            if channel not in CHANNELS:
                raise ValueError(f"unknown channel {channel!r}")
            return cls(
                instruction_id=str(payload["instruction_id"]),
                executed_at=executed_at,
                voter=str(payload["voter"]),
                channel=channel,
                lines=lines,
                class_id=payload.get("class"),
            )
        except (KeyError, TypeError, ValueError) as err:
            raise InputError.single("vote-payload", str(err), source=source) from None


def _line_from_payload(item: Mapping[str, Any]) -> VoteLine:
    shares_text = item.get("shares")
    shares = parse_shares(str(shares_text)) if shares_text is not None else None
    if shares_text is not None and shares is None:
        raise ValueError(f"shares {shares_text!r}: {SHARES_RULE}")
    return VoteLine(
        proposal_id=str(item["proposal"]),
        choice=str(item["choice"]),
        nominee_id=item.get("nominee"),
        shares=shares,
        discretionary=bool(item.get("discretionary", False)),
    )


def counting(count: int) -> pa.Array:
    """0, 1, ..., count - 1 as int64, without a Python loop."""
    ones = pc.fill_null(pa.nulls(count, pa.int64()), 1)
    numbers: pa.Array = pc.subtract(pc.cumulative_sum(ones), 1)
    return numbers


@dataclass(frozen=True, slots=True)
class VoteCodes:
    """Dense integer numbers of the text columns of the lines, given once at load.

    `lines` holds one row per line: a number per column of `CODED_COLUMNS` (in order of first
    appearance, NULL where the text is NULL; in text order for `ORDERED_CODES`), and
    `header_key`, the voter, channel and class numbers packed into one BIGINT with NULL as
    one more number (`header_sizes` unpacks it), so that two aggregates find the
    instructions whose lines disagree on any of the three. `names[column]` is the table
    (number, text) of one column. The tabulation groups and joins millions of lines on these
    numbers instead of on text, and looks text up only for the rows it reports.
    """

    lines: pa.Table
    names: dict[str, pa.Table]
    header_sizes: tuple[int, int, int]

    @classmethod
    def of(
        cls, table: pa.Table, encoded: Mapping[str, pa.DictionaryArray] | None = None
    ) -> VoteCodes:
        """`encoded` may hold the dictionary encoding of some columns, made by the reader."""
        known = encoded or {}

        def number(column: str) -> tuple[pa.ChunkedArray, pa.Table]:
            return _numbered(table.column(column), column, known.get(column))

        if table.num_rows >= PARALLEL_NUMBERING_ROWS:
            # Arrow's kernels run without the GIL: the columns are numbered side by side.
            with ThreadPoolExecutor(min(len(CODED_COLUMNS), os.cpu_count() or 1)) as pool:
                done = list(pool.map(number, CODED_COLUMNS))
        else:
            done = [number(column) for column in CODED_COLUMNS]
        numbered = {CODED_COLUMNS[c]: n for c, (n, _) in zip(CODED_COLUMNS, done, strict=True)}
        names = {c: t for c, (_, t) in zip(CODED_COLUMNS, done, strict=True)}
        voters, channels, classes = sizes = tuple(
            names[c].num_rows + 1 for c in ("voter", "channel", "class_id")
        )
        check(voters * channels * classes < 1 << 62, "too many voters, channels and classes")
        voter, channel, share_class = (
            pc.fill_null(numbered[CODED_COLUMNS[c]].cast(pa.int64()), size - 1)
            for c, size in zip(("voter", "channel", "class_id"), sizes, strict=True)
        )
        key = pc.add(
            pc.multiply(pc.add(pc.multiply(voter, channels), channel), classes), share_class
        )
        numbered["header_key"] = key
        return cls(pa.table(numbered), names, (voters, channels, classes))


def _numbered(
    cells: pa.ChunkedArray, column: str, known: pa.DictionaryArray | None
) -> tuple[pa.ChunkedArray, pa.Table]:
    """A column's numbers, and its table (number, text)."""
    code = CODED_COLUMNS[column]
    # One dictionary for all chunks, so a number means the same text in every chunk.
    chunks = [known] if known is not None else pc.dictionary_encode(cells).chunks
    values = chunks[-1].dictionary if chunks else pa.array([], pa.string())
    if column in ORDERED_CODES:
        values = values.sort()
        numbered = pc.index_in(cells, value_set=values)
    else:
        numbered = pa.chunked_array([c.indices for c in chunks], pa.int32())
    numbers = counting(len(values)).cast(pa.int32())
    return numbered, pa.table({code: numbers, column: values})


@dataclass(frozen=True, slots=True, eq=False)
class VoteBook:
    """All instruction lines received, as an Arrow table (see `VOTES_SCHEMA`)."""

    table: pa.Table
    source: str
    # Dictionary encodings of some columns the reader made anyway (see `VoteCodes.of`).
    encoded: InitVar[Mapping[str, pa.DictionaryArray] | None] = None
    codes: VoteCodes = field(init=False, repr=False)

    def __post_init__(self, encoded: Mapping[str, pa.DictionaryArray] | None) -> None:
        object.__setattr__(self, "codes", VoteCodes.of(self.table, encoded))

    @classmethod
    def from_arrow(cls, table: pa.Table, source: str = "votes") -> VoteBook:
        """The lines as given; a quantity the CSV readers would not read (`parse_shares`) is a
        `bad_shares` line, as it would be in a file."""
        table = table.select(VOTES_SCHEMA.names).cast(VOTES_SCHEMA)
        shares = table.column("shares")
        limit = pa.scalar(SHARE_LIMIT, SHARES_TYPE)
        beyond = pc.fill_null(
            pc.or_(
                pc.greater_equal(shares, limit),
                pc.less_equal(shares, pa.scalar(-SHARE_LIMIT, SHARES_TYPE)),
            ),
            False,
        )
        if pc.any(beyond).as_py():
            errors = table.column("line_error")
            marked = pc.if_else(pc.and_(beyond, pc.is_null(errors)), "bad_shares", errors)
            table = table.set_column(
                table.schema.get_field_index("line_error"), "line_error", marked
            ).set_column(
                table.schema.get_field_index("shares"),
                "shares",
                pc.if_else(beyond, pa.scalar(None, SHARES_TYPE), shares),
            )
        return cls(table, source)

    @classmethod
    def from_instructions(
        cls, instructions: Iterable[VoteInstruction], source: str = "instructions"
    ) -> VoteBook:
        rows: list[dict[str, Any]] = []
        for instruction in instructions:
            for row in instruction_rows(instruction):
                rows.append({"line_no": len(rows) + 1, **row})
        return cls(pa.Table.from_pylist(rows, schema=VOTES_SCHEMA), source)

    def instructions(self) -> list[VoteInstruction]:
        """The parseable instructions, in first-line order (for journaling)."""
        grouped: dict[str, list[dict[str, Any]]] = {}
        for row in self.table.to_pylist():
            if row["header_error"] is None and row["line_error"] is None:
                grouped.setdefault(row["instruction_id"], []).append(row)
        return [_instruction_from_rows(rows) for rows in grouped.values()]

    def __len__(self) -> int:
        count: int = self.table.num_rows
        return count


def _instruction_from_rows(rows: list[dict[str, Any]]) -> VoteInstruction:
    first = rows[0]
    return VoteInstruction(
        instruction_id=first["instruction_id"],
        executed_at=from_epoch_us(first["executed_us"]),
        voter=first["voter"],
        channel=first["channel"],
        class_id=first["class_id"] or None,
        lines=tuple(
            VoteLine(
                proposal_id=r["proposal_id"],
                choice=r["choice"],
                nominee_id=r["item_id"] or None,
                shares=r["shares"],
                discretionary=r["discretionary"],
            )
            for r in rows
        ),
    )


# The votes CSV's columns in their documented order.
VOTE_CSV_COLUMNS = (
    "instruction_id",
    "executed_at",
    "voter",
    "class",
    "channel",
    "proposal",
    "nominee",
    "choice",
    "shares",
    "discretionary",
)


def _parse_rows(
    header: list[str], records: Iterable[tuple[int, list[str]]], tz: ZoneInfo
) -> pa.Table:
    """The CSV rows as `VOTES_SCHEMA` columns. A bad cell becomes an error code on its row:
    `bad_time`, `missing_field`, `unknown_channel` (whole instruction) or `bad_shares`,
    `bad_flag` (that line). The lines of one instruction share a time, so each distinct time
    text is parsed once."""
    columns: dict[str, list[Any]] = {name: [] for name in VOTES_SCHEMA.names}
    rows: list[tuple[Any, ...]] = []
    times: dict[str, int | None] = {}
    # Where each field is in a row; a repeated column name means its last copy, as in a dict.
    where = {name: n for n, name in enumerate(header)}
    at = [where.get(name, -1) for name in VOTE_CSV_COLUMNS]
    for line, row in records:
        width = len(row)
        (instruction_id, executed_at, voter, class_id, channel, proposal, nominee, choice,
         shares_text, flag) = [row[n].strip() if -1 < n < width else "" for n in at]  # fmt: skip
        if executed_at not in times:
            try:
                times[executed_at] = to_epoch_us(parse_instant(executed_at, tz))
            except InputError:
                times[executed_at] = None
        executed_us = times[executed_at]
        header_error = None if executed_us is not None else "bad_time"
        if not instruction_id or not voter:
            header_error = "missing_field"
        if channel not in CHANNELS:
            header_error = header_error or "unknown_channel"
        line_error: str | None = None
        shares: Decimal | None = None
        if shares_text:
            shares = parse_shares(shares_text)
            line_error = "bad_shares" if shares is None else None
        flag = flag.lower()
        if flag not in FLAG_WORDS:
            line_error = line_error or "bad_flag"
        rows.append(
            (line, instruction_id, executed_us, voter, class_id, channel, proposal, nominee,
             choice.lower(), shares, flag in TRUE_WORDS, header_error, line_error)
        )  # fmt: skip
    # In `VOTES_SCHEMA` order, one list per column.
    for name, values in zip(columns, zip(*rows, strict=True), strict=False):
        columns[name] = list(values)
    return pa.table(columns, schema=VOTES_SCHEMA)


def load_votes(path: str | Path, time_zone: str = "UTC") -> VoteBook:
    """Read the votes CSV. Times without an offset are read in `time_zone` (the meeting's).

    Only a missing required column stops the load; a bad row is kept with an error code.
    Plain files are read column by column (`votes_columnar`), others row by row; both give
    the same table.
    """
    from corpact.meeting.votes_columnar import read_votes_columnar  # it builds on this module

    source = Path(path).name
    tz = zone(time_zone, field="time_zone")
    data = read_data(path)
    columnar = read_votes_columnar(data, tz)
    if columnar is not None:
        header, table, encoded = columnar
        _check_header(header, source)
        return VoteBook(table, source, encoded)
    header, records = cells_of_text(decoded_text(data, source))
    _check_header(header, source)
    return VoteBook(_parse_rows(header, records, tz), source)


def _check_header(header: list[str], source: str) -> None:
    missing = [c for c in VOTE_COLUMNS_REQUIRED if c not in header]
    unknown = [c for c in header if c not in VOTE_COLUMNS_REQUIRED + VOTE_COLUMNS_OPTIONAL]
    problems = [
        Problem("votes-columns", f"missing column {c!r}", source=source, line=1) for c in missing
    ] + [Problem("votes-columns", f"unknown column {c!r}", source=source, line=1) for c in unknown]
    if problems:
        raise InputError(problems)


def instruction_rows(instruction: VoteInstruction) -> list[dict[str, Any]]:
    """The rows (`VOTES_SCHEMA` without `line_no`) of one well-formed instruction."""
    return [
        {
            "instruction_id": instruction.instruction_id,
            "executed_us": to_epoch_us(instruction.executed_at),
            "voter": instruction.voter,
            "class_id": instruction.class_id or "",
            "channel": instruction.channel,
            "proposal_id": line.proposal_id,
            "item_id": line.nominee_id or "",
            "choice": line.choice,
            "shares": line.shares,
            "discretionary": line.discretionary,
            "header_error": None,
            "line_error": None,
        }
        for line in instruction.lines
    ]
