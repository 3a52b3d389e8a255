"""`corpact meeting`: Stockholder meetings: validate, tabulate, certify results."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction
from pathlib import Path
from typing import Annotated, Any

import typer

from corpact.cli.common import (
    DbOption,
    DemoStep,
    OutputFormat,
    SigningKeyOption,
    examples_root,
    new_app,
    open_journal,
    write_out,
)
from corpact.errors import InputError
from corpact.journal.events import Receipt
from corpact.meeting import load_meeting, load_register, load_votes, tabulate
from corpact.meeting.journaling import MeetingDesk
from corpact.meeting.jsonout import dumps
from corpact.meeting.meeting_file import meeting_json_schema
from corpact.meeting.register import parse_shares
from corpact.meeting.render import csv_text, item_507_text, press_text, report_text, table_text
from corpact.meeting.result import MeetingResult
from corpact.meeting.schemas import register_json_schema, votes_json_schema
from corpact.meeting.standards import JSON_PERCENT_PLACES, compare, percent_string, percent_text
from corpact.meeting.standards import TestResult as StandardTest
from corpact.timeutil import parse_instant, zone

app = new_app("Stockholder meetings: validate, tabulate, certify results.")

EXAMPLE = "level3-2007-meeting"


class Section(StrEnum):
    summary = "summary"
    report = "report"
    item_507 = "8k"
    press = "press"


class OutcomeStandard(StrEnum):
    plurality = "plurality"
    votes_cast = "votes_cast"
    present_and_entitled = "present_and_entitled"
    outstanding = "outstanding"


def _load(meeting_file: Path, register_file: Path, votes_file: Path) -> MeetingResult:
    meeting = load_meeting(meeting_file)
    register = load_register(register_file)
    votes = load_votes(votes_file, meeting.time_zone)
    return tabulate(meeting, register, votes)


def _summary(result: MeetingResult, output_format: OutputFormat) -> str:
    if output_format is OutputFormat.json:
        return dumps(result.to_json_dict())
    if output_format is OutputFormat.csv:
        return csv_text(result)
    return table_text(result)


def _render(result: MeetingResult, section: Section, output_format: OutputFormat) -> str:
    if section is Section.report:
        if output_format is OutputFormat.json:
            return dumps(result.to_json_dict()["report"])
        return report_text(result)
    if section is Section.item_507:
        return item_507_text(result)
    if section is Section.press:
        return press_text(result)
    return _summary(result, output_format)


@app.command("tabulate")
def tabulate_command(
    meeting_file: Path = typer.Argument(..., metavar="MEETING", help="meeting file (YAML)"),
    register_file: Path = typer.Argument(..., metavar="REGISTER", help="record-date register CSV"),
    votes_file: Path = typer.Argument(..., metavar="VOTES", help="vote instructions CSV"),
    output_format: OutputFormat = typer.Option(OutputFormat.table, "--format", "-f"),
    section: Section = typer.Option(
        Section.summary, "--section", help="summary (per --format), report, 8k or press"
    ),
    output: Path | None = typer.Option(None, "--output", "-o", help="write here, not stdout"),
    report_file: Path | None = typer.Option(None, "--report", help="also write the report"),
    item_507_file: Path | None = typer.Option(None, "--8k", help="also write the 8-K text"),
    press_file: Path | None = typer.Option(None, "--press", help="also write the press text"),
) -> None:
    """Tabulate a meeting: quorum, every proposal under its standard, the inspector's findings."""
    result = _load(meeting_file, register_file, votes_file)
    _emit(result, section, output_format, output, (report_file, item_507_file, press_file))


def _emit(
    result: MeetingResult,
    section: Section,
    output_format: OutputFormat,
    output: Path | None,
    extras: tuple[Path | None, Path | None, Path | None] = (None, None, None),
) -> None:
    text = _render(result, section, output_format)
    report_file, item_507_file, press_file = extras
    for path, extra in (
        (report_file, report_text),
        (item_507_file, item_507_text),
        (press_file, press_text),
    ):
        if path is not None:
            path.write_text(extra(result), encoding="utf-8")
    if output is not None:
        output.write_text(text, encoding="utf-8")
        typer.echo(f"wrote {output}")
        return
    write_out(text)


