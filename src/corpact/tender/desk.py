"""The offer desk: operates live offers on the journal (the application layer).

Every command becomes one journal append whose guard runs the lifecycle rules inside the
store's transaction, so a refused command writes nothing and an accepted one writes its event,
leaf and tree nodes together. State is never stored apart from the journal; it is the fold of
the offer's events, cached in memory and rebuilt whenever the journal moved underneath.
"""

from __future__ import annotations

import gc
import hashlib
import json
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar, cast

import pyarrow as pa
from pydantic import BaseModel, ValidationError

from corpact.errors import InputError, LifecycleError, Problem
from corpact.inputfiles import decoded_text, read_data
from corpact.journal.batch import LeafColumns, leaf_columns
from corpact.journal.events import Guard, JsonValue, NewEvent, Receipt, StoredEvent
from corpact.store import JournalStore
from corpact.store.journal_store import Appended
from corpact.tender.bulk import InstructionColumns, instruction_events, plain_instructions
from corpact.tender.instructions import (
    Instruction,
    Tender,
    instruction_from_payload,
    parse_instructions_csv_lenient,
)
from corpact.tender.lifecycle import Kind, OfferState, fold, stream_of
from corpact.tender.payments import PaymentLine, PaymentRun, payment_run
from corpact.tender.render import results_json
from corpact.tender.service import OfferRun, run_offer
from corpact.tender.terms_file import (
    AmendmentModel,
    OfferTermsModel,
    problems_from_validation,
    read_document,
    terms_from_model,
)
from corpact.timeutil import fixed_offset, parse_instant

IMPORT_CHUNK = 10_000
ENCODE_BLOCK_ROWS = 100_000
M = TypeVar("M", bound=BaseModel)
R = TypeVar("R")


@dataclass(frozen=True, slots=True)
class _Checked:
    """The offer's stream as a bulk import's trial saw it, plus the chunks written since.

    While the stream still ends here, nobody else has written to it, so the trial's verdict on
    the remaining lines still holds and the guard need not run the rules again.
    """

    length: int
    last_index: int
    last_key: str

    def holds_for(self, stream: Sequence[StoredEvent]) -> bool:
        if len(stream) != self.length:
            return False
        return self.length == 0 or stream[-1].index == self.last_index


@dataclass(frozen=True, slots=True)
class ImportSummary:
    """Counts only: a receipt per line of a million-line file is work and memory nobody used
    (each event's receipt is `JournalStore.receipt_document(key)`)."""

    created: int
    already_recorded: int


def _digest(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True).encode()).hexdigest()


class _StreamMoved(Exception):
    """Another writer appended to the offer's stream during a columnar import."""


