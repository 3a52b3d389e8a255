"""The meeting file (YAML): pydantic input models, presets, and conversion to domain records.

Structural errors (a malformed standard, an unknown class, a record date outside the legal
window) are `InputError`s naming the field and the rule; nothing is tabulated.
"""

from __future__ import annotations

import datetime as dt
import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from corpact.errors import InputError, Problem
from corpact.inputfiles import load_yaml, read_text
from corpact.meeting.model import (
    ABSTAIN,
    AGAINST,
    BALLOT_CHOICES,
    BROKER_NON_VOTE,
    FOR,
    NOT_VOTED,
    OUTSTANDING,
    Ballot,
    FailurePolicy,
    Meeting,
    Nominee,
    OverVotePolicy,
    Proposal,
    ProposalKind,
    QuorumRule,
    Rule,
    ShareClass,
    SplitAuthority,
    Standard,
    UnmarkedPolicy,
    VotingMode,
)
from corpact.meeting.standards import reverse_split_standard
from corpact.timeutil import parse_instant, zone

BucketName = Literal[
    "for", "against", "abstain", "broker_non_vote", "not_voted", "1_year", "2_years", "3_years"
]
PresetName = Literal[
    "votes_cast",
    "majority_of_votes_cast_with_resignation",
    "present_and_entitled",
    "present_at_meeting",
    "outstanding",
    "supermajority_of_outstanding",
    "plurality",
    "plurality_plus",
    "frequency",
    "dgcl_242_reverse_split",
]
FRACTION_PATTERN = r"^\d+(/\d+)?$|^\d*\.\d+$"
RATIO_PATTERN = re.compile(r"^(\d+)-for-(\d+)$")
SHARE_PLACES_MAX = 6
# Record-date windows in calendar days before the meeting (DGCL §213(a): 10 to 60).
RECORD_DATE_WINDOWS: dict[str, tuple[int, int]] = {"DE": (10, 60)}
# DGCL §216: a quorum may not be set below one third.
QUORUM_FLOORS: dict[str, Fraction] = {"DE": Fraction(1, 3)}

_PRESETS: dict[str, dict[str, Any]] = {
    "votes_cast": {"denominator": [FOR, AGAINST]},
    "majority_of_votes_cast_with_resignation": {
        "denominator": [FOR, AGAINST],
        "on_failure": "holdover_resignation",
    },
    "present_and_entitled": {"denominator": [FOR, AGAINST, ABSTAIN, NOT_VOTED]},
    "present_at_meeting": {"denominator": [FOR, AGAINST, ABSTAIN, NOT_VOTED, BROKER_NON_VOTE]},
    "outstanding": {"denominator": OUTSTANDING},
    "supermajority_of_outstanding": {"denominator": OUTSTANDING, "strict": False},
    "plurality": {"rule": "plurality", "threshold": "0"},
    "plurality_plus": {
        "rule": "plurality",
        "threshold": "0",
        "resignation_if_withheld_exceeds_for": True,
    },
    "frequency": {"rule": "frequency"},
}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class StandardSpec(_Strict):
    """A vote standard. Start from a `preset` and override any field, or spell it all out."""

    preset: PresetName | None = None
    rule: Literal["fraction", "plurality", "frequency"] | None = None
    numerator: list[BucketName] | None = None
    denominator: list[BucketName] | Literal["outstanding"] | None = None
    threshold: str | None = Field(default=None, pattern=FRACTION_PATTERN)
    strict: bool | None = None
    seats: int | None = Field(default=None, ge=1)
    classes: list[str] | None = None
    on_failure: Literal["none", "holdover_resignation"] | None = None
    resignation_if_withheld_exceeds_for: bool | None = None
    contested_rule: Literal["plurality"] | None = None
    also_require: list[StandardSpec] = Field(default_factory=list)
    any_of: list[StandardSpec] = Field(default_factory=list)
    source: str = ""


class ShareClassSpec(_Strict):
    id: str = Field(min_length=1)
    name: str = ""
    votes_per_share: str = Field(default="1", description="decimal; as-converted for preferred")
    note: str = ""


