"""Events encoded by column (`encode_batch`) are the events `encode_events` encodes, byte for
byte; a compact range extended by a batch of leaves is the range grown leaf by leaf."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pyarrow as pa
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from corpact.errors import InputError
from corpact.journal.batch import encode_batch, escaped
from corpact.journal.compact import CompactRange
from corpact.journal.events import JsonValue, NewEvent, canonical_json, encode_events, json_string
from corpact.timeutil import from_epoch_us, to_epoch_us

STREAM, KIND = "tender:level3-2004", "instruction.received"
# Texts with what JSON escapes (quotes, backslashes, control characters) and what it keeps.
texts = st.text(
    alphabet=st.sampled_from(['a', 'Z', '0', ' ', '"', '\\', '\n', '\t', '\x00', '\x1f', '/',
                              '\x7f', 'é', '€', '\u2028', '😀']),
    max_size=12,
)  # fmt: skip
payloads = st.dictionaries(
    st.sampled_from(["a", "b", "principal", "é"]),
    st.one_of(texts, st.booleans(), st.none(), st.integers(-(2**53) + 1, 2**53 - 1)),
    max_size=4,
)
instants = st.datetimes(
    min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=st.just(UTC)
)


kinds = st.sampled_from([KIND, "instruction.withdrawn", 'a "kind" é'])


@given(st.lists(st.tuples(texts.filter(bool), payloads, instants, kinds), max_size=8))
@example([("k", {"a": "x"}, datetime(999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC), KIND)])
@example([("k", {}, datetime(1969, 12, 31, 23, 59, 59, 1, tzinfo=UTC), KIND)])
def test_the_batch_is_the_events_encoded_one_by_one(
    events: list[tuple[str, dict[str, JsonValue], datetime, str]],
) -> None:
    one_by_one = encode_events([NewEvent(STREAM, c, p, k, t) for k, p, t, c in events])
    columns = (
        pa.array([k for k, _, _, _ in events], pa.string()),
        pa.array([canonical_json(p) for _, p, _, _ in events], pa.string()),
        pa.array([to_epoch_us(t) for _, _, t, _ in events], pa.int64()),
    )
    batch = encode_batch(STREAM, pa.array([c for *_, c in events], pa.string()), *columns)
    assert batch.kinds == [c for *_, c in events]
    assert batch.keys == [k for k, _, _, _ in events]
    assert batch.leaf_data == [e.leaf_data for e in one_by_one]
    assert batch.leaf_hashes == [e.leaf_hash for e in one_by_one]
    assert batch.fingerprints == [e.fingerprint for e in one_by_one]
    assert batch.recorded_at_texts == [e.recorded_at_text for e in one_by_one]
    if events and len({c for *_, c in events}) == 1:  # one text for every event: the same
        assert encode_batch(STREAM, events[0][3], *columns) == batch
    assert len(batch.part(1, 3)) == len(events[1:3])
    if events:
        assert batch.select([0, 0]).leaf_data == batch.leaf_data[:1] * 2


@given(st.lists(texts))
def test_escaped_is_the_inside_of_a_json_string(values: list[str]) -> None:
    assert escaped(pa.array(values, pa.string())).to_pylist() == [
        json_string(v)[1:-1] for v in values
    ]


def test_keys_the_journal_cannot_hold_are_refused() -> None:
    moment = pa.array([to_epoch_us(datetime(2004, 11, 1, tzinfo=UTC))], pa.int64())
    payload = pa.array(["{}"], pa.string())
    for key in ("", "k" * 513):
        with pytest.raises(InputError, match="1 to 512 characters"):
            encode_batch(STREAM, KIND, pa.array([key], pa.string()), payload, moment)
    with pytest.raises(InputError, match="stream"):
        encode_batch("", KIND, pa.array(["k"], pa.string()), payload, moment)
    with pytest.raises(InputError, match="kind"):
        key = pa.array(["k"], pa.string())
        encode_batch(STREAM, pa.array([""], pa.string()), key, payload, moment)
    with pytest.raises(ValueError, match="same length"):
        encode_batch(STREAM, KIND, pa.array(["k", "l"], pa.string()), payload, moment)
    assert len(encode_batch(STREAM, KIND, pa.array([], pa.string()), payload[:0], moment[:0])) == 0


def test_epoch_microseconds_round_trip() -> None:
    for moment in (datetime(1, 1, 1, tzinfo=UTC), datetime(2004, 11, 12, 21, 59, tzinfo=UTC)):
        assert from_epoch_us(to_epoch_us(moment)) == moment
    assert to_epoch_us(datetime(1970, 1, 1, tzinfo=UTC) - timedelta(microseconds=1)) == -1


@given(st.integers(0, 300), st.integers(0, 300))
def test_extend_grows_the_range_as_appending_one_leaf_at_a_time(before: int, added: int) -> None:
    leaves = [hashlib.sha256(n.to_bytes(4, "big")).digest() for n in range(before + added)]
    one_by_one, batched = CompactRange(), CompactRange()
    for leaf in leaves[:before]:
        one_by_one.append(leaf)
        batched.append(leaf)
    expected = [node for leaf in leaves[before:] for node in one_by_one.append(leaf)]
    completed = batched.extend(leaves[before:])
    assert sorted(completed) == sorted(expected)
    assert len(completed) == len(expected)
    assert (batched.size, batched.hashes) == (one_by_one.size, one_by_one.hashes)
    assert batched.root() == one_by_one.root()
