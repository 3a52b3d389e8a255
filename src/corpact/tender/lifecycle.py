"""The live offer as a fold over its journal events, and the rules each event must meet.

Pure: `OfferState.apply(event)` either changes the state and returns no problems, or returns
the problems and changes nothing. The store runs the same rules inside its append transaction
(as a guard), so a refused event is never written.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum

from pydantic import ValidationError

from corpact.errors import InputError, LifecycleError, Problem, check
from corpact.journal.events import JsonValue, NewEvent, StoredEvent
from corpact.tender.amendments import Amendment, terms_as_of
from corpact.tender.consistency import consistency_problems
from corpact.tender.instructions import (
    Instruction,
    InstructionLedger,
    Tender,
    instruction_from_payload,
)
from corpact.tender.terms import OfferTerms
from corpact.tender.terms_file import (
    AmendmentModel,
    OfferTermsModel,
    amendment_from_model,
    problems_from_validation,
    terms_from_model,
)


class Kind(StrEnum):
    LAUNCHED = "offer.launched"
    INSTRUCTION = "instruction.received"
    WITHDRAWAL = "instruction.withdrawn"
    AMENDED = "terms.amended"
    PRICED = "pricing.determined"
    CONDITION = "condition.decided"
    TERMINATED = "offer.terminated"
    ACCEPTED = "offer.accepted"
    SETTLED = "offer.settled"


class ConditionStatus(StrEnum):
    PENDING = "pending"
    SATISFIED = "satisfied"
    WAIVED = "waived"
    FAILED = "failed"


def stream_of(offer_id: str) -> str:
    return f"tender:{offer_id}"


@dataclass(frozen=True, slots=True)
class Milestone:
    at: datetime
    payload: Mapping[str, JsonValue]


@dataclass(slots=True)
class OfferState:
    """Everything the journal says about one offer, folded in journal order."""

    offer_id: str
    base_terms: OfferTerms | None = None
    amendments: list[Amendment] = field(default_factory=list)
    ledger: InstructionLedger | None = None
    conditions: dict[str, tuple[ConditionStatus, datetime | None, str]] = field(
        default_factory=dict
    )
    terminated: Milestone | None = None
    accepted: Milestone | None = None
    settled: Milestone | None = None
    last_milestone_at: datetime | None = None
    events: int = 0

    def terms_at(self, moment: datetime) -> OfferTerms:
        if self.base_terms is None:
            raise LifecycleError(f"offer {self.offer_id!r} was never created")
        return terms_as_of(self.base_terms, self.amendments, moment)

    def unmet_conditions(self) -> list[str]:
        return [
            cid
            for cid, (status, _, _) in self.conditions.items()
            if status not in {ConditionStatus.SATISFIED, ConditionStatus.WAIVED}
        ]

    def copy(self) -> OfferState:
        """An independent state for trial runs (records inside are immutable)."""
        return OfferState(
            self.offer_id,
            self.base_terms,
            list(self.amendments),
            None if self.ledger is None else self.ledger.copy(),
            dict(self.conditions),
            self.terminated,
            self.accepted,
            self.settled,
            self.last_milestone_at,
            self.events,
        )

    def offer_instruction(self, instruction: Instruction) -> list[Problem]:
        """The rules for one tender or withdrawal, keeping its file line in the problems."""
        if self.base_terms is None or self.ledger is None:
            return [_problem("offer-launched", f"offer {self.offer_id!r} was never created")]
        if self.ledger.is_resubmission(instruction):
            return []  # the same instruction again: harmless, as in the journal itself
        problems = _order_problems(self, "instruction", instruction.received_at)
        problems = problems or _closed(self, "an instruction")
        if problems:
            return [replace(p, line=instruction.line, source=self.ledger.source) for p in problems]
        problems = self.ledger.offer(instruction)
        if not problems:
            self.events += 1
        return problems

    def apply(self, kind: str, payload: Mapping[str, JsonValue], at: datetime) -> list[Problem]:
        """Apply one event; on problems nothing changes."""
        handler = _HANDLERS.get(kind)
        if handler is None:
            return [_problem("event-kind", f"unknown event kind {kind!r}", "kind")]
        if kind != Kind.LAUNCHED and self.base_terms is None:
            return [
                _problem("offer-launched", f"offer {self.offer_id!r} was never created", "offer")
            ]
        problems = _order_problems(self, kind, at) or handler(self, payload, at)
        if not problems:
            self.events += 1
            if kind not in {Kind.INSTRUCTION, Kind.WITHDRAWAL}:
                self.last_milestone_at = at
        return problems


def _problem(rule: str, message: str, field: str | None = None) -> Problem:
    return Problem(rule=rule, message=message, field=field)


def _order_problems(state: OfferState, kind: str, at: datetime) -> list[Problem]:
    """Time only moves forward past a milestone, so results "as of" a time stay reproducible."""
    if state.settled is not None:
        return [_problem("offer-open", "the offer is settled; nothing more can be recorded")]
    last = state.last_milestone_at
    if last is not None and at < last:
        return [
            _problem(
                "time-order",
                f"{kind} at {at.isoformat()} precedes the last recorded milestone "
                f"({last.isoformat()}); record events in time order",
                "at",
            )
        ]
    return []


def _closed(state: OfferState, what: str) -> list[Problem]:
    if state.accepted is not None:
        return [_problem("offer-open", f"{what} after acceptance is not allowed")]
    if state.terminated is not None:
        return [_problem("offer-open", f"{what} after the offer was terminated is not allowed")]
    return []


def _launch(state: OfferState, payload: Mapping[str, JsonValue], at: datetime) -> list[Problem]:
    if state.base_terms is not None:
        return [_problem("launch-once", f"offer {state.offer_id!r} already exists")]
    try:
        model = OfferTermsModel.model_validate(payload.get("terms"))
    except ValidationError as err:
        return problems_from_validation(err, "terms")
    if model.offer_id != state.offer_id:
        return [_problem("offer-id", f"terms are for {model.offer_id!r}", "offer_id")]
    if model.amendments:
        return [
            _problem(
                "launch-base-terms", "launch with base terms; amendments are events", "amendments"
            )
        ]
    try:
        terms, _ = terms_from_model(model, "terms")
    except InputError as err:
        return list(err.problems)
    state.base_terms = terms
    state.ledger = InstructionLedger(terms, ())
    state.conditions = {
        c.condition_id: (ConditionStatus.PENDING, None, "") for c in terms.conditions
    }
    return []


def _instruction(
    state: OfferState, payload: Mapping[str, JsonValue], at: datetime
) -> list[Problem]:
    closed = _closed(state, "an instruction")
    if closed or state.ledger is None or state.base_terms is None:
        return closed
    try:
        instruction = instruction_from_payload(payload, state.base_terms)
    except InputError as err:
        return list(err.problems)
    expected = type(instruction) is Tender
    if expected != (payload.get("action") == "tender"):
        return [_problem("event-payload", "event kind and instruction action disagree", "action")]
    return state.ledger.offer(instruction)


def _amend(state: OfferState, payload: Mapping[str, JsonValue], at: datetime) -> list[Problem]:
    closed = _closed(state, "an amendment")
    if closed or state.base_terms is None or state.ledger is None:
        return closed
    try:
        model = AmendmentModel.model_validate(payload)
    except ValidationError as err:
        return problems_from_validation(err, "amendment")
    try:
        amendment = amendment_from_model(
            model, state.base_terms.time_zone, "amendment", "amendment"
        )
    except InputError as err:
        return list(err.problems)
    if any(a.amendment_id == amendment.amendment_id for a in state.amendments):
        return [
            _problem("amendment-id-unique", f"amendment {amendment.amendment_id!r} exists", "id")
        ]
    if amendment.effective_at < at:
        return [
            _problem(
                "amendment-not-backdated",
                "an amendment cannot take effect before it is recorded",
                "effective_at",
            )
        ]
    problems = consistency_problems(state.base_terms, [amendment], "amendment")
    if problems:
        return problems
    state.amendments.append(amendment)
    state.ledger.amendments = tuple(state.amendments)
    return []


def _condition(state: OfferState, payload: Mapping[str, JsonValue], at: datetime) -> list[Problem]:
    closed = _closed(state, "a condition decision")
    if closed:
        return closed
    cid = str(payload.get("condition", ""))
    if cid not in state.conditions:
        known = ", ".join(state.conditions) or "none"
        return [
            _problem("condition-known", f"unknown condition {cid!r} (known: {known})", "condition")
        ]
    try:
        status = ConditionStatus(str(payload.get("status")))
    except ValueError:
        return [
            _problem("condition-status", "status must be satisfied, waived or failed", "status")
        ]
    if status is ConditionStatus.PENDING:
        return [
            _problem("condition-status", "status must be satisfied, waived or failed", "status")
        ]
    state.conditions[cid] = (status, at, str(payload.get("evidence", "")))
    return []


def _terminate(state: OfferState, payload: Mapping[str, JsonValue], at: datetime) -> list[Problem]:
    closed = _closed(state, "termination")
    if closed or state.base_terms is None or state.ledger is None:
        return closed
    series = payload.get("series") or []
    if not isinstance(series, list):
        return [_problem("terminate-series", "series must be a list", "series")]
    if series:
        known = state.base_terms.series_by_id()
        unknown = [s for s in series if s not in known]
        if unknown:
            return [_problem("series-known", f"unknown series {unknown}", "series")]
        state.amendments.append(
            Amendment(
                f"terminate-{at.isoformat()}",
                at,
                "series terminated",
                terminate_series=tuple(str(s) for s in series),
            )
        )
        state.ledger.amendments = tuple(state.amendments)
        return []
    state.terminated = Milestone(at, payload)
    return []


def _accept(state: OfferState, payload: Mapping[str, JsonValue], at: datetime) -> list[Problem]:
    closed = _closed(state, "acceptance")
    if closed:
        return closed
    unmet = state.unmet_conditions()
    if unmet:
        return [
            _problem(
                "conditions-met",
                f"conditions not satisfied or waived: {', '.join(unmet)}",
                "conditions",
            )
        ]
    expiration = state.terms_at(at).deadlines.expiration_at
    if at < expiration:
        return [
            _problem(
                "accept-after-expiration",
                f"acceptance at {at.isoformat()} precedes expiration {expiration.isoformat()}",
                "at",
            )
        ]
    state.accepted = Milestone(at, payload)
    return []


def _settle(state: OfferState, payload: Mapping[str, JsonValue], at: datetime) -> list[Problem]:
    if state.accepted is None:
        return [_problem("settle-after-acceptance", "settlement needs an accepted offer")]
    state.settled = Milestone(at, payload)
    return []


Handler = Callable[[OfferState, Mapping[str, JsonValue], datetime], list[Problem]]
_HANDLERS: dict[str, Handler] = {
    Kind.LAUNCHED: _launch,
    Kind.INSTRUCTION: _instruction,
    Kind.WITHDRAWAL: _instruction,
    Kind.AMENDED: _amend,
    Kind.PRICED: _amend,
    Kind.CONDITION: _condition,
    Kind.TERMINATED: _terminate,
    Kind.ACCEPTED: _accept,
    Kind.SETTLED: _settle,
}


def fold(offer_id: str, events: Iterable[StoredEvent | NewEvent]) -> OfferState:
    """The state after every event (stored events were valid when written)."""
    state = OfferState(offer_id)
    for event in events:
        problems = state.apply(event.kind, event.payload, event.recorded_at)
        # Every stored event passed these rules when it was written; failing now means the
        # rules changed under a live journal, which must stop everything, not be skipped.
        check(not problems, f"journal event {event.idempotency_key} no longer applies: {problems}")
    return state
