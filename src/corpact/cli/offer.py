"""`corpact offer`: Operate a live tender offer on the journal (SQLite or PostgreSQL)."""

from __future__ import annotations

from corpact.cli.common import DemoStep, new_app

app = new_app("Operate a live tender offer on the journal (SQLite or PostgreSQL).")


def demo_steps() -> list[DemoStep]:
    return []
