"""`corpact meeting`: Stockholder meetings: validate, tabulate, certify results."""

from __future__ import annotations

from corpact.cli.common import DemoStep, new_app

app = new_app("Stockholder meetings: validate, tabulate, certify results.")


def demo_steps() -> list[DemoStep]:
    return []
