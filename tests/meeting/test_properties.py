"""Hypothesis properties of the tabulation, checked against a direct model where one is small."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from decimal import Decimal
from typing import Any

import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from corpact.meeting import Register, RegisterRow, VoteBook, VoteInstruction, VoteLine, tabulate
from corpact.meeting.result import MeetingResult
from tests.meeting.test_rules import NY, meeting

# Each example runs the full relational pipeline twice; 30 examples keep this file near 30 s.
PROPERTY_SETTINGS = settings(max_examples=30, deadline=None)
TIMES = [datetime(2024, 5, d, 12, tzinfo=NY) for d in (1, 2, 2, 19, 21)]  # day 21: too late
CLOSE = datetime(2024, 5, 20, 11, tzinfo=NY)
PROPOSALS = ("auditor", "holder-proposal", "directors", "unknown")
CHOICES = ("for", "against", "abstain", "withhold", "broker_non_vote", "1_year")


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[Register, list[VoteInstruction]]:
    count = draw(st.integers(1, 4))
    rows = [
        RegisterRow(
            f"H{i}",
            f"Holder {i}",
            "common",
            Decimal(draw(st.integers(0, 500))),
            draw(st.sampled_from(["registered", "nominee"])),
        )
        for i in range(count)
    ]
    voters = [r.holder_id for r in rows] + ["ZZ"]
    instructions = []
    for n in range(draw(st.integers(0, 8))):
        voter = draw(st.sampled_from(voters))
        lines = []
        for _ in range(draw(st.integers(1, 4))):
            proposal = draw(st.sampled_from(PROPOSALS))
            nominee = draw(st.sampled_from(["a", "b"])) if proposal == "directors" else None
            quantity = draw(st.none() | st.integers(-3, 600))
            lines.append(
                VoteLine(
                    proposal,
                    draw(st.sampled_from(CHOICES)),
                    nominee_id=nominee,
                    shares=Decimal(quantity) if quantity is not None else None,
                    discretionary=draw(st.booleans()),
                )
            )
        channel = draw(st.sampled_from(["internet", "proxy_card", "in_person", "nominee"]))
        instructions.append(
            VoteInstruction(f"I{n}", draw(st.sampled_from(TIMES)), voter, channel, tuple(lines))
        )
    return Register.from_rows(rows), instructions


def _content(instruction: VoteInstruction) -> tuple[tuple[str, ...], ...]:
    return tuple(
        sorted(
            (
                ln.proposal_id,
                ln.nominee_id or "",
                ln.choice,
                str(ln.shares.normalize()) if ln.shares is not None else "",
                str(ln.discretionary),
            )
            for ln in instruction.lines
        )
    )


def expected_effective(register: Register, instructions: list[VoteInstruction]) -> set[str]:
    """A direct model of revocation: ballot beats proxy, then latest time; equal-time ties
    count once when identical and not at all when different."""
    holders = {r.holder_id for r in register.rows()}
    by_voter: dict[str, list[VoteInstruction]] = defaultdict(list)
    for instruction in instructions:
        if instruction.voter in holders and instruction.executed_at <= CLOSE:
            by_voter[instruction.voter].append(instruction)
    effective: set[str] = set()
    for candidates in by_voter.values():
        best = max((i.channel == "in_person", i.executed_at) for i in candidates)
        top = [i for i in candidates if (i.channel == "in_person", i.executed_at) == best]
        if len({_content(i) for i in top}) == 1:
            effective.add(min(i.instruction_id for i in top))
    return effective


def observed_effective(result: MeetingResult, instructions: list[VoteInstruction]) -> set[str]:
    rejected = {r.instruction_id for r in result.rejections if r.level == "instruction"}
    revoked = {r.instruction_id for r in result.revocations}
    return {i.instruction_id for i in instructions} - rejected - revoked


def tallies(result: MeetingResult) -> list[tuple[str, Any]]:
    found: list[tuple[str, Any]] = []
    for proposal in result.proposals:
        if proposal.tally is not None:
            found.append((proposal.proposal.proposal_id, proposal.tally))
        found += [(n.nominee.nominee_id, n.tally) for n in proposal.nominees]
    return found


@PROPERTY_SETTINGS
@given(scenarios(), st.randoms(use_true_random=False))
def test_tabulation_invariants(scenario: tuple[Register, list[VoteInstruction]], rng: Any) -> None:
    register, instructions = scenario
    votes = VoteBook.from_instructions(instructions)
    result = tabulate(meeting(), register, votes)
    outstanding = sum((r.shares for r in register.rows()), Decimal(0))
    for _, tally in tallies(result):
        buckets = dict(tally.votes)
        assert all(v >= 0 for v in buckets.values())
        # every voting share present is in exactly one bucket: counted at most once
        assert sum(buckets.values()) == tally.present
        assert tally.present == result.quorum.present_votes <= outstanding
    for adjustment in result.adjustments:
        counted = dict(adjustment.counted)
        assert sum(counted.values()) == adjustment.entitled
        assert all(counted[b] <= q for b, q in adjustment.reported)
    assert observed_effective(result, instructions) == expected_effective(register, instructions)
    order = list(range(votes.table.num_rows))
    rng.shuffle(order)
    shuffled = VoteBook.from_arrow(votes.table.take(pa.array(order, pa.int64())), votes.source)
    assert tabulate(meeting(), register, shuffled).to_json_dict() == result.to_json_dict()


@PROPERTY_SETTINGS
@given(
    st.integers(1, 10_000),
    st.lists(st.integers(0, 20_000), min_size=1, max_size=3),
)
def test_nominee_never_counts_above_its_position(position: int, reported: list[int]) -> None:
    register = Register.from_rows(
        [RegisterRow("N", "Broker", "common", Decimal(position), "nominee")]
    )
    lines = tuple(
        VoteLine("auditor", choice, shares=Decimal(q))
        for choice, q in zip(("for", "against", "abstain"), reported, strict=False)
    )
    votes = VoteBook.from_instructions([VoteInstruction("R", TIMES[0], "N", "nominee", lines)])
    result = tabulate(meeting(), register, votes)
    tally = result.proposal("auditor").tally
    assert tally is not None
    counted = tally.get("for") + tally.get("against") + tally.get("abstain")
    assert counted == min(position, sum(reported))
    assert bool(result.adjustments) == (sum(reported) > position)