@app.command("validate")
def validate_command(
    meeting_file: Path = typer.Argument(..., metavar="MEETING"),
    register_file: Path | None = typer.Argument(None, metavar="[REGISTER]"),
    votes_file: Path | None = typer.Argument(None, metavar="[VOTES]"),
) -> None:
    """Check the meeting file (and a register and votes file) without tabulating."""
    meeting = load_meeting(meeting_file)
    typer.echo(
        f"{meeting_file.name}: {meeting.issuer} {meeting.kind} meeting {meeting.meeting_date}, "
        f"record date {meeting.record_date}, {len(meeting.classes)} class(es), "
        f"{len(meeting.proposals)} proposal(s)"
    )
    for proposal in meeting.proposals:
        kind = "routine" if proposal.routine else "non-routine"
        typer.echo(
            f"  {proposal.number}. {proposal.proposal_id} ({proposal.kind.value}, {kind}): "
            f"{proposal.standard.describe()}"
        )
    for warning in meeting.warnings:
        typer.echo(f"  warning: {warning}")
    if register_file is not None:
        register = load_register(register_file)
        unknown = sorted(register.class_ids - {c.class_id for c in meeting.classes})
        if unknown:
            raise InputError.single(
                "register-class",
                f"class(es) not in the meeting file: {', '.join(unknown)}",
                source=register_file.name,
            )
        typer.echo(
            f"{register_file.name}: {register.table.num_rows} positions, sha256 "
            f"{register.content_hash}"
        )
    if votes_file is not None:
        votes = load_votes(votes_file, meeting.time_zone)
        errors = zip(
            votes.table.column("header_error").to_pylist(),
            votes.table.column("line_error").to_pylist(),
            strict=True,
        )
        unparsed = sum(1 for header, line in errors if header or line)
        typer.echo(
            f"{votes_file.name}: {len(votes)} lines; {unparsed} unparseable line(s) will be "
            "reported as rejected"
        )
    typer.echo("valid")


def _quantity(text: str | None, name: str) -> Decimal:
    if text is None:
        return Decimal(0)
    value = parse_shares(text)
    if value is None or value < 0:
        raise InputError.single(
            "outcome-number", f"{text!r} is not a non-negative decimal", field=name
        )
    return value


def _threshold(text: str | None, standard: OutcomeStandard) -> Fraction:
    if text is None:
        return Fraction(0) if standard is OutcomeStandard.plurality else Fraction(1, 2)
    try:
        value = Fraction(text.strip())
    except (ValueError, ZeroDivisionError):
        raise InputError.single(
            "outcome-threshold", f"{text!r} is not a fraction like 1/2 or 0.8", field="threshold"
        ) from None
    if not 0 <= value <= 1:
        raise InputError.single("outcome-threshold", "must be within [0, 1]", field="threshold")
    return value


def outcome_dict(
    standard: OutcomeStandard,
    threshold: Fraction,
    strict: bool,
    counts: dict[str, Decimal],
    outstanding: Decimal | None,
) -> dict[str, Any]:
    """The outcome of one item under one standard, with the arithmetic (pure)."""
    f, a, ab = counts["for"], counts["against"], counts["abstain"]
    if standard is OutcomeStandard.outstanding:
        if outstanding is None:
            raise InputError.single(
                "outcome-outstanding", "--outstanding is required", field="outstanding"
            )
        if outstanding < f + a + ab + counts["broker_non_votes"]:
            raise InputError.single(
                "outcome-outstanding", "fewer shares outstanding than present", field="outstanding"
            )
        denominator = outstanding
    elif standard is OutcomeStandard.present_and_entitled:
        denominator = f + a + ab
    else:
        denominator = f + a
    test = StandardTest(
        label=standard.value,
        description=f"for {'>' if strict else '>='} {threshold} of {standard.value}",
        numerator=f,
        denominator=denominator,
        threshold=threshold,
        strict=strict,
        passed=compare(f, denominator, threshold, strict),
    )
    return {
        "standard": standard.value,
        "passed": test.passed,
        "numerator": f,
        "denominator": denominator,
        "threshold": str(threshold),
        "strict": strict,
        "percent_for": percent_text(test.percent, JSON_PERCENT_PLACES),
        "percent_for_4dp": percent_string(test.percent),
        "required": test.to_json_dict()["required"],
        "votes_needed": test.votes_needed,
        "margin": test.to_json_dict()["margin"],
        "inputs": {**counts, "outstanding": outstanding},
    }


