"""`tabulate(meeting, register, votes)`: pure function from inputs to the certified result.

The relational stages (`pipeline`) reduce millions of lines to per-class, per-item totals in
shares; this module turns those into voting power, derives broker non-votes and not-voted
shares by subtraction, and applies each proposal's standard with exact `Fraction` arithmetic.
"""

from __future__ import annotations

import decimal
from collections.abc import Sequence
from dataclasses import replace
from decimal import Decimal
from fractions import Fraction
from typing import Any

from corpact.errors import InputError, Problem, check
from corpact.meeting.model import (
    AGAINST,
    BROKER_NON_VOTE,
    CHOICE_BUCKET,
    FOR,
    FREQUENCY_CHOICES,
    NOT_VOTED,
    FailurePolicy,
    Meeting,
    Proposal,
    Rule,
    Standard,
    UnmarkedPolicy,
    VotingMode,
)
from corpact.meeting.pipeline import Q_BUCKETS, Stage, run_stages
from corpact.meeting.register import Register
from corpact.meeting.result import (
    REVOCATION_SCHEMA,
    Adjustment,
    ClassSummary,
    MeetingResult,
    NomineeResult,
    ProposalResult,
    QuorumResult,
    Rejection,
    Revocation,
    Revocations,
    Tally,
)
from corpact.meeting.standards import (
    TestResult,
    compare,
    evaluate,
    frequency_winner,
    plurality,
)
from corpact.meeting.votes import VoteBook
from corpact.money import DECIMAL_CONTEXT

ZERO = Decimal(0)
SharesByKey = dict[tuple[str, str, str, str], dict[str, Any]]


def tabulate(meeting: Meeting, register: Register, votes: VoteBook) -> MeetingResult:
    """Certified result of `meeting` from the record-date `register` and every instruction."""
    _check_register(meeting, register)
    stage = run_stages(meeting, register, votes)
    _check_voting_power(meeting, stage)
    return _Assembler(meeting, stage).result(register, votes)


def _check_register(meeting: Meeting, register: Register) -> None:
    known = {c.class_id for c in meeting.classes}
    unknown = sorted(register.class_ids - known)
    if unknown:
        raise InputError(
            Problem(
                "register-class",
                f"class {c!r} is not defined in the meeting file",
                source=register.source,
                field="class",
            )
            for c in unknown
        )


def _check_voting_power(meeting: Meeting, stage: Stage) -> None:
    """Voting power (shares x votes per share) is exact in the 38-digit context for every class
    and for all of them together; every total counted is at most these, so all are exact."""
    exact = DECIMAL_CONTEXT.copy()
    exact.traps[decimal.Inexact] = True
    outstanding = {r["class_id"]: r["outstanding"] or ZERO for r in stage.outstanding_by_class}
    problems: list[Problem] = []
    total = ZERO
    for index, c in enumerate(meeting.classes):
        try:
            power = exact.multiply(outstanding.get(c.class_id, ZERO), c.votes_per_share)
            total = exact.add(total, power)
        except decimal.Inexact:
            problems.append(
                Problem(
                    "voting-power-digits",
                    f"class {c.class_id!r}: {outstanding.get(c.class_id, ZERO):,} shares x "
                    f"{c.votes_per_share} votes per share need more than "
                    f"{DECIMAL_CONTEXT.prec} digits to count exactly",
                    field=f"classes[{index}].votes_per_share",
                )
            )
    if problems:
        raise InputError(problems)


