"""The record-holder register: one row per (holder, class), read from and written to CSV."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from corpact.errors import InputError, Problem, check
from corpact.inputfiles import read_text
from corpact.split.model import (
    CUSIP_PATTERN,
    REGISTER_COLUMNS,
    REGISTER_OPTIONAL_COLUMNS,
    HoldingForm,
)

_CUSIP_CHARS = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ*@#")
_SURRENDER_STATUSES = frozenset({"unexchanged", "exchanged"})
MAX_PROBLEMS_REPORTED = 50
# The meeting register names two columns differently; its `registered` holders are book-entry.
MEETING_REGISTER_ALIASES = {"class": "class_id", "type": "holding_form"}
MEETING_HOLDER_TYPES = {"registered": "drs"}


@dataclass(frozen=True, slots=True)
class RegisterEntry:
    holder_id: str
    name: str
    class_id: str
    shares: int
    holding_form: HoldingForm
    cusip: str | None = None
    surrender_status: str | None = None
    line: int | None = None


@dataclass(frozen=True, slots=True)
class Register:
    """A register snapshot; `source` names the file in error messages."""

    source: str
    entries: tuple[RegisterEntry, ...]

    def shares_by_class(self) -> dict[str, int]:
        totals: dict[str, int] = {}
        for entry in self.entries:
            totals[entry.class_id] = totals.get(entry.class_id, 0) + entry.shares
        return totals


def register_problems(register: Register) -> list[Problem]:
    """Duplicate (holder, class) rows and negative positions, each located by line."""
    problems: list[Problem] = []
    first_line: dict[tuple[str, str], int | None] = {}
    for entry in register.entries:
        key = (entry.holder_id, entry.class_id)
        if key in first_line:
            problems.append(
                Problem(
                    "register-duplicate-holder",
                    f"holder {entry.holder_id!r} appears twice in class {entry.class_id!r} "
                    f"(first at line {first_line[key]}); merge the positions",
                    source=register.source,
                    line=entry.line,
                    field="holder_id",
                )
            )
        else:
            first_line[key] = entry.line
        if entry.shares < 0:
            problems.append(
                Problem(
                    "register-negative-position",
                    f"holder {entry.holder_id!r} has {entry.shares} shares; positions must be >= 0",
                    source=register.source,
                    line=entry.line,
                    field="shares",
                )
            )
    return problems


def load_register(path: Path | str) -> Register:
    """Read a register CSV (header: holder_id,name,class_id,shares,holding_form[,cusip])."""
    return parse_register(read_text(path, str(path)), source=str(path))


def parse_register(text: str, *, source: str) -> Register:
    """Parse register CSV text; `#` lines are comments. A meeting record-date register
    (holder_id,name,class,shares,type) is read too: type registered -> drs, nominee -> nominee.
    """
    # Comment lines become blank lines so that line numbers stay physical.
    lines = ["\n" if ln.startswith("#") else ln for ln in text.splitlines(keepends=True)]
    numbered = enumerate(csv.reader(lines), start=1)
    header_line, header = next(
        ((n, r) for n, r in numbered if any(c.strip() for c in r)), (1, None)
    )
    if header is None:
        raise InputError.single(
            "register-empty", "the register has no header row", source=source, line=1
        )
    columns = [MEETING_REGISTER_ALIASES.get(h.strip(), h.strip()) for h in header]
    _check_header(columns, source, header_line)
    entries: list[RegisterEntry] = []
    problems: list[Problem] = []
    for line_number, row in numbered:
        if not row or all(not cell.strip() for cell in row):
            continue
        entry = _parse_row(columns, row, line_number, source, problems)
        if entry is not None:
            entries.append(entry)
        if len(problems) >= MAX_PROBLEMS_REPORTED:
            break
    register = Register(source=source, entries=tuple(entries))
    problems.extend(register_problems(register))
    if problems:
        problems.sort(key=lambda p: p.line or 0)
        raise InputError(problems[:MAX_PROBLEMS_REPORTED])
    return register


def _check_header(columns: list[str], source: str, line: int) -> None:
    allowed = set(REGISTER_COLUMNS) | set(REGISTER_OPTIONAL_COLUMNS)
    missing = [c for c in REGISTER_COLUMNS if c not in columns]
    unknown = [c for c in columns if c not in allowed]
    repeated = sorted({c for c in columns if columns.count(c) > 1})
    problems = [
        Problem("register-header", f"missing column {c!r}", source=source, line=line, field=c)
        for c in missing
    ]
    problems += [
        Problem(
            "register-header",
            f"unknown column {c!r}; allowed: {sorted(allowed)}",
            source=source,
            line=line,
            field=c,
        )
        for c in unknown
    ]
    problems += [
        Problem("register-header", f"column {c!r} appears twice", source=source, line=line, field=c)
        for c in repeated
    ]
    if problems:
        raise InputError(problems)


def _parse_row(
    columns: Sequence[str], row: Sequence[str], line: int, source: str, problems: list[Problem]
) -> RegisterEntry | None:
    def bad(field: str, rule: str, message: str) -> None:
        problems.append(Problem(rule, message, source=source, line=line, field=field))

    if len(row) != len(columns):
        bad("*", "register-row-width", f"{len(row)} cells for {len(columns)} columns")
        return None
    cells = {c: v.strip() for c, v in zip(columns, row, strict=True)}
    before = len(problems)
    for column in ("holder_id", "name", "class_id"):
        if not cells[column]:
            bad(column, "register-required", f"{column} is empty")
    shares_text = cells["shares"]
    shares = 0
    if shares_text.lstrip("-").isdigit():
        shares = int(shares_text)  # a negative position is reported by register_problems
    else:
        bad("shares", "register-whole-shares", f"{shares_text!r} is not a whole number of shares")
    form = MEETING_HOLDER_TYPES.get(cells["holding_form"], cells["holding_form"])
    if form not in HoldingForm.__members__:
        bad(
            "holding_form",
            "register-holding-form",
            f"{form!r} is not one of {', '.join(HoldingForm.__members__)}",
        )
    cusip = cells.get("cusip") or None
    if cusip is not None and (len(cusip) != 9 or not set(cusip) <= _CUSIP_CHARS):
        bad("cusip", "register-cusip", f"{cusip!r} does not match {CUSIP_PATTERN}")
    status = cells.get("surrender_status") or None
    if status is not None and status not in _SURRENDER_STATUSES:
        bad(
            "surrender_status",
            "register-surrender-status",
            f"{status!r} is not one of {sorted(_SURRENDER_STATUSES)}",
        )
    if len(problems) > before:
        return None
    return RegisterEntry(
        cells["holder_id"],
        cells["name"],
        cells["class_id"],
        shares,
        HoldingForm(form),
        cusip,
        status,
        line,
    )


def register_csv(entries: Iterable[RegisterEntry]) -> str:
    """The register as CSV text in the same format `load_register` reads."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([*REGISTER_COLUMNS, *REGISTER_OPTIONAL_COLUMNS])
    for e in entries:
        check(e.shares >= 0, "negative position written")
        writer.writerow(
            [
                e.holder_id,
                e.name,
                e.class_id,
                e.shares,
                e.holding_form.value,
                e.cusip or "",
                e.surrender_status or "",
            ]
        )
    return out.getvalue()