@app.command("outcome")
def outcome_command(
    standard: OutcomeStandard = typer.Option(..., "--standard"),
    threshold_text: str | None = typer.Option(
        None, "--threshold", help="fraction, e.g. 1/2 or 4/5 (default 1/2; plurality 0)"
    ),
    strict: bool = typer.Option(
        True, "--strict/--no-strict", help="must exceed (majority) / must reach (at least)"
    ),
    votes_for: str = typer.Option(..., "--for"),
    votes_against: str = typer.Option(..., "--against"),
    votes_abstain: str | None = typer.Option(None, "--abstain"),
    broker_non_votes: str | None = typer.Option(None, "--broker-non-votes"),
    outstanding_text: str | None = typer.Option(None, "--outstanding"),
    output_format: OutputFormat = typer.Option(OutputFormat.json, "--format", "-f"),
) -> None:
    """Outcome of one item under a standard, exactly (no floats), with the arithmetic."""
    counts = {
        "for": _quantity(votes_for, "for"),
        "against": _quantity(votes_against, "against"),
        "abstain": _quantity(votes_abstain, "abstain"),
        "broker_non_votes": _quantity(broker_non_votes, "broker_non_votes"),
    }
    outstanding = (
        _quantity(outstanding_text, "outstanding") if outstanding_text is not None else None
    )
    result = outcome_dict(
        standard, _threshold(threshold_text, standard), strict, counts, outstanding
    )
    if output_format is OutputFormat.json:
        write_out(dumps(result, indent=0))
        return
    for key, value in result.items():
        if key != "inputs":
            typer.echo(f"{key:>16}: {value}")


@app.command("schema")
def schema_command(
    which: str = typer.Argument("meeting", help="meeting, register or votes"),
) -> None:
    """Print the JSON Schema of an input file."""
    schemas = {
        "meeting": meeting_json_schema,
        "register": register_json_schema,
        "votes": votes_json_schema,
    }
    if which not in schemas:
        raise typer.BadParameter(f"unknown schema {which!r}", param_hint="WHICH")
    write_out(dumps(schemas[which]()))


# -- the meeting on the journal -----------------------------------------------------------------

Db = DbOption
Key = SigningKeyOption
MeetingId = Annotated[str, typer.Argument(help="meeting id, as in the meeting file")]
RegisterOption = Annotated[
    Path,
    typer.Option(
        "--register", help="the record-date register the meeting was opened on (CSV; checked)"
    ),
]


@contextmanager
def _desk(db: str | None, signing_key: Path | None) -> Iterator[MeetingDesk]:
    with open_journal(db, signing_key) as store:
        yield MeetingDesk(store)


def _recorded(desk: MeetingDesk, receipt: Receipt, what: str) -> None:
    status = "recorded" if receipt.status == "created" else "already recorded (same payload)"
    typer.echo(
        f"{what}: {status} as journal entry #{receipt.index} (key {receipt.idempotency_key})"
    )
    _checkpoint(desk)


def _checkpoint(desk: MeetingDesk) -> None:
    if desk.store.signer is not None:
        note = desk.store.sign_checkpoint()
        typer.echo(f"checkpoint signed at tree size {note.splitlines()[1]}")


def _instant(desk: MeetingDesk, meeting_id: str, text: str, field: str) -> datetime:
    meeting = desk.state(meeting_id).tabulation_meeting()
    return parse_instant(text, zone(meeting.time_zone), field=field)


@app.command("open")
def open_command(
    meeting_file: Path = typer.Argument(..., metavar="MEETING", help="meeting file (YAML)"),
    register_file: Path = typer.Argument(..., metavar="REGISTER", help="record-date register CSV"),
    at: str | None = typer.Option(
        None, "--at", help="ISO time (meeting's zone if no offset); default: end of record date"
    ),
    db: Db = None,
    signing_key: Key = None,
) -> None:
    """Open a meeting on the journal: its file and the register snapshot's SHA-256."""
    with _desk(db, signing_key) as desk:
        meeting = load_meeting(meeting_file)
        moment = None if at is None else parse_instant(at, zone(meeting.time_zone), field="--at")
        receipt, meeting, register = desk.open(meeting_file, register_file, moment)
        typer.echo(
            f"meeting {meeting.meeting_id} ({meeting.issuer}, {meeting.meeting_date}) on the "
            f"register snapshot {register.content_hash[:16]}... ({register.table.num_rows} rows)"
        )
        _recorded(desk, receipt, "opened")


@app.command("record")
def record_command(
    meeting_id: MeetingId,
    votes_file: Path = typer.Argument(..., metavar="VOTES", help="vote instructions CSV"),
    received_at: str | None = typer.Option(
        None,
        "--received-at",
        help="when the file was received: the time recorded for instructions whose own time "
        "cannot be read (default: the latest time in the file)",
    ),
    db: Db = None,
    signing_key: Key = None,
) -> None:
    """Record every instruction of a votes file, readable or not (chunked; re-runs are safe)."""
    with _desk(db, signing_key) as desk:
        moment = None
        if received_at is not None:
            moment = _instant(desk, meeting_id, received_at, "--received-at")
        summary = desk.record_file(meeting_id, votes_file, moment)
        typer.echo(
            f"{votes_file.name}: {summary.created} instruction(s) recorded, "
            f"{summary.already_recorded} already in the journal"
            + (
                f"; {summary.unreadable} unreadable instruction(s) recorded as received, "
                "for the inspector's report"
                if summary.unreadable
                else ""
            )
        )
        if summary.created:
            _checkpoint(desk)


