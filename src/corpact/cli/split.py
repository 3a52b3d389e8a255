"""`corpact split`: Share splits on the register: apply a reverse or forward split."""

from __future__ import annotations

from corpact.cli.common import DemoStep, new_app

app = new_app("Share splits on the register: apply a reverse or forward split.")


def demo_steps() -> list[DemoStep]:
    return []