class _Assembler:
    def __init__(self, meeting: Meeting, stage: Stage) -> None:
        self.meeting = meeting
        self.stage = stage
        self.vps = {c.class_id: c.votes_per_share for c in meeting.classes}
        self.present = {
            (r["class_id"], r["holder_type"]): r["present"] or ZERO for r in stage.present_by_class
        }
        self.outstanding = {r["class_id"]: r["outstanding"] for r in stage.outstanding_by_class}
        self.holders = {r["class_id"]: r["holders"] for r in stage.outstanding_by_class}
        self.totals: SharesByKey = {
            (r["proposal_id"], r["item_id"], r["pos_class"], r["holder_type"]): r
            for r in stage.item_totals
        }

    def present_shares(self, class_id: str, holder_type: str | None = None) -> Decimal:
        kinds = (holder_type,) if holder_type else ("registered", "nominee")
        return sum((self.present.get((class_id, k), ZERO) for k in kinds), ZERO)

    def item_shares(self, proposal: Proposal, item_id: str, class_id: str) -> dict[str, Decimal]:
        """Shares by bucket for one item and class, remainders derived by subtraction."""
        buckets = dict.fromkeys(proposal.buckets, ZERO)
        marked: dict[str, Decimal] = {}
        voted: dict[str, Decimal] = {}
        for kind in ("registered", "nominee"):
            row = self.totals.get((proposal.proposal_id, item_id, class_id, kind))
            voted[kind] = row["voted"] if row else ZERO
            marked[kind] = row["marked"] if row else ZERO
            for bucket in Q_BUCKETS:
                amount = row[f"q_{bucket}"] if row else ZERO
                check(amount == 0 or bucket in buckets, f"{bucket} counted on {proposal.ballot}")
                if amount:
                    buckets[bucket] += amount
        present_reg = self.present_shares(class_id, "registered")
        present_nom = self.present_shares(class_id, "nominee")
        unmarked = present_reg - marked["registered"]
        recommended = proposal.recommendation
        if self.meeting.unmarked_policy is UnmarkedPolicy.AS_RECOMMENDED and recommended:
            buckets[CHOICE_BUCKET[recommended]] += unmarked
        else:
            buckets[NOT_VOTED] += unmarked
        buckets[NOT_VOTED] += marked["registered"] - voted["registered"]
        street_rest = present_nom - voted["nominee"]
        buckets[NOT_VOTED if proposal.routine else BROKER_NON_VOTE] += street_rest
        check(all(v >= 0 for v in buckets.values()), f"negative bucket on {proposal.proposal_id}")
        check(
            sum(buckets.values(), ZERO) == present_reg + present_nom,
            f"buckets of {proposal.proposal_id}/{item_id} do not add up to shares present",
        )
        return buckets

    def tally(self, proposal: Proposal, item_id: str) -> Tally:
        per_class: list[tuple[str, tuple[tuple[str, Decimal], ...]]] = []
        combined = dict.fromkeys(proposal.buckets, ZERO)
        present = ZERO
        outstanding = ZERO
        for class_id in proposal.classes:
            vps = self.vps[class_id]
            shares = self.item_shares(proposal, item_id, class_id)
            votes = {b: q * vps for b, q in shares.items()}
            per_class.append((class_id, tuple(votes.items())))
            for bucket, amount in votes.items():
                combined[bucket] += amount
            present += self.present_shares(class_id) * vps
            outstanding += self.outstanding.get(class_id, ZERO) * vps
        check(present <= outstanding, "more voting power present than outstanding")
        return Tally(tuple(combined.items()), present, outstanding, tuple(per_class))

    def evaluate(self, standard: Standard, tally: Tally, proposal: Proposal) -> TestResult:
        by_class = {c: dict(v) for c, v in tally.by_class}

        def votes(buckets: Sequence[str], classes: Sequence[str] | None) -> Decimal:
            chosen = classes if classes is not None else proposal.classes
            return sum((by_class[c].get(b, ZERO) for c in chosen for b in buckets), ZERO)

        def outstanding(_: Sequence[str], classes: Sequence[str] | None) -> Decimal:
            chosen = classes if classes is not None else proposal.classes
            return sum((self.outstanding.get(c, ZERO) * self.vps[c] for c in chosen), ZERO)

        return evaluate(standard, votes, outstanding)

    def class_tests(self, proposal: Proposal, tally: Tally) -> tuple[TestResult, ...]:
        if proposal.voting_mode is VotingMode.TOGETHER:
            return ()
        return tuple(
            self.evaluate(replace(proposal.standard, classes=(c,)), tally, proposal)
            for c in proposal.classes
        )

    def quorum(self) -> QuorumResult:
        voting = sorted({c for p in self.meeting.proposals for c in p.classes})
        present = sum((self.present_shares(c) * self.vps[c] for c in voting), ZERO)
        outstanding = sum((self.outstanding.get(c, ZERO) * self.vps[c] for c in voting), ZERO)
        rule = self.meeting.quorum
        return QuorumResult(
            description=rule.describe(),
            fraction=rule.fraction,
            strict=rule.strict,
            present_votes=present,
            outstanding_votes=outstanding,
            passed=compare(present, outstanding, rule.fraction, rule.strict),
            evaluated_at=self.meeting.polls_close_at.isoformat(),
            source=rule.source,
        )

    def class_quorum(self, proposal: Proposal) -> bool:
        if proposal.voting_mode is VotingMode.TOGETHER:
            return True
        rule = self.meeting.quorum
        return all(
            compare(
                self.present_shares(c) * self.vps[c],
                self.outstanding.get(c, ZERO) * self.vps[c],
                rule.fraction,
                rule.strict,
            )
            for c in proposal.classes
        )

    def proposal(self, proposal: Proposal, quorum_met: bool) -> ProposalResult:
        quorum_met = quorum_met and self.class_quorum(proposal)
        if proposal.is_election:
            return self.election(proposal, quorum_met)
        tally = self.tally(proposal, "")
        if proposal.standard.rule is Rule.FREQUENCY:
            return self.frequency(proposal, tally, quorum_met)
        test = self.evaluate(proposal.standard, tally, proposal)
        class_tests = self.class_tests(proposal, tally)
        combined_ok = test.passed if proposal.voting_mode is not VotingMode.SEPARATELY else True
        passed = quorum_met and combined_ok and all(t.passed for t in class_tests)
        return ProposalResult(
            proposal=proposal,
            passed=passed,
            outcome=_outcome_text(proposal, passed, quorum_met),
            tally=tally,
            test=test,
            class_tests=class_tests,
            comparisons=tuple(self.evaluate(s, tally, proposal) for s in proposal.compare_under),
            quorum_met=quorum_met,
        )

    def frequency(self, proposal: Proposal, tally: Tally, quorum_met: bool) -> ProposalResult:
        counts = {c: tally.get(c) for c in FREQUENCY_CHOICES}
        winner, tie = frequency_winner(counts)
        if not quorum_met:
            outcome = "no quorum"
        elif winner:
            outcome = f"advisory: {winner.replace('_', ' ')} received the most votes"
        else:
            outcome = "advisory: tie between " + ", ".join(tie) if tie else "no votes cast"
        return ProposalResult(
            proposal=proposal,
            passed=quorum_met and winner is not None,
            outcome=outcome,
            tally=tally,
            test=None,
            frequency_winner=winner if quorum_met else None,
            frequency_tie=tie,
            quorum_met=quorum_met,
        )

    def election(self, proposal: Proposal, quorum_met: bool) -> ProposalResult:
        standard = proposal.standard
        tallies = {n.nominee_id: self.tally(proposal, n.nominee_id) for n in proposal.nominees}
        contested = len(proposal.nominees) > standard.seats
        rule = standard.rule
        if contested and standard.contested_rule is Rule.PLURALITY:
            rule = Rule.PLURALITY
        ranking = plurality({k: t.get(FOR) for k, t in tallies.items()}, standard.seats)
        # Under plurality the percentage shown is of votes cast; any For vote can win a seat.
        cast = Standard(
            label="plurality",
            rule=Rule.FRACTION,
            denominator=(FOR, AGAINST),
            threshold=Fraction(0),
            classes=standard.classes,
        )
        rows: list[NomineeResult] = []
        for nominee in proposal.nominees:
            tally = tallies[nominee.nominee_id]
            if rule is Rule.PLURALITY:
                test = self.evaluate(cast, tally, proposal)
                elected = nominee.nominee_id in ranking.elected
                resign = standard.resignation_if_withheld_exceeds_for and (
                    tally.get(AGAINST) > tally.get(FOR)
                )
            else:
                test = self.evaluate(standard, tally, proposal)
                elected = test.passed and (
                    not contested or nominee.nominee_id in ranking.elected | ranking.tied
                )
                resign = (
                    not elected
                    and nominee.incumbent
                    and standard.on_failure is FailurePolicy.HOLDOVER_RESIGNATION
                )
            elected = elected and quorum_met
            rows.append(
                NomineeResult(
                    nominee=nominee,
                    tally=tally,
                    elected=elected,
                    tied=nominee.nominee_id in ranking.tied and rule is Rule.PLURALITY,
                    holdover=not elected and nominee.incumbent,
                    resignation_required=resign and quorum_met,
                    test=test,
                )
            )
        elected_count = sum(1 for r in rows if r.elected)
        passed = quorum_met and elected_count == len(rows)
        outcome = (
            "no quorum" if not quorum_met else f"{elected_count} of {len(rows)} nominees elected"
        )
        return ProposalResult(
            proposal=proposal,
            passed=passed,
            outcome=outcome,
            tally=None,
            test=None,
            nominees=tuple(rows),
            quorum_met=quorum_met,
        )

    def classes(self) -> tuple[ClassSummary, ...]:
        return tuple(
            ClassSummary(
                class_id=c.class_id,
                name=c.name,
                votes_per_share=c.votes_per_share,
                outstanding_shares=self.outstanding.get(c.class_id, ZERO),
                outstanding_votes=self.outstanding.get(c.class_id, ZERO) * c.votes_per_share,
                present_shares=self.present_shares(c.class_id),
                present_votes=self.present_shares(c.class_id) * c.votes_per_share,
                holders=self.holders.get(c.class_id, 0),
            )
            for c in self.meeting.classes
        )

    def result(self, register: Register, votes: VoteBook) -> MeetingResult:
        quorum = self.quorum()
        proposals = tuple(self.proposal(p, quorum.passed) for p in self.meeting.proposals)
        return MeetingResult(
            meeting=self.meeting,
            register_source=register.source,
            register_hash=register.content_hash,
            votes_source=votes.source,
            lines_received=len(votes),
            classes=self.classes(),
            quorum=quorum,
            proposals=proposals,
            rejections=_rejections(self.stage),
            revocations=_revocations(self.stage),
            adjustments=_adjustments(self.stage),
            warnings=self.meeting.warnings,
        )


