"""A stockholder meeting on the journal: what was received, when the polls closed, what was
certified.

Stream `meeting:<meeting id>`, events in this order:

- `meeting.opened`: the meeting file as JSON, the name and SHA-256 of that file, and the
  record-date register snapshot's content SHA-256 and row count (the register itself stays a
  file; tabulating needs a register with the same content).
- `vote.received`: one per instruction, `VoteInstruction.to_payload()`. An instruction whose
  rows cannot be read (bad time or quantity, unknown channel, rows that disagree) is recorded
  too, as `{"instruction_id", "rows": [...]}` with every row as parsed, the parser's error
  codes and the text received: late or unreadable instructions are journaled and rejected by
  the tabulation, never dropped.
- `votes.file`: one per file recorded (name, SHA-256, lines, instructions), written with the
  file's last chunk, so it is present only when the whole file is in the journal.
- `polls.closed`: the time the chair closed the polls; it governs the late-instruction rule of
  a journal tabulation.
- `results.certified`: the SHA-256 of the certified result JSON and every proposal's outcome.
  Nothing may be appended to the stream after it.

The rules (`JournalState.step`) are pure; `MeetingDesk` runs them as the store's append guard,
so a refused command writes nothing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Any, cast

import pyarrow as pa
import pyarrow.compute as pc

from corpact.csvfiles.text import read_rows
from corpact.errors import InputError, LifecycleError, Problem
from corpact.inputfiles import decoded_text, load_yaml
from corpact.journal.events import (
    MAX_TEXT_FIELD_CHARS,
    JsonValue,
    NewEvent,
    Receipt,
    StoredEvent,
)
from corpact.meeting import (
    Meeting,
    MeetingResult,
    Register,
    VoteBook,
    VoteInstruction,
    VoteLine,
    load_meeting,
    load_register,
    load_votes,
    meeting_from_dict,
    tabulate,
)
from corpact.meeting.jsonout import dumps
from corpact.meeting.register import parse_shares
from corpact.meeting.votes import VOTES_SCHEMA, instruction_rows
from corpact.store import JournalStore
from corpact.timeutil import end_of_day, fixed_offset, from_epoch_us, to_epoch_us, zone

VOTE_CHUNK = 10_000
HEADER_FIELDS = ("executed_us", "voter", "channel", "class_id")


class Kind(StrEnum):
    OPENED = "meeting.opened"
    VOTE = "vote.received"
    VOTES_FILE = "votes.file"
    POLLS_CLOSED = "polls.closed"
    CERTIFIED = "results.certified"


def stream_of(meeting_id: str) -> str:
    return f"meeting:{meeting_id}"


def open_key(meeting_id: str) -> str:
    return f"{meeting_id}:open"


def vote_key(meeting_id: str, instruction_id: str) -> str:
    return f"{meeting_id}:vote:{instruction_id}"


def votes_file_key(meeting_id: str, file_sha256: str) -> str:
    return f"{meeting_id}:votes-file:{file_sha256}"


def close_key(meeting_id: str) -> str:
    return f"{meeting_id}:polls-closed"


def certify_key(meeting_id: str) -> str:
    return f"{meeting_id}:certify"


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def result_json_text(result: MeetingResult) -> str:
    """Exactly what `--format json` prints; its SHA-256 is what certification records."""
    return dumps(result.to_json_dict())


# -- the state and its rules (pure) -----------------------------------------------------------

LIFECYCLE_RULES = frozenset(
    {"meeting-opened", "opened-once", "certified-final", "polls-closed-once", "time-order"}
    | {"certify-after-polls-close", "journal-moved"}
)


@dataclass(frozen=True, slots=True)
class JournalState:
    """Everything the rules need about one meeting's stream, folded in journal order."""

    meeting_id: str
    meeting: Meeting | None = None
    opened_at: datetime | None = None
    register_sha256: str = ""
    register_rows: int = 0
    register_source: str = ""
    votes: int = 0
    polls_closed_at: datetime | None = None
    certified_at: datetime | None = None
    certified: Mapping[str, JsonValue] | None = None

    def step(
        self, event: NewEvent | StoredEvent, check_payload: bool = True
    ) -> tuple[JournalState, list[Problem]]:
        """The state after `event`, or the unchanged state and why the event is refused.
        Stored votes were checked by the guard that wrote them: a replay may skip that."""
        where = f"event {event.idempotency_key!r}"
        if event.kind == Kind.OPENED:
            return self._opened(event, where)
        if self.opened_at is None:
            return self, [_problem("meeting-opened", f"meeting {self.meeting_id!r} is not open")]
        if self.certified_at is not None:
            return self, [
                _problem(
                    "certified-final",
                    f"the results of meeting {self.meeting_id!r} were certified at "
                    f"{self._local(self.certified_at)}; nothing can be added after certification",
                )
            ]
        if event.kind == Kind.VOTE:
            return self._vote(event, where, check_payload)
        if event.kind == Kind.VOTES_FILE:
            return self, []
        if event.kind == Kind.POLLS_CLOSED:
            return self._polls_closed(event)
        if event.kind == Kind.CERTIFIED:
            return self._certified(event)
        return self, [Problem("event-kind", f"unknown meeting event {event.kind!r}", field=where)]

    def _opened(
        self, event: NewEvent | StoredEvent, where: str
    ) -> tuple[JournalState, list[Problem]]:
        if self.opened_at is not None:
            return self, [_problem("opened-once", f"meeting {self.meeting_id!r} is already open")]
        try:
            meeting = meeting_from_dict(event.payload["meeting"], "journal meeting.opened")
            register = cast(Mapping[str, Any], event.payload["register"])
            sha, rows, source = register["sha256"], register["rows"], register["source"]
        except (KeyError, TypeError):
            return self, [Problem("opened-payload", "needs meeting and register", field=where)]
        except InputError as err:
            return self, list(err.problems)
        problems: list[Problem] = []
        if meeting.meeting_id != self.meeting_id:
            problems.append(
                Problem("opened-payload", f"meeting id {meeting.meeting_id!r}", field=where)
            )
        if event.idempotency_key != open_key(self.meeting_id):
            problems.append(Problem("event-key", "expected " + open_key(self.meeting_id)))
        if problems:
            return self, problems
        opened = replace(
            self,
            meeting=meeting,
            opened_at=event.recorded_at,
            register_sha256=str(sha),
            register_rows=int(cast(int, rows)),
            register_source=str(source),
        )
        return opened, []

    def _vote(
        self, event: NewEvent | StoredEvent, where: str, check_payload: bool
    ) -> tuple[JournalState, list[Problem]]:
        instruction_id = event.payload.get("instruction_id")
        if not isinstance(instruction_id, str):
            return self, [Problem("vote-payload", "instruction_id is missing", field=where)]
        if event.idempotency_key != vote_key(self.meeting_id, instruction_id):
            return self, [
                Problem(
                    "event-key",
                    f"a vote's key must be {vote_key(self.meeting_id, instruction_id)!r}",
                    field=where,
                )
            ]
        if check_payload:
            try:
                vote_rows(event.payload)
            except InputError as err:
                return self, list(err.problems)
        return replace(self, votes=self.votes + 1), []

    def _polls_closed(self, event: NewEvent | StoredEvent) -> tuple[JournalState, list[Problem]]:
        if self.polls_closed_at is not None:
            return self, [
                _problem(
                    "polls-closed-once",
                    f"the polls already closed at {self._local(self.polls_closed_at)}",
                )
            ]
        if self.opened_at is not None and event.recorded_at < self.opened_at:
            return self, [
                _problem(
                    "time-order",
                    f"polls cannot close at {self._local(event.recorded_at)}, before the "
                    f"meeting was opened at {self._local(self.opened_at)}",
                )
            ]
        return replace(self, polls_closed_at=event.recorded_at), []

    def _certified(self, event: NewEvent | StoredEvent) -> tuple[JournalState, list[Problem]]:
        if self.polls_closed_at is None:
            return self, [
                _problem(
                    "certify-after-polls-close",
                    "results can be certified only after the polls closed: run "
                    "`corpact meeting close-polls` first",
                )
            ]
        if event.recorded_at < self.polls_closed_at:
            return self, [
                _problem(
                    "time-order",
                    f"certification at {self._local(event.recorded_at)} is before the polls "
                    f"closed at {self._local(self.polls_closed_at)}",
                )
            ]
        return replace(self, certified_at=event.recorded_at, certified=event.payload), []

    def _local(self, moment: datetime) -> str:
        """An instant as the meeting's participants read it: in the meeting's time zone."""
        if self.meeting is None:
            return moment.isoformat()
        return fixed_offset(moment.astimezone(zone(self.meeting.time_zone))).isoformat()

    def tabulation_meeting(self) -> Meeting:
        """The meeting as tabulated: the chair's closing time, once recorded, governs."""
        if self.meeting is None:
            raise LifecycleError(f"meeting {self.meeting_id!r} is not open in this journal")
        if self.polls_closed_at is None:
            return self.meeting
        closed = datetime.fromisoformat(self._local(self.polls_closed_at))
        return replace(self.meeting, polls_close_at=closed)


