"""The one place the storage shell reads the wall clock (checkpoint `signed_at`)."""

from __future__ import annotations

from datetime import UTC, datetime


def utc_now() -> datetime:
    return datetime.now(UTC)
