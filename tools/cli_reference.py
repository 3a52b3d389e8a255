"""Write docs/cli.md from the live `--help` of every command: `python tools/cli_reference.py`."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from typer.main import get_command
from typer.testing import CliRunner

from corpact.cli import app

HEADER = """# The `corpact` command

Every command below prints its own help with `--help`. Errors in input go to standard error,
one line per problem naming the file, line or field and the rule broken, and the command exits
with status 1 having changed nothing. Domain guides: [tender.md](tender.md),
[bondmath.md](bondmath.md), [journal.md](journal.md), [meetings.md](meetings.md),
[splits.md](splits.md).

Input files are UTF-8. A byte order mark at the start of a file, as spreadsheet programs save
"CSV UTF-8", is ignored, and line numbers in messages stay the file's own.

This page is generated from the commands themselves (`python tools/cli_reference.py`); a test
checks that it is current.
"""


def command_paths() -> list[list[str]]:
    root = get_command(app)
    paths: list[list[str]] = [[]]
    for name, command in sorted(root.commands.items()):  # type: ignore[attr-defined]
        paths.append([name])
        for sub in sorted(getattr(command, "commands", {}) or {}):
            paths.append([name, sub])
    return paths


def render() -> str:
    os.environ["COLUMNS"] = "100"
    runner = CliRunner()
    parts = [HEADER]
    for path in command_paths():
        env = {"COLUMNS": "100", "NO_COLOR": "1"}
        result = runner.invoke(app, [*path, "--help"], env=env, prog_name="corpact")
        title = " ".join(["corpact", *path])
        level = "##" if len(path) <= 1 else "###"
        parts.append(f"{level} `{title}`\n\n```\n{result.stdout.rstrip()}\n```\n")
    return "\n".join(parts)


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("docs/cli.md")
    target.write_text(render(), encoding="utf-8")