def _problem(rule: str, message: str) -> Problem:
    return Problem(rule, message)


def fold(meeting_id: str, events: Iterable[StoredEvent | NewEvent]) -> JournalState:
    """Replay a stream; a stored stream that breaks the rules is an error, never ignored."""
    state = JournalState(meeting_id)
    for event in events:
        state, problems = state.step(event, check_payload=isinstance(event, NewEvent))
        if problems:
            raise refusal(problems)
    return state


def refusal(problems: Sequence[Problem]) -> InputError | LifecycleError:
    if all(p.rule in LIFECYCLE_RULES for p in problems):
        return LifecycleError("; ".join(p.message for p in problems))
    return InputError(problems)


# -- votes: file rows <-> journal payloads (pure) ---------------------------------------------


def _readable(rows: Sequence[Mapping[str, Any]]) -> bool:
    first = rows[0]
    return all(
        r["header_error"] is None
        and r["line_error"] is None
        and all(r[name] == first[name] for name in HEADER_FIELDS)
        for r in rows
    )


def _instruction(rows: Sequence[Mapping[str, Any]]) -> VoteInstruction:
    first = rows[0]
    return VoteInstruction(
        instruction_id=first["instruction_id"],
        executed_at=from_epoch_us(first["executed_us"]),
        voter=first["voter"],
        channel=first["channel"],
        class_id=first["class_id"] or None,
        lines=tuple(
            VoteLine(
                r["proposal_id"], r["choice"], r["item_id"] or None, r["shares"], r["discretionary"]
            )
            for r in rows
        ),
    )


