"""Journal events and their canonical leaf bytes (RFC 8785 JSON, no floats).

The leaf record is one JSON object with sorted keys and no whitespace:

    {"format":"corpact-leaf/1","idempotency_key":...,"kind":...,"payload":{...},
     "recorded_at":"2004-11-12T21:59:00.000000Z","stream":...}

The stored bytes are what is hashed; readers decode them, never re-encode an object to verify.
The payload fingerprint (idempotency) covers stream, kind and payload but not `recorded_at`:
a retry is the same instruction even when it arrives later.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal, cast

from corpact.errors import CorpactError, InputError, Problem
from corpact.journal.hashing import LEAF_PREFIX

JsonValue = str | int | bool | None | list["JsonValue"] | dict[str, "JsonValue"]
LEAF_FORMAT = "corpact-leaf/1"
# RFC 8785 serializes numbers as IEEE doubles: larger integers must travel as strings.
MAX_SAFE_INTEGER = (1 << 53) - 1
MAX_TEXT_FIELD_CHARS = 512
_sha256 = hashlib.sha256


@dataclass(frozen=True, slots=True)
class NewEvent:
    stream: str
    kind: str
    payload: Mapping[str, JsonValue]
    idempotency_key: str
    recorded_at: datetime
    # `canonical_json(payload)`, when the sender can make it more cheaply than the general
    # encoder (a bulk import's instructions); the leaf is then built from this text.
    canonical_payload: str | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class StoredEvent:
    index: int
    stream: str
    kind: str
    payload: Mapping[str, JsonValue]
    idempotency_key: str
    recorded_at: datetime
    leaf_hash: bytes


@dataclass(frozen=True, slots=True)
class Receipt:
    idempotency_key: str
    index: int
    leaf_hash_hex: str
    status: Literal["created", "exists"]


Guard = Callable[[Sequence[StoredEvent], Sequence[NewEvent]], None]


@dataclass(frozen=True, slots=True)
class EncodedEvent:
    """An event with its leaf bytes, leaf hash and payload fingerprint, ready to store."""

    event: NewEvent
    leaf_data: bytes
    leaf_hash: bytes
    fingerprint: bytes
    recorded_at_text: str


class LeafFormatError(CorpactError):
    """Stored or exported leaf bytes are not a canonical corpact leaf."""


def _json_problems(value: object, where: str, found: list[Problem]) -> bool:
    """Collect problems; return True when a key is not ASCII (slow, exact key sort needed)."""
    if isinstance(value, bool) or value is None:
        return False
    if isinstance(value, int):
        if abs(value) > MAX_SAFE_INTEGER:
            found.append(
                Problem("json-integer", "integer beyond 2^53 - 1: pass it as a string", field=where)
            )
        return False
    if isinstance(value, str):
        if not _encodable(value):
            found.append(Problem("json-string", "string is not valid Unicode", field=where))
        return False
    if isinstance(value, list):
        return any([_json_problems(v, f"{where}[{i}]", found) for i, v in enumerate(value)])
    if isinstance(value, dict):
        slow = False
        for key, item in value.items():
            if not isinstance(key, str) or not _encodable(key):
                found.append(Problem("json-key", f"key {key!r} is not a text", field=where))
                continue
            slow = _json_problems(item, f"{where}.{key}", found) or slow or not key.isascii()
        return slow
    rule = "json-float" if isinstance(value, float) else "json-type"
    found.append(
        Problem(
            rule,
            f"{type(value).__name__} is not allowed in a payload "
            "(amounts travel as decimal strings)",
            field=where,
        )
    )
    return False


# A JSON string literal as `canonical_json` writes it (non-ASCII characters kept as they are):
# the function `JSONEncoder(ensure_ascii=False).encode` calls for a str, without its type
# dispatch, which cost as much as the escaping (a bulk import writes ten per event). Only
# ever given a str.
json_string: Callable[[str], str] = json.encoder.encode_basestring
_SCALARS = (str, int, bool, type(None))


def _flat_and_fine(payload: Mapping[str, object]) -> bool:
    """The common case: ASCII keys, scalar values, small integers, encodable text."""
    for key, value in payload.items():
        if type(key) is not str or not key.isascii() or type(value) not in _SCALARS:
            return False
        if type(value) is int and abs(value) > MAX_SAFE_INTEGER:
            return False
        if type(value) is str and not value.isascii() and not _encodable(value):
            return False
    return True


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _utf16_sorted(value: JsonValue) -> JsonValue:
    # RFC 8785 sorts keys by UTF-16 code units; Python compares code points.
    if isinstance(value, dict):
        ordered = sorted(value.items(), key=lambda item: item[0].encode("utf-16-be"))
        return {k: _utf16_sorted(v) for k, v in ordered}
    if isinstance(value, list):
        return [_utf16_sorted(v) for v in value]
    return value


def canonical_json(value: JsonValue, *, exact_sort: bool = True) -> str:
    if exact_sort:
        return json.dumps(_utf16_sorted(value), ensure_ascii=False, separators=(",", ":"))
    return _code_point_sorted(value)


# json.dumps builds a new encoder on every call, which costs as much as encoding a small
# payload: this one is made once. No circular-reference check: payloads are checked to be
# trees before they get here.
_code_point_sorted: Callable[[JsonValue], str] = json.JSONEncoder(
    ensure_ascii=False, separators=(",", ":"), sort_keys=True, check_circular=False
).encode


def format_recorded_at(moment: datetime) -> str:
    utc = moment if moment.tzinfo is UTC else moment.astimezone(UTC)
    if type(utc) is datetime:
        # The C isoformat zero-pads the year to four digits and is several times faster.
        return utc.replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"
    # strftime("%Y") does not zero-pad years before 1000 on every platform.
    return f"{utc.year:04d}-{utc:%m-%dT%H:%M:%S.%f}Z"


def _field_problems(event: NewEvent, where: str) -> list[Problem]:
    found: list[Problem] = []
    for name in ("stream", "kind", "idempotency_key"):
        text = getattr(event, name)
        if not isinstance(text, str) or not text or len(text) > MAX_TEXT_FIELD_CHARS:
            found.append(
                Problem(
                    "event-field",
                    f"must be a text of 1 to {MAX_TEXT_FIELD_CHARS} characters",
                    field=f"{where}.{name}",
                )
            )
    moment = event.recorded_at
    if not isinstance(moment, datetime) or moment.utcoffset() is None:
        found.append(
            Problem(
                "aware-datetime",
                "must be a datetime with a time zone",
                field=f"{where}.recorded_at",
            )
        )
    if not isinstance(event.payload, Mapping):
        found.append(
            Problem("payload-object", "payload must be a mapping", field=f"{where}.payload")
        )
    return found


def _plain_fields(event: NewEvent) -> bool:
    """The common case of `_field_problems` finding nothing, checked without building lists."""
    stream, kind, key, moment = event.stream, event.kind, event.idempotency_key, event.recorded_at
    return (
        isinstance(stream, str)
        and isinstance(kind, str)
        and isinstance(key, str)
        and 0 < len(stream) <= MAX_TEXT_FIELD_CHARS
        and 0 < len(kind) <= MAX_TEXT_FIELD_CHARS
        and 0 < len(key) <= MAX_TEXT_FIELD_CHARS
        and isinstance(moment, datetime)
        and (moment.tzinfo is UTC or moment.utcoffset() is not None)
    )


def encode_event(event: NewEvent, where: str = "event") -> EncodedEvent:
    """Validate and encode one event; raise `InputError` listing every problem."""
    payload = event.payload
    given = event.canonical_payload
    if given is not None and given.isascii() and _plain_fields(event):
        # ASCII text holds no unpaired surrogate, the one thing `_json_problems` would refuse
        # in a payload its sender could write as canonical text.
        return _encoded(event, given)
    if type(payload) is dict and _plain_fields(event) and _flat_and_fine(payload):
        return _encoded(event, _code_point_sorted(cast(JsonValue, payload)))
    found = _field_problems(event, where)
    payload = dict(event.payload) if isinstance(event.payload, Mapping) else {}
    slow = False
    if found or not _flat_and_fine(payload):
        slow = _json_problems(payload, f"{where}.payload", found)
    if found:
        raise InputError(found)
    return _encoded(event, canonical_json(cast(JsonValue, payload), exact_sort=slow))


def _encoded(event: NewEvent, payload_text: str) -> EncodedEvent:
    stream = json_string(event.stream)
    kind = json_string(event.kind)
    moment = event.recorded_at
    if moment.tzinfo is UTC and type(moment) is datetime:
        # Always "+00:00" in UTC; cheaper than dropping the zone with `replace` first.
        recorded_at_text = moment.isoformat("T", "microseconds")[:-6] + "Z"
    else:
        recorded_at_text = format_recorded_at(moment)
    fingerprint_text = f'"kind":{kind},"payload":{payload_text},'
    leaf_data = (
        f'{{"format":"{LEAF_FORMAT}","idempotency_key":{json_string(event.idempotency_key)},'
        f'{fingerprint_text}"recorded_at":"{recorded_at_text}","stream":{stream}}}'
    ).encode()
    return EncodedEvent(
        event,
        leaf_data,
        _sha256(LEAF_PREFIX + leaf_data).digest(),
        _sha256(f'{{{fingerprint_text}"stream":{stream}}}'.encode()).digest(),
        recorded_at_text,
    )


def encode_events(events: Sequence[NewEvent]) -> list[EncodedEvent]:
    """Encode a batch, reporting the problems of every event at once."""
    encoded: list[EncodedEvent] = []
    found: list[Problem] = []
    for position, event in enumerate(events):
        given = event.canonical_payload
        if given is not None and given.isascii() and _plain_fields(event):
            encoded.append(_encoded(event, given))
            continue
        try:
            encoded.append(encode_event(event, f"events[{position}]"))
        except InputError as err:
            found.extend(err.problems)
    if found:
        raise InputError(found)
    return encoded


def decode_leaf(index: int, leaf_data: bytes) -> StoredEvent:
    """Read a stored leaf back; refuse bytes that are not exactly the canonical encoding."""
    return decode_leaf_encoded(index, leaf_data)[0]


def decode_leaf_encoded(index: int, leaf_data: bytes) -> tuple[StoredEvent, EncodedEvent]:
    """`decode_leaf`, with the encoding that proved the bytes canonical (its fingerprint and
    time text are what an audit compares with the stored columns)."""
    try:
        record = json.loads(leaf_data.decode("utf-8"))
        event = NewEvent(
            stream=record["stream"],
            kind=record["kind"],
            payload=record["payload"],
            idempotency_key=record["idempotency_key"],
            recorded_at=datetime.fromisoformat(record["recorded_at"]),
        )
        ok = record["format"] == LEAF_FORMAT and len(record) == 6
    except (UnicodeDecodeError, ValueError, KeyError, TypeError):
        raise LeafFormatError(f"leaf {index} is not a corpact leaf record") from None
    encoded = None
    with contextlib.suppress(InputError):  # a payload the encoder refuses is not canonical
        encoded = encode_event(event) if ok else None
    if encoded is None or encoded.leaf_data != leaf_data:
        raise LeafFormatError(f"leaf {index} is not in canonical form")
    stored = StoredEvent(
        index=index,
        stream=event.stream,
        kind=event.kind,
        payload=event.payload,
        idempotency_key=event.idempotency_key,
        recorded_at=event.recorded_at,
        leaf_hash=encoded.leaf_hash,  # the hash of these very bytes
    )
    return stored, encoded


def decode_leaf_trusted(index: int, leaf_data: bytes, stored_leaf_hash: bytes) -> StoredEvent:
    """Fast path for rows this store wrote itself; the audit uses `decode_leaf`."""
    record = json.loads(leaf_data)
    return StoredEvent(
        index=index,
        stream=record["stream"],
        kind=record["kind"],
        payload=record["payload"],
        idempotency_key=record["idempotency_key"],
        recorded_at=datetime.fromisoformat(record["recorded_at"]),
        leaf_hash=stored_leaf_hash,
    )