@app.command("close-polls")
def close_polls_command(
    meeting_id: MeetingId,
    at: str = typer.Option(..., "--at", help="ISO time the chair closed the polls"),
    db: Db = None,
    signing_key: Key = None,
) -> None:
    """Record the closing of the polls; later instructions are reported, never counted."""
    with _desk(db, signing_key) as desk:
        moment = _instant(desk, meeting_id, at, "--at")
        receipt = desk.close_polls(meeting_id, moment)
        _recorded(desk, receipt, f"polls closed at {moment.isoformat()}")


@app.command("tabulate-journal")
def tabulate_journal_command(
    meeting_id: MeetingId,
    register_file: RegisterOption,
    output_format: OutputFormat = typer.Option(OutputFormat.table, "--format", "-f"),
    section: Section = typer.Option(
        Section.summary, "--section", help="summary (per --format), report, 8k or press"
    ),
    output: Path | None = typer.Option(None, "--output", "-o", help="write here, not stdout"),
    db: Db = None,
) -> None:
    """Tabulate a meeting from the journal (preliminary until the polls close)."""
    with _desk(db, None) as desk:
        result = desk.tabulate(meeting_id, register_file)
    _emit(result, section, output_format, output)


@app.command("certify")
def certify_command(
    meeting_id: MeetingId,
    register_file: RegisterOption,
    at: str = typer.Option(..., "--at", help="ISO time of the inspector's certification"),
    db: Db = None,
    signing_key: Key = None,
) -> None:
    """Certify the journal tabulation: its digest and every outcome; the stream is then final."""
    with _desk(db, signing_key) as desk:
        moment = _instant(desk, meeting_id, at, "--at")
        receipt, result = desk.certify(meeting_id, register_file, moment)
        certified = desk.state(meeting_id).certified or {}
        typer.echo(
            f"result SHA-256 {certified.get('result_sha256')} (of `corpact meeting "
            f"tabulate-journal {meeting_id} --register ... --format json`)"
        )
        _recorded(desk, receipt, "results certified")
    _emit(result, Section.summary, OutputFormat.table, None)


JOURNAL_DB = "sqlite:///level3-2007.db"


def demo_steps() -> list[DemoStep]:
    folder = examples_root() / EXAMPLE
    files = [str(folder / "meeting.yaml"), str(folder / "register.csv"), str(folder / "votes.csv")]
    db = ["--db", JOURNAL_DB]
    meeting_id = "level3-2007-annual"
    register = ["--register", str(folder / "register.csv")]
    return [
        DemoStep(
            "Level 3 2007 annual meeting (synthetic register and votes): tabulation",
            ["meeting", "tabulate", *files, "--format", "table"],
        ),
        DemoStep(
            "Level 3 2007: Form 8-K Item 5.07-style text",
            ["meeting", "tabulate", *files, "--section", "8k"],
        ),
        DemoStep(
            "Level 3 2007: the result as JSON, which the split example reads its authority from",
            [
                "meeting",
                "tabulate",
                *files,
                "--format",
                "json",
                "--output",
                str(folder / "result.json"),
            ],
        ),
        DemoStep(
            "Outcome calculator: UBX 2022 reverse split, majority of outstanding",
            [
                "meeting",
                "outcome",
                "--standard",
                "outstanding",
                "--for",
                "91661622",
                "--against",
                "3314490",
                "--abstain",
                "319183",
                "--outstanding",
                "140226122",
                "--format",
                "json",
            ],
        ),
        DemoStep(
            "The same meeting on a journal: open it on its file and register snapshot",
            ["meeting", "open", files[0], files[1], *db],
        ),
        DemoStep(
            "Record every instruction received (re-running the file changes nothing)",
            ["meeting", "record", meeting_id, files[2], *db],
        ),
        DemoStep("", ["meeting", "record", meeting_id, files[2], *db]),
        DemoStep(
            "The chair closes the polls",
            ["meeting", "close-polls", meeting_id, "--at", "2007-05-24T10:30", *db],
        ),
        DemoStep(
            "The inspector certifies the tabulation of the journal (same counts as the file)",
            ["meeting", "certify", meeting_id, *register, "--at", "2007-05-24T12:00", *db],
        ),
    ]