class OfferDesk:
    def __init__(self, store: JournalStore) -> None:
        self.store = store
        # offer id -> (events folded, idempotency key of the last one, state)
        self._cache: dict[str, tuple[int, str, OfferState]] = {}
        # Instructions being appended, by idempotency key: the guard checks these objects
        # instead of parsing their payloads again. Lines read from a file were parsed as a fold
        # parses a payload; objects built in code (`submit`) are read back from their payloads
        # first, since one (an empty id, an infinite principal) may not read back at all.
        self._pending: dict[str, Instruction] = {}
        self._read_back = False
        # Set only while `import_csv` writes lines its trial has already checked.
        self._checked: _Checked | None = None

    # -- state ------------------------------------------------------------------------------

    def state(self, offer_id: str) -> OfferState:
        return self._state_and_events(offer_id)[0]

    def _state_and_events(self, offer_id: str) -> tuple[OfferState, Sequence[StoredEvent]]:
        # Through the store's stream cache: a fresh cached state then costs no decoding of
        # the offer's (possibly million-event) stream.
        events = self.store.stream(stream_of(offer_id))
        if not events:
            raise LifecycleError(f"no offer {offer_id!r} in this journal")
        return self._state_for(offer_id, events), events

    def _state_for(self, offer_id: str, prior: Sequence[StoredEvent]) -> OfferState:
        cached = self._cache.get(offer_id)
        last_key = prior[-1].idempotency_key if prior else ""
        if cached is not None and cached[0] == len(prior) and cached[1] == last_key:
            return cached[2]
        state = fold(offer_id, prior)
        self._cache[offer_id] = (len(prior), last_key, state)
        return state

    def _guard(self, offer_id: str) -> Callable[[Sequence[StoredEvent], Sequence[NewEvent]], None]:
        stream = stream_of(offer_id)

        def guard(prior: Sequence[StoredEvent], new: Sequence[NewEvent]) -> None:
            # The store hands over only the streams `new` touches: for one offer's events that
            # is this stream already, and copying it per chunk would cost O(journal) each time.
            single = all(e.stream == stream for e in new)
            mine = prior if single else [e for e in prior if e.stream == stream]
            checked = self._checked
            if checked is not None:
                if checked.holds_for(mine) and all(e.idempotency_key in self._pending for e in new):
                    # Pre-validated by the import's trial; the state cached for this stream is
                    # older than the trial's, and the import caches the trial's at its end.
                    self._cache.pop(offer_id, None)
                    return
                self._checked = None  # another writer got in between: check in full from now
            state = self._state_for(offer_id, mine)
            # The cached state is mutated below; forget it until the batch is fully valid.
            self._cache.pop(offer_id, None)
            problems: list[Problem] = []
            for event in new:
                known = self._pending.get(event.idempotency_key)
                if known is not None:
                    unread = _read_back_problems(state, known) if self._read_back else []
                    problems.extend(unread or state.offer_instruction(known))
                else:
                    problems.extend(state.apply(event.kind, event.payload, event.recorded_at))
            if problems:
                raise _refusal(problems)
            self._cache[offer_id] = (len(mine) + len(new), new[-1].idempotency_key, state)

        return guard

    def _append(self, offer_id: str, events: Sequence[NewEvent]) -> list[Receipt]:
        return self.store.append(events, self._guard(offer_id))

    # -- commands ---------------------------------------------------------------------------

    def launch(self, terms_path: Path, at: datetime | None = None) -> tuple[Receipt, int]:
        """Create an offer from a terms file; returns the receipt and the number of amendments
        in the file that were left for `amend` (they are events of their own)."""
        model = _validated(OfferTermsModel, read_document(terms_path), terms_path)
        scheduled = len(model.amendments)
        base = model.model_copy(update={"amendments": []})
        payload: dict[str, JsonValue] = {"terms": base.model_dump(mode="json", exclude_none=True)}
        terms, _ = terms_from_model(base, str(terms_path))
        moment = at or terms.deadlines.launch_at
        event = NewEvent(
            stream_of(terms.offer_id), Kind.LAUNCHED, payload, f"{terms.offer_id}:launch", moment
        )
        return self._append(terms.offer_id, [event])[0], scheduled

    def submit(self, offer_id: str, instructions: Sequence[Instruction]) -> list[Receipt]:
        """Tenders and withdrawals, one transaction; a retry of the same ids is harmless.

        Instructions built in code, not read from a file, are first read back from the
        payloads the journal will hold, as every later reading of the journal reads them: one
        that does not read back (an empty id, a principal that is no number) would be written
        and then refused by every fold of the offer."""
        return self._submit(offer_id, instructions, self.store.append, read_back=True)

    def _submit(
        self,
        offer_id: str,
        instructions: Sequence[Instruction],
        append: Callable[[Sequence[NewEvent], Guard], R],
        *,
        read_back: bool = False,
    ) -> R:
        events = _instruction_events(offer_id, instructions)
        self._pending = {e.idempotency_key: i for e, i in zip(events, instructions, strict=True)}
        self._read_back = read_back
        try:
            return append(events, self._guard(offer_id))
        finally:
            self._pending, self._read_back = {}, False

    def import_csv(
        self,
        offer_id: str,
        path: Path,
        progress: Callable[[int], None] | None = None,
        chunk: int = IMPORT_CHUNK,
        received_before: datetime | None = None,
        *,
        columnar: bool = True,
    ) -> ImportSummary:
        """Bulk import in chunks of one transaction each. Every line is checked before the
        first chunk is written; a crash mid-file leaves whole chunks, and re-running the same
        import skips what is already recorded (idempotency keys).

        While it runs, Python's cyclic garbage collector is paused for the whole process (the
        switch is process-wide; reference counting still frees memory). It is switched back on
        when the import ends, by returning or by raising, unless it was off before; imports in
        several threads or nested (say, from `progress`) restore it when the last one ends.

        A plain file of valid instructions is read and checked by column
        (`bulk.plain_instructions`);
        `columnar=False` reads every file line by line, as any other file is read. Both write
        the same events."""
        with _cyclic_gc_paused():
            return self._import_csv(
                offer_id, path, progress, chunk, received_before, columnar=columnar
            )

    def _import_csv(
        self,
        offer_id: str,
        path: Path,
        progress: Callable[[int], None] | None,
        chunk: int,
        received_before: datetime | None,
        *,
        columnar: bool,
    ) -> ImportSummary:
        state, events = self._state_and_events(offer_id)
        data = read_data(path, str(path))
        by_column = plain_instructions(data, state, received_before) if columnar else None
        if by_column is None:
            text = decoded_text(data, str(path))
            return self._import_rows(offer_id, text, path, progress, chunk, received_before)
        outcome = self._import_columns(offer_id, by_column, events, progress, chunk)
        if isinstance(outcome, ImportSummary):
            return outcome
        # Another writer moved the offer between two chunks: the row path checks the file
        # again against the offer as it now stands and writes the rest. What this import
        # wrote, it counts as created, not as already recorded.
        text = decoded_text(data, str(path))
        rest = self._import_rows(offer_id, text, path, progress, chunk, received_before)
        moved = min(outcome.created, rest.already_recorded)
        return ImportSummary(rest.created + moved, rest.already_recorded - moved)

    def _import_rows(
        self,
        offer_id: str,
        text: str,
        path: Path,
        progress: Callable[[int], None] | None,
        chunk: int,
        received_before: datetime | None,
    ) -> ImportSummary:
        state, events = self._state_and_events(offer_id)
        if state.base_terms is None:  # pragma: no cover - state() guarantees a launch
            raise LifecycleError("offer not launched")
        instructions, problems = parse_instructions_csv_lenient(text, state.base_terms, str(path))
        if received_before is not None:  # what had arrived by then, e.g. to replay history
            instructions = [i for i in instructions if i.received_at < received_before]
        ordered = sorted(instructions, key=lambda i: (i.received_at, i.line or 0))
        # Check every line against the offer as it stands before the first chunk is written,
        # so that a bad line 900,000 does not leave 890,000 lines imported.
        trial = state.copy()
        source = None if state.ledger is None else state.ledger.source
        if trial.ledger is not None:
            trial.ledger.source = str(path)
        for instruction in ordered:
            problems.extend(trial.offer_instruction(instruction))
        if problems:
            raise InputError(sorted(problems, key=lambda p: (p.line or 0, p.rule)))
        last = events[-1]
        checked: _Checked | None = _Checked(len(events), last.index, last.idempotency_key)
        created = existing = 0
        for start in range(0, len(ordered), chunk):
            part = ordered[start : start + chunk]
            self._checked = checked
            try:
                written = self._submit(offer_id, part, self.store.append_counted)
            except InputError as err:
                raise InputError(_with_source(err.problems, str(path))) from None
            finally:
                # Only these lines were checked: nothing else (say, a submit from `progress`)
                # may pass on the trial's verdict.
                held, self._checked = self._checked is not None, None
            created, existing = created + written.created, existing + written.existing
            # The guard drops the verdict when the stream moved; then it stays dropped.
            checked = _advanced(checked, written) if held and checked is not None else None
            if progress is not None:
                progress(len(part))
        if checked is not None and checked.length > len(events) and trial.ledger is not None:
            # The trial's state is the fold of the stream as the import left it.
            trial.ledger.source = source
            self._cache[offer_id] = (checked.length, checked.last_key, trial)
        return ImportSummary(created, existing)

    def _import_columns(
        self,
        offer_id: str,
        tenders: InstructionColumns,
        events: Sequence[StoredEvent],
        progress: Callable[[int], None] | None,
        chunk: int,
    ) -> ImportSummary | Appended:
        """Write checked tenders in chunks of one transaction each, as the row path does.
        Each chunk's guard checks that the offer's stream still ends where this import left
        it; when it does not, the import stops and answers what it wrote (an `Appended`)."""
        stream = stream_of(offer_id)
        last = events[-1]
        expected = _Checked(len(events), last.index, last.idempotency_key)

        def unmoved(prior: Sequence[StoredEvent]) -> None:
            if not expected.holds_for(prior):
                raise _StreamMoved

        created = existing = 0
        # Encoded a block at a time (memory), and a block is whole chunks (the same
        # transactions as the row path). DuckDB writes and hashes the next block's leaves on
        # another thread, without Python's lock, while this one stores the current block.
        # The first block is one chunk, so that writing starts as soon as it is encoded.
        size = max(chunk, ENCODE_BLOCK_ROWS // chunk * chunk)
        starts = [0, *range(chunk, len(tenders), size)]
        blocks = [tenders.table.slice(first, size if first else chunk) for first in starts]

        def leaves(rows: pa.Table) -> LeafColumns:
            kinds, keys, payloads = instruction_events(offer_id, rows)
            return leaf_columns(stream, kinds, keys, payloads, rows["received_us"])

        with ThreadPoolExecutor(1) as pool:
            upcoming = [pool.submit(leaves, block) for block in blocks[:1]]
            for number in range(len(blocks)):
                encoded = upcoming.pop().result().to_batch()
                if number + 1 < len(blocks):
                    upcoming.append(pool.submit(leaves, blocks[number + 1]))
                for start in range(0, len(encoded), chunk):
                    part = encoded.part(start, start + chunk)
                    try:
                        written = self.store.append_batch(part, unmoved)
                    except _StreamMoved:
                        return Appended(created, existing, None)
                    expected = _advanced(expected, written)
                    created, existing = created + written.created, existing + written.existing
                    if progress is not None:
                        progress(len(part))
        self._cache.pop(offer_id, None)  # folded again from the journal when next asked
        return ImportSummary(created, existing)

    def amend(self, offer_id: str, amendment_path: Path, at: datetime | None = None) -> Receipt:
        """Record a change of terms (a supplement, an extension, a cap increase, pricing)."""
        model = _validated(AmendmentModel, read_document(amendment_path), amendment_path)
        return self.record_amendment(offer_id, model, at)

    def record_amendment(
        self, offer_id: str, model: AmendmentModel, at: datetime | None = None
    ) -> Receipt:
        state = self.state(offer_id)
        if state.base_terms is None:  # pragma: no cover - state() guarantees a launch
            raise LifecycleError("offer not launched")
        effective = parse_instant(
            model.effective_at, state.base_terms.time_zone, field="effective_at"
        )
        payload: dict[str, JsonValue] = model.model_dump(mode="json", exclude_none=True)
        only_pricing = set(model.model_fields_set) <= {
            "id",
            "effective_at",
            "description",
            "reference_yields",
        }
        kind = Kind.PRICED if model.reference_yields and only_pricing else Kind.AMENDED
        key = f"{offer_id}:amendment:{model.id}"
        return self._append(
            offer_id, [NewEvent(stream_of(offer_id), kind, payload, key, at or effective)]
        )[0]

    def decide_condition(
        self, offer_id: str, condition: str, status: str, at: datetime, evidence: str = ""
    ) -> Receipt:
        payload: dict[str, JsonValue] = {
            "condition": condition,
            "status": status,
            "evidence": evidence,
        }
        key = f"{offer_id}:condition:{condition}:{status}"
        return self._append(
            offer_id, [NewEvent(stream_of(offer_id), Kind.CONDITION, payload, key, at)]
        )[0]

    def terminate(
        self, offer_id: str, at: datetime, reason: str, series: Sequence[str] = ()
    ) -> Receipt:
        payload: dict[str, JsonValue] = {"series": list(series), "reason": reason}
        key = f"{offer_id}:terminate:{','.join(series) or 'offer'}"
        return self._append(
            offer_id, [NewEvent(stream_of(offer_id), Kind.TERMINATED, payload, key, at)]
        )[0]

    def accept(self, offer_id: str, at: datetime) -> tuple[Receipt, OfferRun]:
        """Accept for purchase as of `at`: the allocation is recorded with a digest of its
        results, so anyone can recompute it from the journal and compare."""
        run = self.results(offer_id, at)
        accepted = {
            s.series_id: str(run.allocation.accepted_principal(s.series_id))
            for s in run.terms.series
        }
        payload: dict[str, JsonValue] = {
            "as_of": at.isoformat(),
            "terms_version": run.terms.version,
            "accepted": dict(accepted),
            "results_sha256": _digest(results_json(run.results)),
        }
        event = NewEvent(stream_of(offer_id), Kind.ACCEPTED, payload, f"{offer_id}:accept", at)
        return self._append(offer_id, [event])[0], run

    def settle(self, offer_id: str, at: datetime) -> tuple[Receipt, PaymentRun]:
        state = self.state(offer_id)
        if state.accepted is None:
            raise LifecycleError(
                "settlement needs an accepted offer: run `corpact offer accept` first"
            )
        run = self.results(offer_id, state.accepted.at)
        payments = payment_run(run.allocation)
        dates: list[JsonValue] = [
            d for d in sorted({t.settlement_date.isoformat() for t in payments.totals})
        ]
        payload: dict[str, JsonValue] = {
            "settlement_dates": dates,
            "payments": len(payments.lines),
            "cash_by_currency": {k: str(v) for k, v in payments.cash_by_currency().items()},
            "payments_sha256": _digest([_line_json(line) for line in payments.lines]),
        }
        event = NewEvent(stream_of(offer_id), Kind.SETTLED, payload, f"{offer_id}:settle", at)
        return self._append(offer_id, [event])[0], payments

    # -- queries ----------------------------------------------------------------------------

    def results(self, offer_id: str, as_of: datetime) -> OfferRun:
        state = self.state(offer_id)
        if state.base_terms is None or state.ledger is None:  # pragma: no cover
            raise LifecycleError("offer not launched")
        return run_offer(state.base_terms, state.amendments, state.ledger, as_of)


def _line_json(line: PaymentLine) -> dict[str, str]:
    return {
        "instruction_id": line.instruction_id,
        "settlement_date": line.settlement_date.isoformat(),
        "principal_accepted": str(line.principal_accepted),
        "total_cash": str(line.total_cash),
    }


def _advanced(checked: _Checked, written: Appended) -> _Checked:
    if written.last_created is None:
        return checked
    index, key = written.last_created
    return _Checked(checked.length + written.created, index, key)


def _read_back_problems(state: OfferState, instruction: Instruction) -> list[Problem]:
    """Why `instruction` would not read back from its journal payload as every fold reads it
    (`instruction_from_payload`); none when it would, or when the offer was never created."""
    if state.base_terms is None:
        return []
    try:
        instruction_from_payload(instruction.payload(), state.base_terms)
    except InputError as err:
        return list(err.problems)
    return []


def _instruction_events(offer_id: str, instructions: Sequence[Instruction]) -> list[NewEvent]:
    stream, prefix = stream_of(offer_id), f"{offer_id}:instruction:"
    events: list[NewEvent] = []
    for instruction in instructions:
        # A fresh dict per call, so the event may hold it without a copy.
        if isinstance(instruction, Tender):
            kind, (payload, text) = Kind.INSTRUCTION, instruction.payload_and_text()
        else:
            kind, payload, text = Kind.WITHDRAWAL, instruction.payload(), None
        moment = instruction.received_at
        events.append(
            NewEvent(
                stream,
                kind,
                cast(dict[str, JsonValue], payload),
                prefix + instruction.instruction_id,
                # Parsed instructions are held in UTC already: a fixed offset, nothing to freeze.
                moment if moment.tzinfo is UTC else fixed_offset(moment),
                text,
            )
        )
    return events


class _CyclicGcPause:
    """Pauses the cyclic garbage collector while at least one import runs, in any thread.

    An import allocates millions of long-lived objects that form no cycles, and every full
    collection walks all of them again: that was up to a third of the import's time.
    Reference counting still frees everything; cycles wait for the collector until the end.
    The collector's switch is process-wide, so imports share one count: the first to start
    remembers whether the collector was on, the last to end (however it ends) restores that.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._active = 0
        self._was_enabled = False

    @contextmanager
    def __call__(self) -> Iterator[None]:
        with self._lock:
            if self._active == 0:
                self._was_enabled = gc.isenabled()
                gc.disable()
            self._active += 1
        try:
            yield
        finally:
            with self._lock:
                self._active -= 1
                if self._active == 0 and self._was_enabled:
                    gc.enable()


_cyclic_gc_paused = _CyclicGcPause()


def _refusal(problems: Iterable[Problem]) -> InputError | LifecycleError:
    items = list(problems)
    if all(
        p.rule
        in {
            "offer-open",
            "time-order",
            "conditions-met",
            "settle-after-acceptance",
            "accept-after-expiration",
        }
        for p in items
    ):
        return LifecycleError("; ".join(str(p) for p in items))
    return InputError(items)


def _validated(model: type[M], document: dict[str, Any], path: Path) -> M:
    try:
        return model.model_validate(document)
    except ValidationError as err:
        raise InputError(problems_from_validation(err, str(path))) from None


def _with_source(problems: Iterable[Problem], source: str) -> list[Problem]:
    return [replace(p, source=p.source or source) for p in problems]
