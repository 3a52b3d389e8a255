"""Shared helpers for the storage tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from corpact.journal.events import NewEvent
from corpact.journal.keys import Signer

ORIGIN = "corpact/journal"
SIGNER = Signer.from_text(
    "PRIVATE+KEY+corpact/journal+44777dc7+AQABAgMEBQYHCAkKCwwNDg8QERITFBUWFxgZGhscHR4f"
)
START = datetime(2004, 11, 1, 14, 0, tzinfo=UTC)


def instruction(number: int, stream: str = "tender:level3-2004", **extra: str) -> NewEvent:
    payload: dict[str, str | int | None] = {
        "holder": f"DTC-{number % 97:04d}",
        "principal_usd": f"{1000 * (number % 13 + 1)}.00",
        "cusip": "52729NAS9",
        "election": "tender",
        **extra,
    }
    return NewEvent(
        stream=stream,
        kind="instruction.received",
        payload=dict(payload),
        idempotency_key=f"{stream}/ins-{number:06d}",
        recorded_at=START + timedelta(seconds=number),
    )