def _row_payload(row: Mapping[str, Any], received: Mapping[str, str]) -> dict[str, JsonValue]:
    executed = row["executed_us"]
    return {
        "executed_at": None if executed is None else from_epoch_us(executed).isoformat(),
        "voter": row["voter"],
        "class": row["class_id"],
        "channel": row["channel"],
        "proposal": row["proposal_id"],
        "nominee": row["item_id"],
        "choice": row["choice"],
        "shares": None if row["shares"] is None else str(row["shares"]),
        "discretionary": bool(row["discretionary"]),
        "header_error": row["header_error"],
        "line_error": row["line_error"],
        "received": dict(received),
    }


@dataclass(frozen=True, slots=True)
class ReceivedInstruction:
    """One instruction of a votes file, as it will be journaled."""

    instruction_id: str
    payload: dict[str, JsonValue]
    executed_at: datetime | None


def received_instructions(
    book: VoteBook, raw_lines: Mapping[int, Mapping[str, str]]
) -> list[ReceivedInstruction]:
    """Group a votes file's rows into instructions, in first-row order. `raw_lines` holds the
    text received for the rows of unreadable instructions (by physical line number)."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for row in book.table.to_pylist():
        groups.setdefault(row["instruction_id"], []).append(row)
    found: list[ReceivedInstruction] = []
    for instruction_id, rows in groups.items():
        if _readable(rows):
            instruction = _instruction(rows)
            payload = cast(dict[str, JsonValue], instruction.to_payload())
            found.append(ReceivedInstruction(instruction_id, payload, instruction.executed_at))
            continue
        times = [r["executed_us"] for r in rows if r["executed_us"] is not None]
        payload = {
            "instruction_id": instruction_id,
            "rows": [_row_payload(r, raw_lines.get(r["line_no"], {})) for r in rows],
        }
        found.append(
            ReceivedInstruction(
                instruction_id, payload, from_epoch_us(max(times)) if times else None
            )
        )
    return found


def _refuse_unkeyable(events: Sequence[NewEvent], book: VoteBook) -> None:
    """An instruction id too long for a journal key would be refused by the journal only when
    its chunk is written, after the chunks before it: refuse the file before the first one."""
    long_keys = [e for e in events if len(e.idempotency_key) > MAX_TEXT_FIELD_CHARS]
    if not long_keys:
        return
    ids = pa.array([str(e.payload["instruction_id"]) for e in long_keys], pa.string())
    table = book.table
    lines = table.filter(pc.is_in(table.column("instruction_id"), ids))
    first = lines.group_by("instruction_id").aggregate([("line_no", "min")])
    raise InputError(
        Problem(
            "instruction-id-length",
            f"instruction id of {len(row['instruction_id'])} characters: its journal key would "
            f"exceed {MAX_TEXT_FIELD_CHARS} characters",
            source=book.source,
            line=row["line_no_min"],
            field="instruction_id",
        )
        for row in first.sort_by("line_no_min").to_pylist()
    )


def unreadable_line_numbers(book: VoteBook) -> set[int]:
    """Physical lines of every instruction that will be journaled row by row."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for row in book.table.to_pylist():
        groups.setdefault(row["instruction_id"], []).append(row)
    return {r["line_no"] for rows in groups.values() if not _readable(rows) for r in rows}


