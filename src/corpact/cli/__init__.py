"""The `corpact` command line. Each domain owns one sub-command module; no business rules here."""

from __future__ import annotations

import os
import shlex
import shutil
import tempfile
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


@app.command()
def demo(
    section: str = typer.Argument("all", help="all, or one of: " + ", ".join(DEMO_SECTIONS)),
    keep: Path | None = typer.Option(None, "--keep", help="run in this folder and keep its files"),
) -> None:
    """Run the reference cases from the example files shipped in the package.

    The example files are copied to a scratch folder and each step prints the command it runs
    there, so `corpact examples --copy-to DIR` and the same commands reproduce it from DIR.
    """
    if section != "all" and section not in DEMO_SECTIONS:
        raise typer.BadParameter(f"unknown section {section!r}", param_hint="SECTION")
    names = list(DEMO_SECTIONS) if section == "all" else [section]
    with tempfile.TemporaryDirectory(prefix="corpact-demo-") as scratch:
        folder = keep or Path(scratch)
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copytree(examples_root(), folder, dirs_exist_ok=True)
        previous = Path.cwd()
        os.chdir(folder)
        try:
            for name in names:
                for step in DEMO_SECTIONS[name]():
                    _run_step(step)
        finally:
            os.chdir(previous)


def _relative_to_examples(argv: list[str]) -> list[str]:
    """Example paths as a user sees them after `corpact examples --copy-to DIR`."""
    root = str(examples_root())
    return [a.replace(root + os.sep, "") if a.startswith(root + os.sep) else a for a in argv]


def _run_step(step: DemoStep) -> None:
    command = typer.main.get_command(app)
    argv = _relative_to_examples(step.argv)
    if step.title:
        typer.echo()
        typer.secho(f"== {step.title}", bold=True)
    typer.echo("$ corpact " + shlex.join(argv))
    try:
        status = command.main(args=argv, prog_name="corpact", standalone_mode=False)
    except typer.Exit as stop:
        status = stop.exit_code
    # A failing step fails the whole demo: `make demo` must not look green when it is not.
    if isinstance(status, int) and status != 0:
        raise typer.Exit(status)


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
