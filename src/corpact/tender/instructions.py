"""Tender and withdrawal instructions: the CSV format, parsing, and the rules each must meet.

The same `InstructionLedger` validates instructions read from a CSV file and instructions
arriving one at a time on the journal, so both paths refuse exactly the same things.
"""

from __future__ import annotations

import csv
import io
from bisect import bisect_right
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from operator import itemgetter
from pathlib import Path

from corpact.errors import InputError, Problem
from corpact.inputfiles import read_text
from corpact.journal.events import json_string
from corpact.money.rounding import INPUT_DIGITS, input_number_problem
from corpact.tender.amendments import Amendment, terms_as_of
from corpact.tender.terms import OfferTerms, Series
from corpact.timeutil import parse_instant

CSV_COLUMNS = (
    "instruction_id",
    "received_at",
    "action",
    "series",
    "principal",
    "currency",
    "participant",
    "account",
    "reference",
    "guaranteed_delivery",
    "withdraws",
)
REQUIRED_COLUMNS = ("instruction_id", "received_at", "action")
# An instruction's id becomes part of its journal idempotency key ("<offer>:instruction:<id>"),
# which the journal caps at 512 characters; with offer ids of at most 64 this always fits.
MAX_INSTRUCTION_ID_CHARS = 256
TRUE_WORDS = {"true", "yes", "y", "1"}
FALSE_WORDS = {"false", "no", "n", "0", ""}
FLAG_WORDS = frozenset(TRUE_WORDS | FALSE_WORDS)


@dataclass(frozen=True, slots=True)
class Tender:
    instruction_id: str
    received_at: datetime
    series_id: str
    principal: Decimal
    participant: str = ""
    account: str = ""
    reference: str = ""
    guaranteed_delivery: bool = False
    line: int | None = field(default=None, compare=False)

    def payload(self) -> dict[str, str | bool]:
        return {
            "action": "tender",
            "instruction_id": self.instruction_id,
            "received_at": self.received_at.isoformat(),
            "series": self.series_id,
            "principal": str(self.principal),
            "participant": self.participant,
            "account": self.account,
            "reference": self.reference,
            "guaranteed_delivery": self.guaranteed_delivery,
        }

    def canonical_payload(self) -> str | None:
        """`canonical_json(self.payload())`, or None when a field is not of its declared type
        (the general encoder then decides what to do with it)."""
        return self.payload_and_text()[1]

    def payload_and_text(self) -> tuple[dict[str, str | bool], str | None]:
        """`payload()` and its canonical JSON, written directly: a bulk import encodes a
        million of these, and the general encoder sorts and checks every key each time."""
        received, principal = self.received_at.isoformat(), str(self.principal)
        key, series, participant = self.instruction_id, self.series_id, self.participant
        account, reference, flag = self.account, self.reference, self.guaranteed_delivery
        payload: dict[str, str | bool] = {
            "action": "tender",
            "instruction_id": key,
            "received_at": received,
            "series": series,
            "principal": principal,
            "participant": participant,
            "account": account,
            "reference": reference,
            "guaranteed_delivery": flag,
        }
        if not (
            type(key) is str
            and type(series) is str
            and type(participant) is str
            and type(account) is str
            and type(reference) is str
            and (flag is True or flag is False)
        ):
            return payload, None
        q = json_string
        return payload, (
            f'{{"account":{q(account)},"action":"tender",'
            f'"guaranteed_delivery":{"true" if flag else "false"},'
            f'"instruction_id":{q(key)},"participant":{q(participant)},'
            f'"principal":{q(principal)},"received_at":{q(received)},'
            f'"reference":{q(reference)},"series":{q(series)}}}'
        )


@dataclass(frozen=True, slots=True)
class Withdrawal:
    instruction_id: str
    received_at: datetime
    target_id: str
    participant: str = ""
    reference: str = ""
    line: int | None = field(default=None, compare=False)

    def payload(self) -> dict[str, str | bool]:
        return {
            "action": "withdraw",
            "instruction_id": self.instruction_id,
            "received_at": self.received_at.isoformat(),
            "withdraws": self.target_id,
            "participant": self.participant,
            "reference": self.reference,
        }


Instruction = Tender | Withdrawal


def _same_instant_payload(a: Instruction, b: Instruction) -> bool:
    # Equal instants written in different zones are the same instruction.
    return (
        type(a) is type(b)
        and a.payload() | {"received_at": ""} == b.payload() | {"received_at": ""}
        and a.received_at == b.received_at
    )


