"""Run the real `corpact` CLI in-process and capture what a user would see."""

from __future__ import annotations

from dataclasses import dataclass

from typer.testing import CliRunner

from corpact.cli import app


@dataclass(frozen=True)
class CliResult:
    exit_code: int
    stdout: str
    stderr: str


def run_cli(*args: str) -> CliResult:
    runner = CliRunner()
    result = runner.invoke(app, list(args), catch_exceptions=False)
    return CliResult(result.exit_code, result.stdout, result.stderr)