def _outcome_text(proposal: Proposal, passed: bool, quorum_met: bool) -> str:
    if not quorum_met:
        return "no quorum"
    if not passed:
        return "not approved"
    if not proposal.binding:
        return "approved (advisory only; changes nothing by itself)"
    return "approved"


def _rejections(stage: Stage) -> tuple[Rejection, ...]:
    found = [
        Rejection(
            level="instruction",
            reason=r["reason"],
            instruction_id=r["instruction_id"],
            line_no=r["first_line"],
            voter=r["voter"] or "",
            class_id=r["cls"] or "",
        )
        for r in stage.rejected_instructions
    ]
    found += [
        Rejection(
            level="instruction",
            reason="conflicting_same_time",
            instruction_id=c["instruction_id"],
            line_no=c["first_line"],
            voter=c["voter"],
            class_id=c["pos_class"],
            detail="tied with " + ", ".join(c["with"]),
        )
        for c in stage.ties.conflicts
    ]
    found += [
        Rejection(
            level="line",
            reason=r["reason"],
            instruction_id=r["instruction_id"],
            line_no=r["line_no"],
            voter=r["voter"],
            class_id=r["pos_class"],
            proposal_id=r["proposal_id"],
            item_id=r["item_id"],
            choice=r["choice"],
            shares=r["shares"],
            detail=r.get("detail") or "",
        )
        for r in stage.rejected_lines
    ]
    return tuple(sorted(found, key=lambda r: (r.line_no, r.instruction_id, r.class_id)))


