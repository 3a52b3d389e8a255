"""docs/cli.md is generated from the commands; it must not drift from them."""

from __future__ import annotations

from pathlib import Path

from tools.cli_reference import render

DOC = Path(__file__).resolve().parents[1] / "docs" / "cli.md"


def test_cli_reference_is_current() -> None:
    assert DOC.read_text() == render(), "regenerate with: python tools/cli_reference.py"