@dataclass(slots=True)
class InstructionLedger:
    """Accepts instructions in order of receipt and keeps only valid ones.

    `offer(instruction)` returns the problems that refuse it (and then changes nothing), or an
    empty list. A resubmission with the same id and the same payload is a no-op.
    """

    base_terms: OfferTerms
    amendments: tuple[Amendment, ...] = ()
    source: str | None = None
    tenders: dict[str, Tender] = field(default_factory=dict)
    withdrawals: dict[str, Withdrawal] = field(default_factory=dict)
    withdrawn_by: dict[str, str] = field(default_factory=dict)
    duplicates: list[str] = field(default_factory=list)
    principal_by_series: dict[str, Decimal] = field(default_factory=dict)
    # Terms versions by effective time, rebuilt when the amendments change: validating a
    # million instructions must not re-apply every amendment a million times.
    _versions: (
        tuple[tuple[Amendment, ...], list[datetime], list[tuple[OfferTerms, dict[str, Series]]]]
        | None
    ) = field(default=None, repr=False, compare=False)

    def terms_at(self, moment: datetime) -> tuple[OfferTerms, dict[str, Series]]:
        """The terms in force at `moment` and their series by id."""
        starts, table = self.terms_versions()
        return table[bisect_right(starts, moment)]

    def terms_versions(
        self,
    ) -> tuple[list[datetime], list[tuple[OfferTerms, dict[str, Series]]]]:
        """Every version of the terms with its series by id, and when each version after the
        first takes effect: version `i` is in force from `starts[i - 1]` until `starts[i]`."""
        versions = self._versions
        if versions is None or versions[0] is not self.amendments:
            ordered = sorted(self.amendments, key=lambda a: a.effective_at)  # as terms_as_of
            starts = [a.effective_at for a in ordered]
            table = [(self.base_terms, self.base_terms.series_by_id())]
            for i in range(len(ordered)):
                terms = terms_as_of(self.base_terms, ordered[: i + 1], ordered[i].effective_at)
                table.append((terms, terms.series_by_id()))
            versions = (self.amendments, starts, table)
            self._versions = versions
        return versions[1], versions[2]

    def copy(self) -> InstructionLedger:
        """An independent ledger with the same contents (records are immutable)."""
        return InstructionLedger(
            self.base_terms,
            self.amendments,
            self.source,
            dict(self.tenders),
            dict(self.withdrawals),
            dict(self.withdrawn_by),
            list(self.duplicates),
            dict(self.principal_by_series),
        )

    def is_resubmission(self, instruction: Instruction) -> bool:
        """Already received with the same payload (a retry, not a new instruction)."""
        existing = self.tenders.get(instruction.instruction_id) or self.withdrawals.get(
            instruction.instruction_id
        )
        return existing is not None and _same_instant_payload(existing, instruction)

    def offer(self, instruction: Instruction) -> list[Problem]:
        existing = self.tenders.get(instruction.instruction_id) or self.withdrawals.get(
            instruction.instruction_id
        )
        if existing is not None:
            if _same_instant_payload(existing, instruction):
                self.duplicates.append(instruction.instruction_id)
                return []
            return [
                self._problem(
                    instruction,
                    "instruction-id-unique",
                    f"instruction id {instruction.instruction_id!r} was already received with a "
                    "different payload",
                    "instruction_id",
                )
            ]
        if isinstance(instruction, Tender):
            problems = self._tender_problems(instruction)
            if not problems:
                self.tenders[instruction.instruction_id] = instruction
                total = self.principal_by_series.get(instruction.series_id, Decimal(0))
                self.principal_by_series[instruction.series_id] = total + instruction.principal
            return problems
        problems = self._withdrawal_problems(instruction)
        if not problems:
            self.withdrawals[instruction.instruction_id] = instruction
            self.withdrawn_by[instruction.target_id] = instruction.instruction_id
            target = self.tenders[instruction.target_id]
            self.principal_by_series[target.series_id] -= target.principal
        return problems

    def _problem(self, instruction: Instruction, rule: str, message: str, field: str) -> Problem:
        return Problem(
            rule=rule, message=message, source=self.source, line=instruction.line, field=field
        )

    def _tender_problems(self, t: Tender) -> list[Problem]:
        terms, series_by_id = self.terms_at(t.received_at)
        series = series_by_id.get(t.series_id)
        if series is None:
            known = ", ".join(s.series_id for s in terms.series)
            return [
                self._problem(
                    t, "series-known", f"unknown series {t.series_id!r} (known: {known})", "series"
                )
            ]
        problems = []
        if t.received_at < terms.deadlines.launch_at:
            problems.append(
                self._problem(
                    t,
                    "tender-after-launch",
                    f"received {t.received_at.isoformat()}, before the offer launched "
                    f"at {terms.deadlines.launch_at.isoformat()}",
                    "received_at",
                )
            )
        if t.received_at >= terms.deadlines.expiration_at:
            problems.append(
                self._problem(
                    t,
                    "tender-before-expiration",
                    f"received {t.received_at.isoformat()}, at or after expiration "
                    f"{terms.deadlines.expiration_at.isoformat()}",
                    "received_at",
                )
            )
        if t.principal <= 0:
            problems.append(
                self._problem(
                    t,
                    "principal-positive",
                    f"principal must be positive, got {t.principal}",
                    "principal",
                )
            )
        elif t.principal < series.minimum_denomination:
            problems.append(
                self._problem(
                    t,
                    "minimum-denomination",
                    f"{t.principal:,} is below the minimum denomination of "
                    f"{series.minimum_denomination:,}",
                    "principal",
                )
            )
        elif t.principal % series.increment != 0:
            problems.append(
                self._problem(
                    t,
                    "principal-increment",
                    f"{t.principal:,} is not a multiple of the {series.increment:,} increment",
                    "principal",
                )
            )
        else:
            total = self.principal_by_series.get(t.series_id, Decimal(0)) + t.principal
            if total > series.outstanding:
                problems.append(
                    self._problem(
                        t,
                        "within-outstanding",
                        f"tenders of {t.series_id} would total {total:,}, above the "
                        f"{series.outstanding:,} outstanding",
                        "principal",
                    )
                )
        return problems

    def _withdrawal_problems(self, w: Withdrawal) -> list[Problem]:
        target = self.tenders.get(w.target_id)
        if target is None:
            return [
                self._problem(
                    w,
                    "withdraw-known-tender",
                    f"no valid tender {w.target_id!r} to withdraw",
                    "withdraws",
                )
            ]
        if w.target_id in self.withdrawn_by:
            return [
                self._problem(
                    w,
                    "withdraw-once",
                    f"tender {w.target_id!r} was already withdrawn by "
                    f"{self.withdrawn_by[w.target_id]!r}",
                    "withdraws",
                )
            ]
        if w.received_at < target.received_at:
            return [
                self._problem(
                    w,
                    "withdraw-after-tender",
                    "a withdrawal cannot precede the tender it withdraws",
                    "received_at",
                )
            ]
        terms, _ = self.terms_at(w.received_at)
        deadline = terms.deadlines.withdrawal_deadline_for(target.received_at)
        if deadline is None or w.received_at >= deadline:
            when = "no withdrawal right" if deadline is None else f"deadline {deadline.isoformat()}"
            return [
                self._problem(
                    w,
                    "withdrawal-deadline",
                    f"tender {w.target_id!r} (received "
                    f"{target.received_at.isoformat()}) can no longer be withdrawn "
                    f"at {w.received_at.isoformat()} ({when})",
                    "received_at",
                )
            ]
        return []

    def active_tenders(self, as_of: datetime) -> list[Tender]:
        """Tenders received by `as_of` and not withdrawn by then, in canonical order."""
        withdrawn = {w.target_id for w in self.withdrawals.values() if w.received_at <= as_of}
        return sorted(
            (
                t
                for t in self.tenders.values()
                if t.received_at <= as_of and t.instruction_id not in withdrawn
            ),
            key=lambda t: (t.received_at, t.instruction_id),
        )

    def withdrawn_tenders(self, as_of: datetime) -> list[Tender]:
        ids = {w.target_id for w in self.withdrawals.values() if w.received_at <= as_of}
        return sorted(
            (self.tenders[i] for i in ids), key=lambda t: (t.received_at, t.instruction_id)
        )


