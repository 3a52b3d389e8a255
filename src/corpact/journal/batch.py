"""Events encoded by column: a bulk import's leaves without an object per event.

`encode_events` builds each leaf with Python string formatting and hashes it with `hashlib`,
a few microseconds per event, all under Python's lock. For a batch of events of one stream (a
file of instructions: tenders and withdrawals), DuckDB writes the same canonical leaf records
and their SHA-256 hashes column by column without that lock, so that a bulk import can store
one batch while the next is encoded. `encode_batch` must give the very bytes `encode_events`
gives for the same events (tests/journal/test_batch.py holds them equal), so that a leaf never
depends on the path that wrote it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from corpact.errors import InputError, Problem
from corpact.journal.events import (
    LEAF_FORMAT,
    MAX_TEXT_FIELD_CHARS,
    format_recorded_at,
    json_string,
)
from corpact.timeutil import from_epoch_us

# JSON string escaping (`json_string`) changes only these: quote, backslash, control characters.
NEEDS_ESCAPE = r'["\\\x00-\x1f]'
# DuckDB's %Y does not zero-pad years before 1000; such times are formatted by Python instead.
_FIRST_PLAIN_US = -30610224000000000  # 1000-01-01T00:00:00Z
_AFTER_PLAIN_US = 253402300800000000  # 10000-01-01T00:00:00Z


@dataclass(frozen=True, slots=True)
class EncodedBatch:
    """Events of one stream, encoded: each list holds one entry per event."""

    stream: str
    kinds: list[str]
    keys: list[str]
    fingerprints: list[bytes]
    recorded_at_texts: list[str]
    leaf_data: list[bytes]
    leaf_hashes: list[bytes]

    def __len__(self) -> int:
        return len(self.keys)

    def part(self, start: int, stop: int) -> EncodedBatch:
        return EncodedBatch(
            self.stream,
            self.kinds[start:stop],
            self.keys[start:stop],
            self.fingerprints[start:stop],
            self.recorded_at_texts[start:stop],
            self.leaf_data[start:stop],
            self.leaf_hashes[start:stop],
        )

    def select(self, positions: Sequence[int]) -> EncodedBatch:
        return EncodedBatch(
            self.stream,
            [self.kinds[i] for i in positions],
            [self.keys[i] for i in positions],
            [self.fingerprints[i] for i in positions],
            [self.recorded_at_texts[i] for i in positions],
            [self.leaf_data[i] for i in positions],
            [self.leaf_hashes[i] for i in positions],
        )


@dataclass(frozen=True, slots=True)
class LeafColumns:
    """A batch's leaf records and hashes as Arrow columns, not yet Python objects (`to_batch`).
    DuckDB builds them without holding Python's lock, so a bulk import builds the next
    batch's on another thread while it writes this one."""

    stream: str
    kinds: pa.Array
    keys: pa.Array
    texts: pa.Table  # recorded_at_text, leaf_data, leaf_hash, fingerprint

    def to_batch(self) -> EncodedBatch:
        return EncodedBatch(
            self.stream,
            self.kinds.to_pylist(),
            self.keys.to_pylist(),
            self.texts.column("fingerprint").to_pylist(),
            self.texts.column("recorded_at_text").to_pylist(),
            self.texts.column("leaf_data").to_pylist(),
            self.texts.column("leaf_hash").to_pylist(),
        )


def encode_batch(
    stream: str,
    kind: str | pa.Array,
    keys: pa.Array,
    payloads: pa.Array,
    recorded_at_us: pa.Array,
) -> EncodedBatch:
    """The events (`stream`, `kind[i]`, `keys[i]`, `payloads[i]`, `recorded_at_us[i]`)
    encoded; `kind` is one text for every event or a column of them.

    `payloads` are canonical JSON texts (`canonical_json`) of the payloads, which the caller
    writes; `recorded_at_us` are UTC instants in microseconds since the epoch. Raises
    `InputError` for a stream, kind or key that `encode_events` would refuse."""
    return leaf_columns(stream, kind, keys, payloads, recorded_at_us).to_batch()


