"""The votes CSV read column by column (`corpact.csvfiles.columns`), for the plain files that
bulk voting systems write.

The row reader (`votes._parse_rows`) spends about 5 µs of Python on every line, which is most
of a minute for a 10,000,000-line file. Here Arrow splits the lines and the row reader's own
rules (`str.strip`, `parse_instant`, `parse_shares`, the flag and channel words) run once per
distinct text of a column. A vote file repeats its texts heavily (ten lines per instruction
share an id, a voter and a time; choices, channels and proposals are a handful of words), so
the per-line work left is Arrow's. Both readers must give the same table for a plain file
(tests/meeting/test_votes_columnar.py compares them).
"""

from __future__ import annotations

from decimal import Decimal
from zoneinfo import ZoneInfo

import pyarrow as pa
import pyarrow.compute as pc

from corpact.csvfiles.columns import (
    BOOL,
    STRICT_INSTANT,
    Columns,
    read_plain_csv,
    utc_epoch_us,
)
from corpact.errors import InputError
from corpact.meeting.register import SHARES_TYPE, parse_shares
from corpact.meeting.votes import (
    CHANNELS,
    FLAG_WORDS,
    TRUE_WORDS,
    VOTES_SCHEMA,
    counting,
)
from corpact.timeutil import parse_instant, to_epoch_us

# The row reader's output columns, by the CSV column each comes from.
_TEXT_COLUMNS = {
    "instruction_id": "instruction_id",
    "voter": "voter",
    "class_id": "class",
    "channel": "channel",
    "proposal_id": "proposal",
    "item_id": "nominee",
}


def read_votes_columnar(
    data: bytes, tz: ZoneInfo
) -> tuple[list[str], pa.Table, dict[str, pa.DictionaryArray]] | None:
    """(header, the lines as `VOTES_SCHEMA` columns, the dictionary encoding of those text
    columns that are the file's cells unchanged) for a plain file, or None.

    `data` are the file's bytes as `corpact.inputfiles.read_data` gives them."""
    plain = read_plain_csv(data)
    if plain is None:
        return None
    return plain.header, *_votes_table(plain.columns, plain.header_line, tz)


def _votes_table(
    columns: Columns, header_line: int, tz: ZoneInfo
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
    # Times with an explicit offset in the common layout are converted by Arrow; the rest (no
    # offset, so the meeting's zone and its daylight-saving gaps apply; or another layout) by
    # `parse_instant` itself.
    executed_us = columns.converted(
        "executed_at", STRICT_INSTANT, utc_epoch_us, lambda t: _parsed_us(t, tz), pa.int64()
    )
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
