"""The certified result of a meeting and the inspector's findings, as immutable records."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from typing import Any, NamedTuple, overload

import pyarrow as pa

from corpact.errors import check
from corpact.meeting.model import Meeting, Nominee, Proposal
from corpact.meeting.register import SHARES_RULE
from corpact.meeting.standards import (
    JSON_PERCENT_PLACES,
    TestResult,
    percent_string,
    percent_text,
)

REASONS = {
    "bad_time": "execution time is not an ISO 8601 date-time",
    "missing_field": "instruction id or voter is empty",
    "unknown_channel": "channel is not one of proxy_card, internet, telephone, in_person, nominee",
    "inconsistent_instruction": "lines of one instruction disagree on voter, time, channel "
    "or class",
    "unknown_voter": "voter is not a holder on the record-date register",
    "no_position_in_class": "voter holds no shares of the class named",
    "after_polls_closed": "executed after the polls (or the channel's cut-off) closed",
    "conflicting_same_time": "another instruction for the position has the same time and a "
    "different content; neither counts",
    "bad_shares": f"quantity is {SHARES_RULE}",
    "bad_flag": "discretionary flag is not true/false",
    "unknown_proposal": "no such proposal on the agenda",
    "unknown_nominee": "no such nominee for this proposal (or a nominee on a non-election item)",
    "class_not_entitled": "the voter's class does not vote on this proposal",
    "choice_not_allowed": "the ballot for this proposal does not offer this choice",
    "negative_shares": "quantity is negative",
    "discretion_not_nominee": "only a nominee can cast broker discretionary votes",
    "discretionary_on_non_routine": "broker discretionary votes count on routine matters only",
    "overmarked": "more than one choice marked for the full position on one item",
    "over_vote": "more votes reported than the record-date position (rejected by policy)",
}


# What a rejection refuses: a whole instruction, or one line of an instruction counted otherwise.
LEVELS = ("instruction", "line")


@dataclass(frozen=True, slots=True)
class Rejection:
    """One rejected instruction or line, with its reason code and the evidence cited."""

    level: str  # one of LEVELS
    reason: str
    instruction_id: str
    line_no: int
    voter: str
    class_id: str = ""
    proposal_id: str = ""
    item_id: str = ""
    choice: str = ""
    shares: Decimal | None = None
    detail: str = ""

    @property
    def explanation(self) -> str:
        return REASONS.get(self.reason, self.reason)

    def to_json_dict(self, source: str) -> dict[str, Any]:
        return {
            "level": self.level,
            "reason": self.reason,
            "explanation": self.explanation,
            "detail": self.detail or None,
            "instruction_id": self.instruction_id,
            "evidence": {"source": source, "line": self.line_no},
            "voter": self.voter,
            "class": self.class_id or None,
            "proposal": self.proposal_id or None,
            "nominee": self.item_id or None,
            "choice": self.choice or None,
            "shares": self.shares,
        }


class Revocation(NamedTuple):
    """An instruction that did not count because another one for the same position did.
    (A named tuple: a large meeting revokes hundreds of thousands, built in one go.)"""

    instruction_id: str
    voter: str
    class_id: str
    channel: str
    superseded_by: str | None
    reason: str

    def to_json_dict(self) -> dict[str, Any]:
        return {
            "instruction_id": self.instruction_id,
            "voter": self.voter,
            "class": self.class_id,
            "channel": self.channel,
            "superseded_by": self.superseded_by,
            "reason": self.reason,
        }


@dataclass(frozen=True, slots=True)
class Adjustment:
    """An over-vote cut back pro rata: reported vs entitled, before and after, per choice."""

    voter: str
    class_id: str
    proposal_id: str
    item_id: str
    policy: str
    entitled: Decimal
    reported_total: Decimal
    reported: tuple[tuple[str, Decimal], ...]
    counted: tuple[tuple[str, Decimal], ...]
    quantum: Decimal
    instructions: tuple[str, ...]
    lines: tuple[int, ...]

    def to_json_dict(self, source: str) -> dict[str, Any]:
        return {
            "voter": self.voter,
            "class": self.class_id,
            "proposal": self.proposal_id,
            "nominee": self.item_id or None,
            "policy": self.policy,
            "entitled": self.entitled,
            "reported_total": self.reported_total,
            "reported": dict(self.reported),
            "counted": dict(self.counted),
            "rounding": f"largest remainder in steps of {self.quantum}",
            "evidence": {
                "source": source,
                "instructions": list(self.instructions),
                "lines": list(self.lines),
            },
        }


@dataclass(frozen=True, slots=True)
class ClassSummary:
    class_id: str
    name: str
    votes_per_share: Decimal
    outstanding_shares: Decimal
    outstanding_votes: Decimal
    present_shares: Decimal
    present_votes: Decimal
    holders: int

    def to_json_dict(self) -> dict[str, Any]:
        return {
            "class": self.class_id,
            "name": self.name,
            "votes_per_share": self.votes_per_share,
            "outstanding_shares": self.outstanding_shares,
            "outstanding_votes": self.outstanding_votes,
            "present_shares": self.present_shares,
            "present_votes": self.present_votes,
            "record_holders": self.holders,
        }


@dataclass(frozen=True, slots=True)
class QuorumResult:
    description: str
    fraction: Fraction
    strict: bool
    present_votes: Decimal
    outstanding_votes: Decimal
    passed: bool
    evaluated_at: str
    source: str

    @property
    def percent(self) -> Fraction | None:
        if self.outstanding_votes == 0:
            return None
        return 100 * Fraction(self.present_votes) / Fraction(self.outstanding_votes)

    def to_json_dict(self) -> dict[str, Any]:
        return {
            "rule": self.description,
            "fraction": str(self.fraction),
            "strict": self.strict,
            "present_votes": self.present_votes,
            "outstanding_votes": self.outstanding_votes,
            "percent_present": percent_text(self.percent),
            "passed": self.passed,
            "evaluated_at": self.evaluated_at,
            "source": self.source or None,
        }


@dataclass(frozen=True, slots=True)
class Tally:
    """Voting power by bucket for one item (a proposal, or one nominee), all classes combined."""

    votes: tuple[tuple[str, Decimal], ...]
    present: Decimal
    outstanding: Decimal
    by_class: tuple[tuple[str, tuple[tuple[str, Decimal], ...]], ...] = ()

    def get(self, bucket: str) -> Decimal:
        return dict(self.votes).get(bucket, Decimal(0))

    def to_json_dict(self) -> dict[str, Any]:
        return {
            **dict(self.votes),
            "present": self.present,
            "outstanding": self.outstanding,
            "by_class": {c: dict(v) for c, v in self.by_class},
        }


@dataclass(frozen=True, slots=True)
class NomineeResult:
    nominee: Nominee
    tally: Tally
    elected: bool
    tied: bool
    holdover: bool
    resignation_required: bool
    test: TestResult

    def to_json_dict(self) -> dict[str, Any]:
        return {
            "id": self.nominee.nominee_id,
            "name": self.nominee.name,
            "director_class": self.nominee.director_class,
            "term_ends": self.nominee.term_ends,
            "incumbent": self.nominee.incumbent,
            "tally": self.tally.to_json_dict(),
            "elected": self.elected,
            "tied_for_last_seat": self.tied,
            "holdover": self.holdover,
            "resignation_required": self.resignation_required,
            "percent_of_votes_cast": percent_string(self.test.percent),
            "percent_for": percent_text(self.test.percent, JSON_PERCENT_PLACES),
            "test": self.test.to_json_dict(),
        }


@dataclass(frozen=True, slots=True)
class ProposalResult:
    proposal: Proposal
    passed: bool
    outcome: str
    tally: Tally | None
    test: TestResult | None
    class_tests: tuple[TestResult, ...] = ()
    comparisons: tuple[TestResult, ...] = ()
    nominees: tuple[NomineeResult, ...] = ()
    frequency_winner: str | None = None
    frequency_tie: tuple[str, ...] = ()
    quorum_met: bool = True

    def to_json_dict(self) -> dict[str, Any]:
        p = self.proposal
        return {
            "id": p.proposal_id,
            "number": p.number,
            "kind": p.kind.value,
            "title": p.title,
            "routine": p.routine,
            "routine_source": p.routine_source or None,
            "binding": p.binding,
            "proponent": p.proponent,
            "ballot": p.ballot.value,
            "voting": {"classes": list(p.classes), "mode": p.voting_mode.value},
            "standard": p.standard.to_json_dict(),
            "passed": self.passed,
            "outcome": self.outcome,
            "quorum_met": self.quorum_met,
            "tally": self.tally.to_json_dict() if self.tally else None,
            "percent_for": (
                percent_text(self.test.percent, JSON_PERCENT_PLACES) if self.test else None
            ),
            "percent_for_4dp": percent_string(self.test.percent) if self.test else None,
            "test": self.test.to_json_dict() if self.test else None,
            "class_tests": [t.to_json_dict() for t in self.class_tests],
            "compare_under": [t.to_json_dict() for t in self.comparisons],
            "nominees": [n.to_json_dict() for n in self.nominees],
            "frequency": (
                {"winner": self.frequency_winner, "tied": list(self.frequency_tie)}
                if p.ballot.value == "frequency"
                else None
            ),
            "split_authority": p.split_authority.to_json_dict() if p.split_authority else None,
            "recommendation_only": not p.binding,
        }


class Revocations(Sequence[Revocation]):
    """The revocations of a tabulation, kept as the Arrow columns the pipeline produced
    (`Revocation` field order) and made into `Revocation` tuples only when first read: a large
    meeting revokes hundreds of thousands of instructions that a caller may only count."""

    __slots__ = ("_rows", "_table")

    def __init__(self, table: pa.Table) -> None:
        check(
            tuple(table.column_names) == Revocation._fields,
            "revocation columns out of order",
        )
        self._table = table
        self._rows: tuple[Revocation, ...] | None = None

    @classmethod
    def of(cls, rows: Iterable[Revocation]) -> Revocations:
        items = list(rows)
        columns = {name: [r[n] for r in items] for n, name in enumerate(Revocation._fields)}
        return cls(pa.table(columns, schema=REVOCATION_SCHEMA))

    def rows(self) -> tuple[Revocation, ...]:
        if self._rows is None:
            columns = [column.to_pylist() for column in self._table.columns]
            self._rows = tuple(map(Revocation, *columns))
        return self._rows

    def __len__(self) -> int:
        count: int = self._table.num_rows
        return count

    @overload
    def __getitem__(self, index: int) -> Revocation: ...

    @overload
    def __getitem__(self, index: slice) -> tuple[Revocation, ...]: ...

    def __getitem__(self, index: int | slice) -> Revocation | tuple[Revocation, ...]:
        return self.rows()[index]

    def __iter__(self) -> Iterator[Revocation]:
        return iter(self.rows())

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Revocations):
            same: bool = self._table.equals(other._table)
            return same
        if isinstance(other, tuple | list):
            return self.rows() == tuple(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  # compared by content, like a list

    def __repr__(self) -> str:
        return f"Revocations({len(self)} rows)"


REVOCATION_SCHEMA = pa.schema([(name, pa.string()) for name in Revocation._fields])


@dataclass(frozen=True, slots=True)
class MeetingResult:
    meeting: Meeting
    register_source: str
    register_hash: str
    votes_source: str
    lines_received: int
    classes: tuple[ClassSummary, ...]
    quorum: QuorumResult
    proposals: tuple[ProposalResult, ...]
    rejections: tuple[Rejection, ...]
    revocations: Revocations
    adjustments: tuple[Adjustment, ...]
    warnings: tuple[str, ...] = field(default=())

    def proposal(self, proposal_id: str) -> ProposalResult:
        for result in self.proposals:
            if result.proposal.proposal_id == proposal_id:
                return result
        raise KeyError(proposal_id)

    def to_json_dict(self) -> dict[str, Any]:
        m = self.meeting
        return {
            "meeting": {
                "id": m.meeting_id,
                "issuer": m.issuer,
                "kind": m.kind,
                "date": m.meeting_date.isoformat(),
                "record_date": m.record_date.isoformat(),
                "jurisdiction": m.jurisdiction,
                "location": m.location or None,
                "polls_close_at": m.polls_close_at.isoformat(),
                "inspector": m.inspector or None,
                "synthetic_notice": m.synthetic_notice,
            },
            "register": {"source": self.register_source, "sha256": self.register_hash},
            "votes": {"source": self.votes_source, "lines_received": self.lines_received},
            "policies": {
                "over_vote": m.over_vote_policy.value,
                "unmarked_items": m.unmarked_policy.value,
            },
            "classes": [c.to_json_dict() for c in self.classes],
            "quorum": self.quorum.to_json_dict(),
            "proposals": [p.to_json_dict() for p in self.proposals],
            "report": {
                "rejections": [r.to_json_dict(self.votes_source) for r in self.rejections],
                "revocations": [r.to_json_dict() for r in self.revocations],
                "adjustments": [a.to_json_dict(self.votes_source) for a in self.adjustments],
                "warnings": list(self.warnings),
            },
        }
