"""Pieces every CLI module shares: error rendering, output formats, example files, demo steps."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from typer.core import TyperGroup

from corpact.errors import CorpactError, InputError
from corpact.journal.keys import Signer
from corpact.store import JournalStore

EXIT_REJECTED = 1


class OutputFormat(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"


def stdout_console() -> Console:
    # Wide enough that the reference tables never wrap, also under a test runner with no tty.
    return Console(width=200, soft_wrap=False, highlight=False)


def render_error(err: CorpactError) -> None:
    if isinstance(err, InputError):
        for problem in err.problems:
            typer.echo(f"error: {problem}", err=True)
        typer.echo(f"rejected: {len(err.problems)} problem(s); nothing was changed", err=True)
    else:
        typer.echo(f"error: {err}", err=True)


class GuardedGroup(TyperGroup):
    """Turns a `CorpactError` from any sub-command into a message and exit status 1."""

    def invoke(self, ctx: Any) -> Any:  # the vendored click Context is not public
        try:
            return super().invoke(ctx)
        except CorpactError as err:
            render_error(err)
            raise typer.Exit(EXIT_REJECTED) from None


def new_app(help_text: str) -> typer.Typer:
    return typer.Typer(
        help=help_text,
        no_args_is_help=True,
        pretty_exceptions_enable=False,
        add_completion=False,
        rich_markup_mode=None,
    )


DbOption = Annotated[
    str | None,
    typer.Option("--db", help="database URL (default: env CORPACT_DB, else sqlite:///corpact.db)"),
]
SigningKeyOption = Annotated[
    Path | None,
    typer.Option(
        "--signing-key",
        help="signer key file: sign a checkpoint after each milestone (default: env "
        "CORPACT_SIGNING_KEY_FILE)",
    ),
]


@contextmanager
def open_journal(db: str | None, signing_key: Path | None) -> Iterator[JournalStore]:
    """The journal named by --db (or CORPACT_DB), signing with --signing-key when given."""
    signer = Signer.from_file(signing_key) if signing_key is not None else None
    with JournalStore.open(db, signer=signer) as store:
        yield store


def examples_root() -> Path:
    """Folder of the example files shipped inside the package."""
    return Path(str(resources.files("corpact") / "examples"))


@dataclass(frozen=True, slots=True)
class DemoStep:
    """One command of `corpact demo`: a title and the argv after `corpact`."""

    title: str
    argv: list[str]


def write_out(text: str) -> None:
    sys.stdout.write(text)
    if not text.endswith("\n"):
        sys.stdout.write("\n")