def leaf_columns(
    stream: str,
    kind: str | pa.Array,
    keys: pa.Array,
    payloads: pa.Array,
    recorded_at_us: pa.Array,
) -> LeafColumns:
    """`encode_batch` as Arrow columns. DuckDB runs on one thread: its caller (an import)
    writes to the journal on the other core meanwhile."""
    count = len(keys)
    kinds = pa.repeat(pa.scalar(kind), count) if isinstance(kind, str) else kind
    if len(payloads) != count or len(recorded_at_us) != count or len(kinds) != count:
        raise ValueError("kinds, keys, payloads and times must be columns of the same length")
    problems = [
        Problem("event-field", f"must be a text of 1 to {MAX_TEXT_FIELD_CHARS} characters", field=f)
        for f, texts in (("stream", pa.array([stream])), ("kind", kinds))
        if len(texts) and not _lengths_within(texts, 1, MAX_TEXT_FIELD_CHARS)
    ]
    if count and keys.null_count:
        problems.append(Problem("event-field", "a key is missing", field="idempotency_key"))
    elif count and not _lengths_within(keys, 1, MAX_TEXT_FIELD_CHARS):
        problems.append(
            Problem(
                "event-field",
                f"must be a text of 1 to {MAX_TEXT_FIELD_CHARS} characters",
                field="idempotency_key",
            )
        )
    if problems:
        raise InputError(problems)
    if count == 0:
        empty = pa.array([], pa.binary())
        texts = pa.table(
            {
                "recorded_at_text": pa.array([], pa.string()),
                "leaf_data": empty,
                "leaf_hash": empty,
                "fingerprint": empty,
            }
        )
        return LeafColumns(stream, kinds, keys, texts)
    table = pa.table(
        {
            "kind": escaped(kinds),
            "key": escaped(keys),
            "payload": payloads,
            "recorded_at_us": recorded_at_us.cast(pa.int64()),
        }
    )
    plain_times = four_digit_years(table.column("recorded_at_us"))
    if not plain_times:
        texts = [format_recorded_at(from_epoch_us(us)) for us in recorded_at_us.to_pylist()]
        table = table.append_column("given_text", pa.array(texts, pa.string()))
    time_text = (
        "strftime(make_timestamp(recorded_at_us), '%Y-%m-%dT%H:%M:%S.%fZ')"
        if plain_times
        else "given_text"
    )
    connection = duckdb.connect(config={"threads": 1})
    try:
        connection.register("events", table)
        connection.execute("SET VARIABLE corpact_stream = ?", [json_string(stream)])
        connection.execute("SET VARIABLE corpact_format = ?", [json_string(LEAF_FORMAT)])
        result = connection.sql(
            f"""
            WITH t AS (
                SELECT key, {time_text} AS recorded_at_text,
                       '"kind":"' || kind || '","payload":' || payload || ',' AS fingerprinted
                FROM events
            ), leaves AS (
                SELECT recorded_at_text, fingerprinted,
                       encode('{{"format":' || getvariable('corpact_format')
                           || ',"idempotency_key":"' || key || '",' || fingerprinted
                           || '"recorded_at":"' || recorded_at_text || '","stream":'
                           || getvariable('corpact_stream') || '}}') AS leaf_data
                FROM t
            )
            SELECT recorded_at_text, leaf_data,
                   unhex(sha256('\\x00'::BLOB || leaf_data)) AS leaf_hash,
                   unhex(sha256('{{' || fingerprinted || '"stream":'
                       || getvariable('corpact_stream') || '}}')) AS fingerprint
            FROM leaves
            """
        ).to_arrow_table()
    finally:
        connection.close()
    return LeafColumns(stream, kinds, keys, result)


def four_digit_years(times_us: pa.Array | pa.ChunkedArray) -> bool:
    """Whether every time (UTC microseconds) falls in the years 1000 to 9999, where DuckDB's
    `strftime` writes the year as Python's `isoformat` does."""
    bounds = pc.min_max(times_us).as_py()
    return bool(bounds["min"] >= _FIRST_PLAIN_US and bounds["max"] < _AFTER_PLAIN_US)


def _lengths_within(texts: pa.Array, least: int, most: int) -> bool:
    if texts.null_count:
        return False
    lengths = pc.min_max(pc.utf8_length(texts)).as_py()
    return bool(least <= lengths["min"] and lengths["max"] <= most)


def escaped(texts: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """Each text as it stands between the quotes of its JSON string (`json_string`)."""
    if not pc.any(pc.match_substring_regex(texts, NEEDS_ESCAPE)).as_py():
        return texts
    return pa.array([json_string(t)[1:-1] for t in texts.to_pylist()], pa.string())
