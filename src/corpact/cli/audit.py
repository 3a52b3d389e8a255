"""`corpact audit`: Verify receipts, checkpoints and exported journals offline."""

from __future__ import annotations

from corpact.cli.common import DemoStep, new_app

app = new_app("Verify receipts, checkpoints and exported journals offline.")


def demo_steps() -> list[DemoStep]:
    return []