def build_ledger(
    base_terms: OfferTerms,
    amendments: Sequence[Amendment],
    instructions: Iterable[Instruction],
    source: str | None = None,
    *,
    earlier_problems: Sequence[Problem] = (),
) -> InstructionLedger:
    """Validate every instruction (in order of receipt); raise `InputError` listing all problems.

    `earlier_problems` (rows that could not even be parsed) are reported with the rest, so a
    user sees every problem of a file in one run.
    """
    ledger = InstructionLedger(base_terms, tuple(amendments), source)
    problems: list[Problem] = list(earlier_problems)
    ordered = sorted(instructions, key=lambda i: (i.received_at, i.line or 0, i.instruction_id))
    for instruction in ordered:
        problems.extend(ledger.offer(instruction))
    if problems:
        raise InputError(sorted(problems, key=lambda p: (p.line or 0, p.rule)))
    return ledger


def principal_amount(text: str) -> Decimal | None:
    """The amount a principal cell states (commas and underscores as separators), or None when
    it states no input number (`input_number_problem`)."""
    try:
        amount = Decimal(text.strip().replace(",", "").replace("_", ""))
    except InvalidOperation:
        return None
    return amount if input_number_problem(amount) is None else None


def ledger_from_csv(
    base_terms: OfferTerms, amendments: Sequence[Amendment], path: Path
) -> InstructionLedger:
    """Read and validate an instructions file; every problem of every line is reported."""
    source = str(path)
    text = read_text(path, source)
    return ledger_from_csv_text(base_terms, amendments, text, source)


