"""Domain records of a stockholder meeting: classes, proposals, vote standards as data.

Everything here is immutable and validated on construction by the meeting-file loader; the
tabulation reads these records only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction


class ProposalKind(StrEnum):
    DIRECTOR_ELECTION = "director_election"
    CHARTER_AMENDMENT = "charter_amendment"
    BYLAW_AMENDMENT = "bylaw_amendment"
    PRECATORY = "precatory"
    SAY_ON_PAY = "say_on_pay"
    SAY_ON_FREQUENCY = "say_on_frequency"
    AUDITOR_RATIFICATION = "auditor_ratification"
    REVERSE_SPLIT = "reverse_split"
    OTHER = "other"


class Ballot(StrEnum):
    """The boxes on the card; decides which choices are allowed and how columns are labelled."""

    FOR_AGAINST_ABSTAIN = "for_against_abstain"
    FOR_AGAINST = "for_against"
    FOR_WITHHOLD = "for_withhold"
    FREQUENCY = "frequency"


class VotingMode(StrEnum):
    """How the entitled classes vote: one combined count, each class apart, or both tests."""

    TOGETHER = "together"
    SEPARATELY = "separately"
    BOTH = "both"


class Rule(StrEnum):
    FRACTION = "fraction"
    PLURALITY = "plurality"
    FREQUENCY = "frequency"


class FailurePolicy(StrEnum):
    """What a director who fails the standard does (majority voting with resignation)."""

    NONE = "none"
    HOLDOVER_RESIGNATION = "holdover_resignation"


# Tally buckets. Withheld votes are counted in AGAINST (the 8-K labels them per ballot).
FOR = "for"
AGAINST = "against"
ABSTAIN = "abstain"
BROKER_NON_VOTE = "broker_non_vote"
NOT_VOTED = "not_voted"
FREQUENCY_CHOICES = ("1_year", "2_years", "3_years")
BINARY_BUCKETS = (FOR, AGAINST, ABSTAIN, BROKER_NON_VOTE, NOT_VOTED)
FREQUENCY_BUCKETS = (*FREQUENCY_CHOICES, ABSTAIN, BROKER_NON_VOTE, NOT_VOTED)
OUTSTANDING = "outstanding"
# A choice on the card -> the bucket it is counted in.
CHOICE_BUCKET = {
    "for": FOR,
    "against": AGAINST,
    "withhold": AGAINST,
    "abstain": ABSTAIN,
    "1_year": "1_year",
    "2_years": "2_years",
    "3_years": "3_years",
    "broker_non_vote": BROKER_NON_VOTE,
}
BALLOT_CHOICES: dict[Ballot, tuple[str, ...]] = {
    Ballot.FOR_AGAINST_ABSTAIN: ("for", "against", "abstain"),
    Ballot.FOR_AGAINST: ("for", "against"),
    Ballot.FOR_WITHHOLD: ("for", "withhold"),
    Ballot.FREQUENCY: ("1_year", "2_years", "3_years", "abstain"),
}


@dataclass(frozen=True, slots=True)
class ShareClass:
    class_id: str
    name: str
    votes_per_share: Decimal
    note: str = ""


@dataclass(frozen=True, slots=True)
class Standard:
    """A vote standard as data: `numerator / denominator` compared with `threshold`.

    `denominator` is a tuple of buckets or `("outstanding",)`; `strict` means the share must
    exceed the threshold ("majority", "more than"), otherwise reach it ("at least").
    The whole standard passes iff (own test and every `also_require`) or any of `any_of`.
    """

    label: str
    rule: Rule
    numerator: tuple[str, ...] = (FOR,)
    denominator: tuple[str, ...] = (FOR, AGAINST)
    threshold: Fraction = Fraction(1, 2)
    strict: bool = True
    seats: int = 1
    classes: tuple[str, ...] | None = None
    on_failure: FailurePolicy = FailurePolicy.NONE
    resignation_if_withheld_exceeds_for: bool = False
    contested_rule: Rule | None = None
    also_require: tuple[Standard, ...] = ()
    any_of: tuple[Standard, ...] = ()
    source: str = ""

    def describe(self) -> str:
        if self.rule is Rule.PLURALITY:
            return f"plurality of votes cast, {self.seats} seat(s)"
        if self.rule is Rule.FREQUENCY:
            return "plurality among frequencies (advisory)"
        compare = "more than" if self.strict else "at least"
        over = (
            "votes outstanding"
            if self.denominator == (OUTSTANDING,)
            else "(" + " + ".join(self.denominator) + ")"
        )
        classes = f" [classes: {', '.join(self.classes)}]" if self.classes else ""
        return f"{' + '.join(self.numerator)} {compare} {self.threshold} of {over}{classes}"

    def to_json_dict(self) -> dict[str, object]:
        return {
            "label": self.label,
            "rule": self.rule.value,
            "numerator": list(self.numerator),
            "denominator": (
                OUTSTANDING if self.denominator == (OUTSTANDING,) else list(self.denominator)
            ),
            "threshold": str(self.threshold),
            "strict": self.strict,
            "seats": self.seats,
            "classes": list(self.classes) if self.classes is not None else None,
            "on_failure": self.on_failure.value,
            "resignation_if_withheld_exceeds_for": self.resignation_if_withheld_exceeds_for,
            "contested_rule": self.contested_rule.value if self.contested_rule else None,
            "also_require": [s.to_json_dict() for s in self.also_require],
            "any_of": [s.to_json_dict() for s in self.any_of],
            "source": self.source,
            "description": self.describe(),
        }


@dataclass(frozen=True, slots=True)
class Nominee:
    nominee_id: str
    name: str
    director_class: str | None = None
    term_ends: str | None = None
    incumbent: bool = True


@dataclass(frozen=True, slots=True)
class SplitAuthority:
    """Board authority to effect a reverse split; `ratios` xor `ratio_range` is set."""

    ratios: tuple[str, ...] | None
    ratio_range: tuple[str, str] | None
    expires_on: date | None
    delegate: str

    def to_json_dict(self) -> dict[str, object]:
        return {
            "ratios": list(self.ratios) if self.ratios is not None else None,
            "range": (
                {"from": self.ratio_range[0], "to": self.ratio_range[1]}
                if self.ratio_range
                else None
            ),
            "expires_on": self.expires_on.isoformat() if self.expires_on else None,
            "delegate": self.delegate,
        }


@dataclass(frozen=True, slots=True)
class Proposal:
    proposal_id: str
    number: str
    kind: ProposalKind
    title: str
    routine: bool
    routine_source: str
    binding: bool
    ballot: Ballot
    classes: tuple[str, ...]
    voting_mode: VotingMode
    standard: Standard
    recommendation: str | None
    nominees: tuple[Nominee, ...] = ()
    compare_under: tuple[Standard, ...] = ()
    split_authority: SplitAuthority | None = None
    proponent: str = "board"

    @property
    def is_election(self) -> bool:
        return self.kind is ProposalKind.DIRECTOR_ELECTION

    @property
    def item_ids(self) -> tuple[str, ...]:
        """Counted items: one per nominee in an election, else the proposal itself ("")."""
        return tuple(n.nominee_id for n in self.nominees) if self.is_election else ("",)

    @property
    def allowed_choices(self) -> tuple[str, ...]:
        return BALLOT_CHOICES[self.ballot]

    @property
    def buckets(self) -> tuple[str, ...]:
        return FREQUENCY_BUCKETS if self.ballot is Ballot.FREQUENCY else BINARY_BUCKETS

    @property
    def against_label(self) -> str:
        return "withheld" if self.ballot is Ballot.FOR_WITHHOLD else "against"


@dataclass(frozen=True, slots=True)
class QuorumRule:
    fraction: Fraction
    strict: bool
    source: str = ""

    def describe(self) -> str:
        compare = "more than" if self.strict else "at least"
        return f"voting power present {compare} {self.fraction} of voting power outstanding"


class OverVotePolicy(StrEnum):
    PRORATE = "prorate"
    REJECT = "reject"


class UnmarkedPolicy(StrEnum):
    """A registered holder's valid proxy that leaves an item blank."""

    AS_RECOMMENDED = "as_recommended"
    NOT_VOTED = "not_voted"


@dataclass(frozen=True, slots=True)
class Meeting:
    meeting_id: str
    issuer: str
    kind: str
    meeting_date: date
    record_date: date
    jurisdiction: str
    time_zone: str
    polls_close_at: datetime
    channel_cutoffs: tuple[tuple[str, datetime], ...]
    location: str
    classes: tuple[ShareClass, ...]
    quorum: QuorumRule
    proposals: tuple[Proposal, ...]
    over_vote_policy: OverVotePolicy = OverVotePolicy.PRORATE
    unmarked_policy: UnmarkedPolicy = UnmarkedPolicy.AS_RECOMMENDED
    synthetic_notice: str | None = None
    inspector: str = ""
    warnings: tuple[str, ...] = field(default=())

    def share_class(self, class_id: str) -> ShareClass:
        for share_class in self.classes:
            if share_class.class_id == class_id:
                return share_class
        raise KeyError(class_id)

    def proposal(self, proposal_id: str) -> Proposal:
        for proposal in self.proposals:
            if proposal.proposal_id == proposal_id:
                return proposal
        raise KeyError(proposal_id)
