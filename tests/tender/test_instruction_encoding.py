"""A tender's own canonical payload text must be exactly what the general encoder writes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from corpact.errors import InputError
from corpact.journal.events import EncodedEvent, JsonValue, NewEvent, canonical_json, encode_event
from corpact.tender.instructions import Tender

# Every code point, unpaired surrogates and control characters included.
ANY_TEXT = st.text(st.characters(blacklist_categories=()))
VALID_TEXT = st.text()  # no surrogates: text that can be UTF-8 at all
AWARE = st.datetimes(
    min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=st.timezones()
) | st.datetimes(timezones=st.just(UTC))
AMOUNTS = st.decimals(allow_nan=True, allow_infinity=True) | st.sampled_from(
    [Decimal("1000"), Decimal("1E+3"), Decimal("-0.00"), Decimal("1000.50")]
)


def _tender(data: st.DataObject, text: st.SearchStrategy[str]) -> Tender:
    return Tender(
        data.draw(text | st.sampled_from(['"', "\\", "\x00\x1f\x7f", "é", "\u2028"])),
        data.draw(AWARE),
        data.draw(text),
        data.draw(AMOUNTS),
        participant=data.draw(text),
        account=data.draw(text),
        reference=data.draw(text),
        guaranteed_delivery=data.draw(st.booleans()),
    )


def _encoded(tender: Tender, given_text: str | None) -> EncodedEvent | str:
    payload: dict[str, JsonValue] = dict(tender.payload())
    event = NewEvent("tender:o", "instruction.received", payload, "o:instruction:x",
                     tender.received_at.astimezone(UTC), given_text)  # fmt: skip
    try:
        return encode_event(event)
    except InputError as err:
        return "refused: " + "; ".join(sorted(p.rule for p in err.problems))


@given(data=st.data())
def test_canonical_payload_is_the_general_encoding(data: st.DataObject) -> None:
    tender = _tender(data, VALID_TEXT)
    payload: dict[str, JsonValue] = dict(tender.payload())
    text = tender.canonical_payload()
    assert text == canonical_json(payload) == canonical_json(payload, exact_sort=False)
    assert tender.payload_and_text() == (tender.payload(), text)


@given(data=st.data())
def test_leaves_from_the_canonical_payload_are_the_same_bytes(data: st.DataObject) -> None:
    tender = _tender(data, ANY_TEXT)
    general, direct = _encoded(tender, None), _encoded(tender, tender.canonical_payload())
    if isinstance(general, str) or isinstance(direct, str):
        assert general == direct  # refused for the same reasons (text that is not Unicode)
        return
    assert direct.leaf_data == general.leaf_data
    assert direct.leaf_hash == general.leaf_hash
    assert direct.fingerprint == general.fingerprint
    assert direct.recorded_at_text == general.recorded_at_text


@pytest.mark.parametrize(
    "change",
    [
        {"participant": 7},
        {"guaranteed_delivery": 1},
        {"series_id": None},
        {"reference": b"VOI"},
    ],
)
def test_fields_of_another_type_are_left_to_the_general_encoder(change: dict[str, Any]) -> None:
    fields: dict[str, Any] = {
        "instruction_id": "i1",
        "received_at": datetime(2004, 11, 1, 9, tzinfo=timezone(timedelta(hours=-5))),
        "series_id": "s",
        "principal": Decimal("1000"),
    }
    assert Tender(**fields).canonical_payload() is not None
    assert Tender(**(fields | change)).canonical_payload() is None