def _revocations(stage: Stage) -> Revocations:
    """The pipeline's revocations (in voter, class, instruction order), with same-time
    duplicates named as such and conflicting ones left to the rejections."""
    duplicates = {
        (d["instruction_id"], d["voter"], d["pos_class"]): d["kept"] for d in stage.ties.duplicates
    }
    conflicted = {(c["instruction_id"], c["voter"], c["pos_class"]) for c in stage.ties.conflicts}
    revocations = Revocations(stage.revoked.cast(REVOCATION_SCHEMA))
    if not duplicates and not conflicted:
        return revocations
    found: list[Revocation] = []
    for row in revocations:
        key = (row.instruction_id, row.voter, row.class_id)
        if key in conflicted:
            continue
        if key in duplicates:
            reason = "duplicate of an identical instruction with the same time"
            row = row._replace(superseded_by=duplicates[key], reason=reason)
        found.append(row)
    return Revocations.of(found)


def _adjustments(stage: Stage) -> tuple[Adjustment, ...]:
    return tuple(
        Adjustment(
            voter=a["voter"],
            class_id=a["class_id"],
            proposal_id=a["proposal_id"],
            item_id=a["item_id"],
            policy=a["policy"],
            entitled=a["entitled"],
            reported_total=a["reported_total"],
            reported=tuple(a["reported"].items()),
            counted=tuple(a["counted"].items()),
            quantum=a["quantum"],
            instructions=tuple(a["instructions"]),
            lines=tuple(a["lines"]),
        )
        for a in stage.adjustments
    )