class NomineeSpec(_Strict):
    id: str = Field(min_length=1)
    name: str = Field(min_length=1)
    director_class: str | None = None
    term_ends: str | None = None
    incumbent: bool = True


class RangeSpec(_Strict):
    from_: str = Field(alias="from")
    to: str


class SplitAuthoritySpec(_Strict):
    ratios: list[str] | None = None
    range: RangeSpec | None = None
    expires_on: date | None = None
    delegate: str = "board"


class Dgcl242dSpec(_Strict):
    """Inputs of DGCL §242(d)(2) (reverse splits from 1 August 2023), with their evidence."""

    class_listed_before: bool
    meets_holder_rule_after: bool
    charter_opts_out: bool = False
    evidence: str = ""


class VotingSpec(_Strict):
    classes: list[str] = Field(min_length=1)
    mode: Literal["together", "separately", "both"] = "together"


class ProposalSpec(_Strict):
    id: str = Field(min_length=1)
    number: str | None = None
    kind: Literal[
        "director_election",
        "charter_amendment",
        "bylaw_amendment",
        "precatory",
        "say_on_pay",
        "say_on_frequency",
        "auditor_ratification",
        "reverse_split",
        "other",
    ]
    title: str = Field(min_length=1)
    routine: bool = Field(description="broker discretionary voting allowed (NYSE Rule 452)")
    routine_source: str = ""
    binding: bool = True
    proponent: Literal["board", "stockholder"] = "board"
    ballot: Literal["for_against_abstain", "for_against", "for_withhold", "frequency"] | None = None
    voting: VotingSpec
    standard: StandardSpec
    charter_standard: StandardSpec | None = None
    dgcl_242d: Dgcl242dSpec | None = None
    compare_under: list[StandardSpec] = Field(default_factory=list)
    recommendation: str | None = None
    nominees: list[NomineeSpec] = Field(default_factory=list)
    split_authority: SplitAuthoritySpec | None = None


class QuorumSpec(_Strict):
    fraction: str = Field(default="1/2", pattern=FRACTION_PATTERN)
    strict: bool = True
    source: str = ""


class RecordDateOverride(_Strict):
    reason: str = Field(min_length=1)


class MeetingFile(_Strict):
    """A stockholder meeting: when, who votes with how many votes, on what, under which rule."""

    # Part of every journal key of the meeting, which the journal caps at 512 characters.
    id: str = Field(min_length=1, max_length=64)
    issuer: str = Field(min_length=1)
    kind: Literal["annual", "special"]
    date: dt.date
    record_date: dt.date
    board_resolution_date: dt.date | None = None
    jurisdiction: str = Field(description="state of incorporation, e.g. DE")
    time_zone: str = "America/New_York"
    polls_close_at: str = Field(description="ISO 8601; local to time_zone without an offset")
    channel_cutoffs: dict[str, str] = Field(default_factory=dict)
    location: str = ""
    synthetic_notice: str | None = None
    inspector: str = ""
    record_date_window_days: tuple[int, int] | None = None
    record_date_override: RecordDateOverride | None = None
    quorum: QuorumSpec = QuorumSpec()
    over_vote_policy: Literal["prorate", "reject"] = "prorate"
    unmarked_policy: Literal["as_recommended", "not_voted"] = "as_recommended"
    classes: list[ShareClassSpec] = Field(min_length=1)
    proposals: list[ProposalSpec] = Field(min_length=1)


def parse_fraction(text: str) -> Fraction:
    return Fraction(text)


def _default_ballot(spec: ProposalSpec) -> Ballot:
    if spec.ballot is not None:
        return Ballot(spec.ballot)
    if spec.kind == "say_on_frequency":
        return Ballot.FREQUENCY
    if spec.kind == "director_election":
        return Ballot.FOR_WITHHOLD
    return Ballot.FOR_AGAINST_ABSTAIN


