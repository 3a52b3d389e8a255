"""`corpact price`: Bond pricing calculators (fixed-spread tender pricing)."""

from __future__ import annotations

from corpact.cli.common import DemoStep, new_app

app = new_app("Bond pricing calculators (fixed-spread tender pricing).")


def demo_steps() -> list[DemoStep]:
    return []
