"""Errors shared by every domain.

User-facing problems are `CorpactError`s and carry where they came from (file, line, field) and
the rule that was broken. `InvariantViolation` is different: it means corpact itself is wrong,
and nothing should catch it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Problem:
    """One broken rule in one place of the input."""

    rule: str
    message: str
    source: str | None = None
    line: int | None = None
    field: str | None = None

    def where(self) -> str:
        parts: list[str] = []
        if self.source:
            parts.append(self.source)
        if self.line is not None:
            parts.append(f"line {self.line}")
        if self.field:
            parts.append(f"field '{self.field}'")
        return ", ".join(parts)

    def __str__(self) -> str:
        where = self.where()
        prefix = f"{where}: " if where else ""
        return f"{prefix}{self.message} [rule: {self.rule}]"


class CorpactError(Exception):
    """A problem the user can fix; the CLI prints it and exits non-zero."""


class InputError(CorpactError):
    """Bad input: one or more problems, all reported together; nothing was computed or written."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems: tuple[Problem, ...] = tuple(problems)
        check(len(self.problems) > 0, "InputError needs at least one problem")
        super().__init__("\n".join(str(p) for p in self.problems))

    @classmethod
    def single(
        cls,
        rule: str,
        message: str,
        *,
        source: str | None = None,
        line: int | None = None,
        field: str | None = None,
    ) -> InputError:
        return cls([Problem(rule=rule, message=message, source=source, line=line, field=field)])


class ConflictError(CorpactError):
    """An idempotency key was reused with a different payload."""


class LifecycleError(CorpactError):
    """An event that the current state of the corporate action does not allow."""


class InvariantViolation(Exception):
    """corpact broke one of its own invariants; a bug, never a user error."""


def check(condition: bool, message: str) -> None:
    """Like `assert`, but survives `python -O` and raises `InvariantViolation`."""
    if not condition:
        raise InvariantViolation(message)
