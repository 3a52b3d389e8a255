"""The `corpact` command line. Each domain owns one sub-command module; no business rules here."""

from __future__ import annotations

import os
import shlex
import shutil
from pathlib import Path

import typer

from corpact.cli import audit, meeting, offer, price, split, tender
from corpact.cli.common import DemoStep, GuardedGroup, examples_root

app = typer.Typer(
    cls=GuardedGroup,
    help="corpact: exact, auditable corporate actions.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    rich_markup_mode=None,
)
app.add_typer(tender.app, name="tender")
app.add_typer(price.app, name="price")
app.add_typer(offer.app, name="offer")
app.add_typer(audit.app, name="audit")
app.add_typer(meeting.app, name="meeting")
app.add_typer(split.app, name="split")

DEMO_SECTIONS = {
    "tender": tender.demo_steps,
    "price": price.demo_steps,
    "offer": offer.demo_steps,
    "meeting": meeting.demo_steps,
    "split": split.demo_steps,
}


def _relative_to_examples(argv: list[str]) -> list[str]:
    """Example paths as a user sees them after `corpact examples --copy-to examples`."""
    root = str(examples_root())
    return [a.replace(root + os.sep, "") if a.startswith(root + os.sep) else a for a in argv]


@app.command()
def demo(
    section: str = typer.Argument("all", help="all, or one of: " + ", ".join(DEMO_SECTIONS)),
) -> None:
    """Run the reference cases from the example files shipped in the package.

    Each step prints the command it runs; `corpact examples --copy-to DIR` copies the files so
    the same commands work from DIR.
    """
    if section != "all" and section not in DEMO_SECTIONS:
        raise typer.BadParameter(f"unknown section {section!r}", param_hint="SECTION")
    names = list(DEMO_SECTIONS) if section == "all" else [section]
    for name in names:
        for step in DEMO_SECTIONS[name]():
            _run_step(step)


def _run_step(step: DemoStep) -> None:
    command = typer.main.get_command(app)
    argv = _relative_to_examples(step.argv)
    typer.echo()
    typer.secho(f"== {step.title}", bold=True)
    typer.echo("$ corpact " + shlex.join(argv))
    # Run inside the examples folder so that the output names files as the user sees them.
    previous = Path.cwd()
    os.chdir(examples_root())
    try:
        command.main(args=argv, prog_name="corpact", standalone_mode=False)
    except typer.Exit as stop:
        if stop.exit_code:
            raise
    finally:
        os.chdir(previous)


@app.command()
def examples(
    copy_to: Path | None = typer.Option(None, "--copy-to", help="copy the example files here"),
) -> None:
    """List (or copy) the example files shipped with corpact."""
    root = examples_root()
    if copy_to is not None:
        shutil.copytree(root, copy_to, dirs_exist_ok=True)
        typer.echo(f"copied examples to {copy_to}")
        return
    for path in sorted(root.rglob("*")):
        if path.is_file() and not path.name.startswith("."):
            typer.echo(str(path.relative_to(root)))


def main() -> None:
    app()
