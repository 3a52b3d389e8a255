"""`corpact tender`: validate terms and instructions, allocate, publish results."""

from __future__ import annotations

from corpact.cli.common import DemoStep, new_app

app = new_app("Debt tender offers: validate terms and instructions, allocate, publish results.")


def demo_steps() -> list[DemoStep]:
    return []