def ledger_from_csv_text(
    base_terms: OfferTerms, amendments: Sequence[Amendment], text: str, source: str
) -> InstructionLedger:
    instructions, problems = parse_instructions_csv_lenient(text, base_terms, source)
    return build_ledger(base_terms, amendments, instructions, source, earlier_problems=problems)


def read_instructions_csv(path: Path, terms: OfferTerms) -> list[Instruction]:
    source = str(path)
    text = read_text(path, source)
    return parse_instructions_csv(text, terms, source)


def parse_instructions_csv(text: str, terms: OfferTerms, source: str) -> list[Instruction]:
    instructions, problems = parse_instructions_csv_lenient(text, terms, source)
    if problems:
        raise InputError(problems)
    return instructions


def parse_instructions_csv_lenient(
    text: str, terms: OfferTerms, source: str
) -> tuple[list[Instruction], list[Problem]]:
    """Parse what can be parsed; return the rows' problems instead of raising (header: raises)."""
    reader = csv.reader(io.StringIO(text))
    header = next(reader, [])
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    unknown = [c for c in header if c not in CSV_COLUMNS]
    problems = [
        Problem("csv-columns", f"missing column {c!r}", source=source, line=1, field=c)
        for c in missing
    ] + [
        Problem(
            "csv-columns",
            f"unknown column {c!r} (expected: {', '.join(CSV_COLUMNS)})",
            source=source,
            line=1,
            field=c,
        )
        for c in unknown
    ]
    if problems:
        raise InputError(problems)
    plain = _PlainTenders(header, terms)
    instructions: list[Instruction] = []
    for row in reader:
        if not row:
            continue  # a blank line, as csv.DictReader skips it
        line = reader.line_num
        tender = plain.read(row, line)
        if tender is not None:
            instructions.append(tender)
            continue
        row_problems, instruction = parse_row(_as_record(header, row), terms, source, line)
        problems.extend(row_problems)
        if instruction is not None:
            instructions.append(instruction)
    return instructions, problems


def _as_record(header: list[str], row: list[str]) -> dict[str, str | None]:
    """The row as csv.DictReader gives it (missing trailing cells are None)."""
    record: dict[str, str | None] = dict(zip(header, row, strict=False))
    for name in header[len(row) :]:
        record[name] = None
    return record


class _PlainTenders:
    """Reads the common row, a tender with nothing wrong in it, without `parse_row`'s per-cell
    closures and problem lists (a bulk file has a million of them). Any other row returns None
    and goes through `parse_row`, which alone decides what is wrong with a row: both paths must
    build the same `Tender` from the same row (tests/tender/test_bad_input.py compares them)."""

    __slots__ = ("_cells", "_series", "_width", "_zone")

    def __init__(self, header: list[str], terms: OfferTerms) -> None:
        # The last of duplicate column names wins, as in csv.DictReader.
        position = {name: i for i, name in enumerate(header)}
        self._width = max(position.values(), default=-1) + 1
        # Absent columns read the "" that `read` appends to the row.
        self._cells = itemgetter(*(position.get(name, -1) for name in CSV_COLUMNS))
        self._series = terms.series_by_id()
        self._zone = terms.time_zone

    def read(self, row: list[str], line: int) -> Tender | None:
        if len(row) < self._width:
            return None
        row.append("")  # the row is ours; the extra cell is past the header, so never read
        cells: tuple[str, ...] = self._cells(row)
        instruction_id, received, action, series_id, amount, currency, *rest = map(str.strip, cells)
        participant, account, reference, flag, _withdraws = rest
        if not instruction_id or not series_id or action.lower() != "tender":
            return None
        if len(instruction_id) > MAX_INSTRUCTION_ID_CHARS:
            return None
        series = self._series.get(series_id)
        flag = flag.lower()
        if series is None or flag not in FLAG_WORDS:
            return None
        if currency and currency.upper() != series.currency:
            return None
        try:
            # parse_instant, then held in UTC (see parse_row).
            moment = datetime.fromisoformat(received.replace("Z", "+00:00"))
        except ValueError:
            return None
        principal = principal_amount(amount)
        if principal is None:
            return None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=self._zone)
        return Tender(
            instruction_id,
            moment.astimezone(UTC),
            series_id,
            principal,
            participant=participant,
            account=account,
            reference=reference,
            guaranteed_delivery=flag in TRUE_WORDS,
            line=line,
        )