def vote_rows(payload: Mapping[str, JsonValue]) -> list[dict[str, Any]]:
    """The rows (`VOTES_SCHEMA`, without `line_no`) of one `vote.received` payload."""
    if "rows" not in payload:
        return instruction_rows(VoteInstruction.from_payload(payload))
    try:
        return [
            _row_from_payload(str(payload["instruction_id"]), r) for r in _list(payload["rows"])
        ]
    except (KeyError, TypeError, ValueError) as err:
        raise InputError.single(
            "vote-payload", f"unreadable row form: {err}", field=str(payload.get("instruction_id"))
        ) from None


def _list(value: JsonValue) -> list[Mapping[str, Any]]:
    if not isinstance(value, list) or not value:
        raise ValueError("rows must be a non-empty list")
    return [cast(Mapping[str, Any], v) for v in value]


def _row_from_payload(instruction_id: str, row: Mapping[str, Any]) -> dict[str, Any]:
    executed = row["executed_at"]
    shares_text = row["shares"]
    shares = None if shares_text is None else parse_shares(str(shares_text))
    if shares_text is not None and shares is None:
        raise ValueError(f"shares {shares_text!r}")
    moment = None if executed is None else datetime.fromisoformat(str(executed))
    if moment is not None and moment.tzinfo is None:
        raise ValueError("executed_at needs an offset")
    return {
        "instruction_id": instruction_id,
        "executed_us": None if moment is None else to_epoch_us(moment),
        "voter": str(row["voter"]),
        "class_id": str(row["class"]),
        "channel": str(row["channel"]),
        "proposal_id": str(row["proposal"]),
        "item_id": str(row["nominee"]),
        "choice": str(row["choice"]),
        "shares": shares,
        "discretionary": bool(row["discretionary"]),
        "header_error": row["header_error"],
        "line_error": row["line_error"],
    }


def journal_vote_book(meeting_id: str, events: Iterable[StoredEvent]) -> VoteBook:
    """Every vote line received, in journal order; `line_no` counts lines in that order."""
    rows: list[dict[str, Any]] = []
    for event in events:
        if event.kind == Kind.VOTE:
            for row in vote_rows(event.payload):
                row["line_no"] = len(rows) + 1
                rows.append(row)
    table = pa.Table.from_pylist(rows, schema=VOTES_SCHEMA)
    return VoteBook.from_arrow(table, source=f"journal {stream_of(meeting_id)}")


def tabulate_journal(
    meeting_id: str, events: Sequence[StoredEvent], register: Register
) -> MeetingResult:
    """The tabulation of a meeting from its journal stream and a register with the content
    the meeting was opened on (pure)."""
    state = fold(meeting_id, events)
    meeting = state.tabulation_meeting()
    if (register.content_hash, register.table.num_rows) != (
        state.register_sha256,
        state.register_rows,
    ):
        raise InputError.single(
            "register-snapshot",
            f"this register has SHA-256 {register.content_hash} ({register.table.num_rows} "
            f"rows); meeting {meeting_id!r} was opened on {state.register_sha256} "
            f"({state.register_rows} rows)",
            source=register.source,
        )
    # The snapshot's name as opened, so the certified digest does not depend on a file name.
    named = replace(register, source=state.register_source)
    return tabulate(meeting, named, journal_vote_book(meeting_id, events))


def certification_payload(result: MeetingResult, through_index: int) -> dict[str, JsonValue]:
    outcomes: dict[str, JsonValue] = {}
    for proposal in result.proposals:
        outcome: dict[str, JsonValue] = {"passed": proposal.passed, "outcome": proposal.outcome}
        if proposal.nominees:
            outcome["elected"] = [n.nominee.nominee_id for n in proposal.nominees if n.elected]
        outcomes[proposal.proposal.proposal_id] = outcome
    return {
        "result_sha256": sha256_bytes(result_json_text(result).encode("utf-8")),
        "tabulated_through_index": through_index,
        "lines_received": result.lines_received,
        "register_sha256": result.register_hash,
        "quorum_met": result.quorum.passed,
        "outcomes": outcomes,
    }


