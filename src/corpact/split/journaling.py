"""A split execution on the journal: one `split.executed` event per authority, ever.

Stream `split:<authority id>`; the idempotency key is derived from the authority and the
resolution, so re-running the same execution is harmless (`exists`), the same resolution with
another outcome is a `ConflictError`, and a second execution of the authority (another
resolution) is refused by the guard, inside the append transaction, with nothing written.

When the authority was granted by a meeting kept on the same journal (stream
`meeting:<meeting id>`), its results must be certified there and the certified outcome of the
proposal must be "passed".
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, cast

from corpact.errors import LifecycleError, Problem
from corpact.journal.events import JsonValue, NewEvent, Receipt, StoredEvent
from corpact.split.result import EVENT_KIND, SplitResult
from corpact.split.terms import SplitAuthority, SplitTerms
from corpact.store import JournalStore
from corpact.timeutil import fixed_offset

MEETING_CERTIFIED = "results.certified"


def stream_of(authority_id: str) -> str:
    return f"split:{authority_id}"


def execution_key(terms: SplitTerms) -> str:
    res = terms.resolution
    return f"{terms.authority.id}:executed:{terms.ratio}:{res.decided_on.isoformat()}"


def execution_problems(prior: Sequence[StoredEvent], authority_id: str) -> list[Problem]:
    """Why the authority may not be exercised again, given its stream (empty: it may)."""
    return [
        Problem(
            "authority-exercised",
            f"authority {authority_id!r} was already exercised: {event.payload.get('ratio')} "
            f"effective {event.payload.get('effective_at')}, journal entry #{event.index} "
            f"(key {event.idempotency_key}); a split authority is single-use",
        )
        for event in prior
        if event.kind == EVENT_KIND and event.payload.get("authority_id") == authority_id
    ]


def certification_problems(
    authority: SplitAuthority, meeting_events: Sequence[StoredEvent]
) -> list[Problem]:
    """A meeting kept on this journal must have certified the proposal as passed."""
    if authority.meeting_id is None or not meeting_events:
        return []
    certified = [e for e in meeting_events if e.kind == MEETING_CERTIFIED]
    if not certified:
        return [
            Problem(
                "meeting-certified",
                f"meeting {authority.meeting_id!r} is on this journal but its results are not "
                "certified; certify them before exercising its authority",
            )
        ]
    outcomes = cast(Mapping[str, Any], certified[-1].payload.get("outcomes") or {})
    outcome = outcomes.get(authority.proposal_id or "")
    if not isinstance(outcome, Mapping) or outcome.get("passed") is not True:
        return [
            Problem(
                "meeting-certified",
                f"the certified results of meeting {authority.meeting_id!r} do not show "
                f"proposal {authority.proposal_id!r} as passed (journal entry "
                f"#{certified[-1].index})",
            )
        ]
    return []


def execution_event(result: SplitResult) -> NewEvent:
    terms = result.terms
    payload = cast(dict[str, JsonValue], result.event.to_payload())
    return NewEvent(
        stream_of(terms.authority.id),
        EVENT_KIND,
        payload,
        execution_key(terms),
        fixed_offset(terms.resolution.effective_at),
    )


class SplitDesk:
    """Records split executions on a journal."""

    def __init__(self, store: JournalStore) -> None:
        self.store = store

    def execute(self, result: SplitResult) -> Receipt:
        """Append the `split.executed` event; refused (nothing written) if the authority was
        exercised before or its meeting on this journal did not certify it."""
        authority = result.terms.authority
        if authority.meeting_id is not None:
            meeting_events = self.store.events(f"meeting:{authority.meeting_id}")
            problems = certification_problems(authority, meeting_events)
            if problems:
                raise LifecycleError("; ".join(p.message for p in problems))
        event = execution_event(result)
        return self.store.append([event], _guard(authority.id))[0]

    def executions(self, authority_id: str) -> list[StoredEvent]:
        return [e for e in self.store.events(stream_of(authority_id)) if e.kind == EVENT_KIND]


def _guard(authority_id: str) -> Callable[[Sequence[StoredEvent], Sequence[NewEvent]], None]:
    stream = stream_of(authority_id)

    def guard(prior: Sequence[StoredEvent], new: Sequence[NewEvent]) -> None:
        problems = execution_problems([e for e in prior if e.stream == stream], authority_id)
        if problems:
            raise LifecycleError("; ".join(p.message for p in problems))

    return guard