def parse_row(
    row: Mapping[str, str | None], terms: OfferTerms, source: str | None, line: int | None
) -> tuple[list[Problem], Instruction | None]:
    def cell(name: str) -> str:
        return (row.get(name) or "").strip()

    def problem(rule: str, message: str, field: str) -> Problem:
        return Problem(rule=rule, message=message, source=source, line=line, field=field)

    problems: list[Problem] = []
    instruction_id = cell("instruction_id")
    if not instruction_id:
        problems.append(
            problem("instruction-id-present", "instruction_id is empty", "instruction_id")
        )
    elif len(instruction_id) > MAX_INSTRUCTION_ID_CHARS:
        problems.append(
            problem(
                "instruction-id-length",
                f"instruction_id has {len(instruction_id)} characters; at most "
                f"{MAX_INSTRUCTION_ID_CHARS} are allowed",
                "instruction_id",
            )
        )
    try:
        # Held in UTC: every comparison with a deadline is then a plain field comparison,
        # which matters a million instructions at a time. Outputs show the offer's zone.
        received_at = parse_instant(
            cell("received_at"), terms.time_zone, field="received_at", source=source, line=line
        ).astimezone(UTC)
    except InputError as err:
        problems.extend(err.problems)
        received_at = None
    action = cell("action").lower()
    if action not in {"tender", "withdraw"}:
        problems.append(
            problem(
                "action-known",
                f"action must be 'tender' or 'withdraw', got {cell('action')!r}",
                "action",
            )
        )
    if problems or received_at is None:
        return problems, None
    if action == "withdraw":
        target = cell("withdraws")
        if not target:
            return [
                problem(
                    "withdraw-target",
                    "a withdrawal names the instruction it withdraws in 'withdraws'",
                    "withdraws",
                )
            ], None
        return [], Withdrawal(
            instruction_id, received_at, target, cell("participant"), cell("reference"), line
        )
    return _parse_tender(cell, problem, terms, instruction_id, received_at, line)


def _parse_tender(
    get: Callable[[str], str],
    make: Callable[[str, str, str], Problem],
    terms: OfferTerms,
    instruction_id: str,
    received_at: datetime,
    line: int | None,
) -> tuple[list[Problem], Instruction | None]:
    problems: list[Problem] = []
    series_id = get("series")
    if not series_id:
        problems.append(make("series-present", "a tender names its series", "series"))
    principal = principal_amount(get("principal"))
    if principal is None:
        problems.append(
            make(
                "principal-numeric",
                f"principal {get('principal')!r} is not a number of at most {INPUT_DIGITS} "
                "digits before the point",
                "principal",
            )
        )
        principal = Decimal(0)
    series = terms.series_by_id().get(series_id)
    currency = get("currency").upper()
    if currency and series is not None and currency != series.currency:
        problems.append(
            make(
                "currency-match",
                f"currency {currency} does not match series {series_id} ({series.currency})",
                "currency",
            )
        )
    gd_text = get("guaranteed_delivery").lower()
    if gd_text not in TRUE_WORDS | FALSE_WORDS:
        problems.append(
            make(
                "flag-boolean",
                f"guaranteed_delivery must be true or false, got {gd_text!r}",
                "guaranteed_delivery",
            )
        )
    if problems:
        return problems, None
    return [], Tender(
        instruction_id,
        received_at,
        series_id,
        principal,
        participant=get("participant"),
        account=get("account"),
        reference=get("reference"),
        guaranteed_delivery=gd_text in TRUE_WORDS,
        line=line,
    )


def instruction_from_payload(payload: Mapping[str, object], terms: OfferTerms) -> Instruction:
    """Rebuild an instruction from its journal payload (the inverse of `.payload()`)."""
    row = {
        k: ("true" if v is True else "false" if v is False else str(v)) for k, v in payload.items()
    }
    problems, instruction = parse_row(row, terms, None, None)
    if problems or instruction is None:
        raise InputError(problems or [Problem("payload", "unreadable instruction payload")])
    return instruction