def jsonable_document(value: Any, where: str = "") -> JsonValue:
    """A YAML document as journal JSON: dates become ISO text; floats are refused."""
    if isinstance(value, dict):
        return {str(k): jsonable_document(v, f"{where}.{k}".lstrip(".")) for k, v in value.items()}
    if isinstance(value, list):
        return [jsonable_document(v, f"{where}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, float | Decimal):
        raise InputError.single(
            "meeting-float", "write numbers as quoted decimals or fractions", field=where
        )
    return cast(JsonValue, value)


# -- the desk (imperative shell) --------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RecordSummary:
    created: int
    already_recorded: int
    unreadable: int
    receipts: tuple[Receipt, ...]


class MeetingDesk:
    """Operates meetings on a journal; every command is one guarded append per chunk."""

    def __init__(self, store: JournalStore) -> None:
        self.store = store
        # meeting id -> (events folded, idempotency key of the last one, state)
        self._cache: dict[str, tuple[int, str, JournalState]] = {}

    def events(self, meeting_id: str) -> list[StoredEvent]:
        return self.store.events(stream_of(meeting_id))

    def state(self, meeting_id: str) -> JournalState:
        events = self.events(meeting_id)
        if not events:
            raise LifecycleError(f"no meeting {meeting_id!r} in this journal: open it first")
        return self._state_for(meeting_id, events)

    def _state_for(self, meeting_id: str, prior: Sequence[StoredEvent]) -> JournalState:
        cached = self._cache.get(meeting_id)
        last_key = prior[-1].idempotency_key if prior else ""
        if cached is not None and cached[0] == len(prior) and cached[1] == last_key:
            return cached[2]
        state = fold(meeting_id, prior)
        self._cache[meeting_id] = (len(prior), last_key, state)
        return state

    def _guard(
        self, meeting_id: str, expect_size: int | None = None
    ) -> Callable[[Sequence[StoredEvent], Sequence[NewEvent]], None]:
        stream = stream_of(meeting_id)

        def guard(prior: Sequence[StoredEvent], new: Sequence[NewEvent]) -> None:
            # `prior` holds the streams of `new` only; every event a desk appends is in one
            # stream, so no copy is needed (a million-vote stream is not filtered per chunk).
            mine = (
                prior
                if all(e.stream == stream for e in new)
                else [e for e in prior if e.stream == stream]
            )
            if expect_size is not None and len(mine) != expect_size:
                raise LifecycleError(
                    f"meeting {meeting_id!r} received events while it was being tabulated; "
                    "run the command again [rule: journal-moved]"
                )
            state = self._state_for(meeting_id, mine)
            problems: list[Problem] = []
            for event in new:
                state, found = state.step(event)
                problems.extend(found)
            if problems:
                raise refusal(problems)
            self._cache[meeting_id] = (len(mine) + len(new), new[-1].idempotency_key, state)

        return guard

    def _append(
        self, meeting_id: str, events: Sequence[NewEvent], expect_size: int | None = None
    ) -> list[Receipt]:
        return self.store.append(events, self._guard(meeting_id, expect_size))

    def open(
        self, meeting_path: Path, register_path: Path, at: datetime | None = None
    ) -> tuple[Receipt, Meeting, Register]:
        """Open the meeting on the journal with its file and its record-date snapshot."""
        meeting = load_meeting(meeting_path)
        register = load_register(register_path)
        raw = meeting_path.read_bytes()
        document = jsonable_document(load_yaml(decoded_text(raw, meeting_path.name)))
        meeting_from_dict(document, meeting_path.name)  # the journaled form reads back
        payload: dict[str, JsonValue] = {
            "meeting": document,
            "meeting_file": {"source": meeting_path.name, "sha256": sha256_bytes(raw)},
            "register": {
                "source": register.source,
                "sha256": register.content_hash,
                "rows": register.table.num_rows,
            },
        }
        moment = at or end_of_day(meeting.record_date, zone(meeting.time_zone))
        event = NewEvent(
            stream_of(meeting.meeting_id),
            Kind.OPENED,
            payload,
            open_key(meeting.meeting_id),
            fixed_offset(moment),
        )
        return self._append(meeting.meeting_id, [event])[0], meeting, register

    def record(self, meeting_id: str, instructions: Sequence[VoteInstruction]) -> list[Receipt]:
        """Record instructions received (one transaction); a retry is harmless."""
        events = [
            NewEvent(
                stream_of(meeting_id),
                Kind.VOTE,
                cast(dict[str, JsonValue], i.to_payload()),
                vote_key(meeting_id, i.instruction_id),
                fixed_offset(i.executed_at),
            )
            for i in instructions
        ]
        return self._append(meeting_id, events)

    def record_file(
        self,
        meeting_id: str,
        votes_path: Path,
        received_at: datetime | None = None,
        chunk: int = VOTE_CHUNK,
        progress: Callable[[int], None] | None = None,
    ) -> RecordSummary:
        """Record every instruction of a votes file, readable or not, in chunks of one
        transaction each; re-running the same file skips what is already recorded."""
        state = self.state(meeting_id)
        meeting = state.tabulation_meeting()
        if state.certified_at is not None:
            raise LifecycleError(
                f"the results of meeting {meeting_id!r} were certified at "
                f"{state._local(state.certified_at)}; nothing can be added after certification"
            )
        book = load_votes(votes_path, meeting.time_zone)
        lines = unreadable_line_numbers(book)
        raw = {n: r for n, r in read_rows(votes_path)[1] if n in lines} if lines else {}
        received = received_instructions(book, raw)
        times = [r.executed_at for r in received if r.executed_at is not None]
        fallback = received_at or (max(times) if times else state.opened_at)
        if fallback is None:  # pragma: no cover - an open meeting has an opening time
            raise LifecycleError("meeting not open")
        events = [
            NewEvent(
                stream_of(meeting_id),
                Kind.VOTE,
                r.payload,
                vote_key(meeting_id, r.instruction_id),
                fixed_offset(r.executed_at or fallback),
            )
            for r in received
        ]
        _refuse_unkeyable(events, book)
        file_sha = sha256_bytes(votes_path.read_bytes())
        file_payload: dict[str, JsonValue] = {
            "source": votes_path.name,
            "sha256": file_sha,
            "lines": len(book),
            "instructions": len(received),
        }
        events.append(
            NewEvent(
                stream_of(meeting_id),
                Kind.VOTES_FILE,
                file_payload,
                votes_file_key(meeting_id, file_sha),
                fixed_offset(fallback),
            )
        )
        receipts: list[Receipt] = []
        for start in range(0, len(events), chunk):
            part = events[start : start + chunk]
            receipts += self._append(meeting_id, part)
            if progress is not None:
                progress(len(part))
        votes = receipts[:-1]
        created = sum(1 for r in votes if r.status == "created")
        unreadable = sum(1 for r in received if "rows" in r.payload)
        return RecordSummary(created, len(votes) - created, unreadable, tuple(receipts))

    def close_polls(self, meeting_id: str, at: datetime) -> Receipt:
        payload: dict[str, JsonValue] = {"closed_at": fixed_offset(at).isoformat()}
        event = NewEvent(
            stream_of(meeting_id), Kind.POLLS_CLOSED, payload, close_key(meeting_id), at
        )
        return self._append(meeting_id, [event])[0]

    def tabulate(self, meeting_id: str, register_path: Path) -> MeetingResult:
        events = self.events(meeting_id)
        if not events:
            raise LifecycleError(f"no meeting {meeting_id!r} in this journal: open it first")
        return tabulate_journal(
            meeting_id, _before_certification(events), load_register(register_path)
        )

    def certify(
        self, meeting_id: str, register_path: Path, at: datetime
    ) -> tuple[Receipt, MeetingResult]:
        """Certify the journal tabulation; the digest lets anyone recompute and compare."""
        events = _before_certification(self.events(meeting_id))
        if not events:
            raise LifecycleError(f"no meeting {meeting_id!r} in this journal: open it first")
        result = tabulate_journal(meeting_id, events, load_register(register_path))
        payload = certification_payload(result, events[-1].index)
        event = NewEvent(
            stream_of(meeting_id), Kind.CERTIFIED, payload, certify_key(meeting_id), at
        )
        receipt = self._append(meeting_id, [event], expect_size=len(events))[0]
        return receipt, result


def _before_certification(events: list[StoredEvent]) -> list[StoredEvent]:
    """The stream as it was certified: a certification is always its last event."""
    return [e for e in events if e.kind != Kind.CERTIFIED]