class _Converter:
    """Turns validated pydantic input into domain records, collecting every problem."""

    def __init__(self, source: str, file: MeetingFile) -> None:
        self.source = source
        self.file = file
        self.class_ids = [c.id for c in file.classes]
        self.problems: list[Problem] = []

    def problem(self, rule: str, message: str, field: str) -> None:
        self.problems.append(Problem(rule, message, source=self.source, field=field))

    def standard(self, spec: StandardSpec, where: str, seats_default: int = 1) -> Standard:
        merged: dict[str, Any] = dict(_PRESETS.get(spec.preset or "", {}))
        merged.update(spec.model_dump(exclude_none=True, exclude={"also_require", "any_of"}))
        rule = Rule(merged.get("rule", "fraction"))
        denominator = merged.get("denominator", [FOR, AGAINST])
        if spec.preset == "supermajority_of_outstanding" and spec.threshold is None:
            self.problem("standard-threshold", "a supermajority needs a threshold", where)
        classes = merged.get("classes")
        for class_id in classes or []:
            if class_id not in self.class_ids:
                self.problem("unknown-class", f"unknown class {class_id!r}", f"{where}.classes")
        threshold = parse_fraction(merged.get("threshold", "1/2"))
        if rule is Rule.FRACTION and not 0 <= threshold <= 1:
            self.problem("standard-threshold", "threshold must be within [0, 1]", where)
        return Standard(
            label=spec.preset or "custom",
            rule=rule,
            numerator=tuple(merged.get("numerator", [FOR])),
            denominator=(OUTSTANDING,) if denominator == OUTSTANDING else tuple(denominator),
            threshold=threshold,
            strict=bool(merged.get("strict", True)),
            seats=int(merged.get("seats", seats_default)),
            classes=tuple(classes) if classes is not None else None,
            on_failure=FailurePolicy(merged.get("on_failure", "none")),
            resignation_if_withheld_exceeds_for=bool(
                merged.get("resignation_if_withheld_exceeds_for", False)
            ),
            contested_rule=Rule.PLURALITY if merged.get("contested_rule") else None,
            also_require=tuple(
                self.standard(s, f"{where}.also_require[{i}]", seats_default)
                for i, s in enumerate(spec.also_require)
            ),
            any_of=tuple(
                self.standard(s, f"{where}.any_of[{i}]", seats_default)
                for i, s in enumerate(spec.any_of)
            ),
            source=spec.source,
        )

    def share_class(self, index: int, spec: ShareClassSpec) -> ShareClass:
        where = f"classes[{index}].votes_per_share"
        try:
            votes = Decimal(spec.votes_per_share)
        except InvalidOperation:
            votes = Decimal(-1)
        if not votes.is_finite() or votes < 0:
            self.problem("votes-per-share", "must be a decimal >= 0", where)
            votes = Decimal(0)
        elif -votes.as_tuple().exponent > SHARE_PLACES_MAX:  # type: ignore[operator]
            self.problem("votes-per-share", f"at most {SHARE_PLACES_MAX} decimal places", where)
        return ShareClass(spec.id, spec.name or spec.id, votes, spec.note)

    def proposal(self, index: int, spec: ProposalSpec) -> Proposal:
        where = f"proposals[{index}]"
        for class_id in spec.voting.classes:
            if class_id not in self.class_ids:
                self.problem(
                    "unknown-class", f"unknown class {class_id!r}", f"{where}.voting.classes"
                )
        ballot = _default_ballot(spec)
        is_election = spec.kind == "director_election"
        self._check_shape(spec, ballot, is_election, where)
        seats = max(1, len(spec.nominees))
        standard = self._proposal_standard(spec, where, seats)
        if standard.rule is Rule.FREQUENCY and ballot is not Ballot.FREQUENCY:
            self.problem("standard-rule", "the frequency rule needs a frequency ballot", where)
        if standard.rule is Rule.PLURALITY and not is_election:
            self.problem("standard-rule", "plurality applies to director elections", where)
        for class_id in standard.classes or ():
            if class_id not in spec.voting.classes:
                self.problem(
                    "standard-classes", f"class {class_id!r} does not vote on this proposal", where
                )
        return Proposal(
            proposal_id=spec.id,
            number=spec.number or str(index + 1),
            kind=ProposalKind(spec.kind),
            title=spec.title,
            routine=spec.routine,
            routine_source=spec.routine_source,
            binding=spec.binding,
            ballot=ballot,
            classes=tuple(spec.voting.classes),
            voting_mode=VotingMode(spec.voting.mode),
            standard=standard,
            recommendation=spec.recommendation,
            nominees=tuple(
                Nominee(n.id, n.name, n.director_class, n.term_ends, n.incumbent)
                for n in spec.nominees
            ),
            compare_under=tuple(
                self.standard(s, f"{where}.compare_under[{i}]", seats)
                for i, s in enumerate(spec.compare_under)
            ),
            split_authority=self._split_authority(spec, where),
            proponent=spec.proponent,
        )

    def _proposal_standard(self, spec: ProposalSpec, where: str, seats: int) -> Standard:
        if spec.standard.preset != "dgcl_242_reverse_split":
            return self.standard(spec.standard, f"{where}.standard", seats)
        if spec.kind != "reverse_split" or spec.dgcl_242d is None:
            self.problem(
                "standard-242d",
                "dgcl_242_reverse_split needs kind reverse_split and a dgcl_242d block",
                f"{where}.standard",
            )
            return self.standard(StandardSpec(preset="outstanding"), where, seats)
        charter = (
            self.standard(spec.charter_standard, f"{where}.charter_standard", seats)
            if spec.charter_standard
            else None
        )
        facts = spec.dgcl_242d
        return reverse_split_standard(
            self.file.date,
            class_listed_before=facts.class_listed_before,
            meets_holder_rule_after=facts.meets_holder_rule_after,
            charter_opts_out=facts.charter_opts_out,
            charter_standard=charter,
        )

    def _check_shape(self, spec: ProposalSpec, ballot: Ballot, election: bool, where: str) -> None:
        if election and not spec.nominees:
            self.problem("nominees", "a director election needs nominees", f"{where}.nominees")
        if not election and spec.nominees:
            self.problem("nominees", "only director elections have nominees", f"{where}.nominees")
        ids = [n.id for n in spec.nominees]
        if len(set(ids)) != len(ids):
            self.problem("nominees", "nominee ids must be unique", f"{where}.nominees")
        if spec.recommendation is not None and spec.recommendation not in BALLOT_CHOICES[ballot]:
            self.problem(
                "recommendation",
                f"{spec.recommendation!r} is not a choice on a {ballot.value} ballot",
                f"{where}.recommendation",
            )
        if spec.split_authority is not None and spec.kind != "reverse_split":
            self.problem("split-authority", "only reverse splits carry a split authority", where)

    def _split_authority(self, spec: ProposalSpec, where: str) -> SplitAuthority | None:
        auth = spec.split_authority
        if auth is None:
            return None
        if (auth.ratios is None) == (auth.range is None):
            self.problem(
                "split-authority", "give exactly one of ratios or range", f"{where}.split_authority"
            )
        texts = list(auth.ratios or []) + ([auth.range.from_, auth.range.to] if auth.range else [])
        for text in texts:
            if not RATIO_PATTERN.match(text):
                self.problem(
                    "split-ratio",
                    f"{text!r} is not '<new>-for-<old>' (e.g. 1-for-10)",
                    f"{where}.split_authority",
                )
        return SplitAuthority(
            ratios=tuple(auth.ratios) if auth.ratios is not None else None,
            ratio_range=(auth.range.from_, auth.range.to) if auth.range else None,
            expires_on=auth.expires_on,
            delegate=auth.delegate,
        )

    def record_date_warnings(self) -> tuple[str, ...]:
        file = self.file
        window = file.record_date_window_days or RECORD_DATE_WINDOWS.get(file.jurisdiction)
        broken: list[str] = []
        days: int = (file.date - file.record_date).days
        if window is not None and not window[0] <= days <= window[1]:
            broken.append(
                f"record date is {days} days before the meeting; {file.jurisdiction} allows "
                f"{window[0]} to {window[1]}"
            )
        if window is None and days < 0:
            broken.append("record date is after the meeting")
        if file.board_resolution_date and file.record_date < file.board_resolution_date:
            broken.append("record date precedes the board resolution fixing it")
        if not broken:
            return ()
        if file.record_date_override is None:
            for message in broken:
                self.problem("record-date", message, "record_date")
            return ()
        reason = file.record_date_override.reason
        return tuple(f"{m} (overridden: {reason})" for m in broken)

    def quorum(self) -> QuorumRule:
        fraction = parse_fraction(self.file.quorum.fraction)
        floor = QUORUM_FLOORS.get(self.file.jurisdiction)
        if floor is not None and fraction < floor:
            self.problem(
                "quorum-floor",
                f"{self.file.jurisdiction} does not allow a quorum below {floor}",
                "quorum.fraction",
            )
        if fraction > 1:
            self.problem("quorum-fraction", "quorum cannot exceed 1", "quorum.fraction")
        return QuorumRule(fraction, self.file.quorum.strict, self.file.quorum.source)

    def instants(self) -> tuple[datetime, tuple[tuple[str, datetime], ...]]:
        tz = zone(self.file.time_zone, field="time_zone", source=self.source)
        close = parse_instant(
            self.file.polls_close_at, tz, field="polls_close_at", source=self.source
        )
        cutoffs = tuple(
            (channel, parse_instant(text, tz, field=f"channel_cutoffs.{channel}"))
            for channel, text in sorted(self.file.channel_cutoffs.items())
        )
        return close, cutoffs

    def meeting(self) -> Meeting:
        file = self.file
        if len(set(self.class_ids)) != len(self.class_ids):
            self.problem("classes", "class ids must be unique", "classes")
        proposal_ids = [p.id for p in file.proposals]
        if len(set(proposal_ids)) != len(proposal_ids):
            self.problem("proposals", "proposal ids must be unique", "proposals")
        classes = tuple(self.share_class(i, c) for i, c in enumerate(file.classes))
        proposals = tuple(self.proposal(i, p) for i, p in enumerate(file.proposals))
        quorum = self.quorum()
        warnings = self.record_date_warnings()
        close, cutoffs = self.instants()
        if self.problems:
            raise InputError(self.problems)
        return Meeting(
            meeting_id=file.id,
            issuer=file.issuer,
            kind=file.kind,
            meeting_date=file.date,
            record_date=file.record_date,
            jurisdiction=file.jurisdiction,
            time_zone=file.time_zone,
            polls_close_at=close,
            channel_cutoffs=cutoffs,
            location=file.location,
            classes=classes,
            quorum=quorum,
            proposals=proposals,
            over_vote_policy=OverVotePolicy(file.over_vote_policy),
            unmarked_policy=UnmarkedPolicy(file.unmarked_policy),
            synthetic_notice=file.synthetic_notice,
            inspector=file.inspector,
            warnings=warnings,
        )


def meeting_from_dict(data: object, source: str = "meeting file") -> Meeting:
    try:
        file = MeetingFile.model_validate(data)
    except ValidationError as err:
        raise InputError(
            Problem(
                "meeting-file",
                e["msg"],
                source=source,
                field=".".join(str(part) for part in e["loc"]) or None,
            )
            for e in err.errors()
        ) from None
    return _Converter(source, file).meeting()


def load_meeting(path: str | Path) -> Meeting:
    """Read and check a meeting file (YAML); raise `InputError` listing every problem."""
    source = Path(path).name
    try:
        data = load_yaml(read_text(path, source))
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        raise InputError.single(
            "yaml", f"not valid YAML: {err}", source=source, line=line
        ) from None
    return meeting_from_dict(data, source)


def meeting_json_schema() -> dict[str, Any]:
    return MeetingFile.model_json_schema()
