"""Canonical leaf bytes: deterministic, float-free, round-trip exact."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from corpact.errors import InputError
from corpact.journal.events import (
    JsonValue,
    LeafFormatError,
    NewEvent,
    canonical_json,
    decode_leaf,
    encode_event,
    encode_events,
    json_string,
)

AT = datetime(2004, 11, 12, 16, 59, tzinfo=timezone(timedelta(hours=-5)))


def _event(payload: dict[str, JsonValue], key: str = "k-1") -> NewEvent:
    return NewEvent("tender:level3-2004", "instruction.received", payload, key, AT)


def test_leaf_bytes_are_canonical_and_sorted() -> None:
    encoded = encode_event(_event({"principal_usd": "1000.00", "holder": "DTC-0001", "n": 3}))
    assert encoded.leaf_data == (
        b'{"format":"corpact-leaf/1","idempotency_key":"k-1","kind":"instruction.received",'
        b'"payload":{"holder":"DTC-0001","n":3,"principal_usd":"1000.00"},'
        b'"recorded_at":"2004-11-12T21:59:00.000000Z","stream":"tender:level3-2004"}'
    )
    reordered = encode_event(_event({"n": 3, "holder": "DTC-0001", "principal_usd": "1000.00"}))
    assert reordered.leaf_data == encoded.leaf_data


def test_fingerprint_ignores_time_but_not_payload() -> None:
    first = encode_event(_event({"a": "1"}))
    later = encode_event(
        NewEvent(first.event.stream, first.event.kind, {"a": "1"}, "k-1", AT + timedelta(hours=1))
    )
    other = encode_event(_event({"a": "2"}))
    assert first.fingerprint == later.fingerprint != other.fingerprint
    assert first.leaf_data != later.leaf_data


def test_bad_events_report_every_problem() -> None:
    untyped: Any = {"x": 1.5, "y": 2**60, "z": {"w": object()}}  # what a careless caller sends
    naive = NewEvent("s", "", untyped, "k", datetime(2004, 1, 1))
    with pytest.raises(InputError) as caught:
        encode_events([_event({}), naive])
    fields = {p.field for p in caught.value.problems}
    assert fields == {
        "events[1].kind",
        "events[1].recorded_at",
        "events[1].payload.x",
        "events[1].payload.y",
        "events[1].payload.z.w",
    }


def test_utf16_key_order_for_non_bmp_keys() -> None:
    # U+1F600 sorts before U+FB01 in UTF-16 (surrogate D83D < FB01), after it in code points.
    assert canonical_json({"\ufb01": 1, "\U0001f600": 2}) == '{"\U0001f600":2,"\ufb01":1}'
    leaf = encode_event(_event({"\ufb01": 1, "\U0001f600": 2})).leaf_data
    assert '"payload":{"\U0001f600":2,"\ufb01":1}' in leaf.decode()


def test_decode_refuses_non_canonical_bytes() -> None:
    encoded = encode_event(_event({"b": "2", "a": "1"}))
    assert decode_leaf(7, encoded.leaf_data).payload == {"a": "1", "b": "2"}
    spaced = json.dumps(json.loads(encoded.leaf_data)).encode()
    for bad in (spaced, b"not json", encoded.leaf_data.replace(b"leaf/1", b"leaf/2")):
        with pytest.raises(LeafFormatError):
            decode_leaf(7, bad)


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**53) + 1, max_value=2**53 - 1)
    | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=12,
)


@given(
    st.dictionaries(st.text(max_size=6), json_values, max_size=5),
    st.datetimes(timezones=st.just(UTC)),
)
def test_round_trip_is_byte_exact(payload: dict[str, JsonValue], moment: datetime) -> None:
    encoded = encode_event(NewEvent("s", "k", payload, "key", moment))
    decoded = decode_leaf(0, encoded.leaf_data)
    assert decoded.payload == payload
    assert decoded.recorded_at == moment
    again = NewEvent(
        decoded.stream, decoded.kind, decoded.payload, decoded.idempotency_key, decoded.recorded_at
    )
    assert encode_event(again).leaf_data == encoded.leaf_data


@given(st.text())
def test_json_string_is_the_encoders_string_literal(text: str) -> None:
    assert json_string(text) == json.dumps(text, ensure_ascii=False)
