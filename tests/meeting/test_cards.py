"""The vote-card shortcut (`corpact.meeting.cards`) never changes a result.

Plain instructions on registered positions are counted from packed cards instead of their
lines; every other instruction goes through the general per-line path. The property below
tabulates the same inputs with the shortcut, with it switched off (everything down the
general path) and with its marks looked up the long way, and requires identical results, on
meetings with more items than one card word holds and with classes that vote on different
items.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from typing import Any
from unittest.mock import patch

import ibis
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from corpact.meeting import (
    Register,
    RegisterRow,
    VoteBook,
    VoteInstruction,
    VoteLine,
    meeting_from_dict,
    tabulate,
)
from corpact.meeting import cards as cards_module
from corpact.meeting import pipeline as pipeline_module
from corpact.meeting.cards import ITEMS_PER_WORD
from corpact.meeting.result import MeetingResult, Tally
from tests.meeting.builders import meeting_doc, proposal_doc
from tests.meeting.test_rules import NY

NOMINEES = [f"n{i}" for i in range(ITEMS_PER_WORD + 2)]  # 17 items in all: two card words
CHOICES = ("for", "against", "abstain", "withhold", "2_years", "broker_non_vote", "maybe")
TIMES = [datetime(2024, 5, d, 12, tzinfo=NY) for d in (1, 2, 2, 3, 21)]  # day 21: too late


def big_meeting(over_vote_policy: str = "prorate") -> Any:
    proposals = [
        proposal_doc(
            "directors",
            "director_election",
            ballot="for_withhold",
            voting={"classes": ["common", "pref"]},
            standard={"preset": "plurality", "seats": 3},
            recommendation="for",
            nominees=[{"id": n, "name": n.upper()} for n in NOMINEES],
        ),
        proposal_doc("auditor", "auditor_ratification", routine=True, recommendation="for"),
        proposal_doc(
            "pref-only",
            "charter_amendment",
            ballot="for_against",
            voting={"classes": ["pref"]},
            standard={"preset": "outstanding"},
        ),
    ]
    classes = [{"id": "common", "votes_per_share": "1"}, {"id": "pref", "votes_per_share": "3"}]
    doc = meeting_doc(proposals=proposals, classes=classes, over_vote_policy=over_vote_policy)
    return meeting_from_dict(doc)


ITEMS = [("directors", n) for n in NOMINEES] + [("auditor", None), ("pref-only", None)]


@st.composite
def marks(draw: st.DrawFn) -> VoteLine:
    proposal, nominee = draw(st.sampled_from(ITEMS))
    clean = draw(st.integers(0, 9)) > 0
    choice = draw(st.sampled_from(CHOICES[:3] if clean else CHOICES))
    shares = None if clean else draw(st.none() | st.integers(-1, 400).map(Decimal))
    return VoteLine(
        proposal,
        choice,
        nominee_id=nominee,
        shares=shares,
        discretionary=not clean and draw(st.booleans()),
    )


@st.composite
def cards(draw: st.DrawFn) -> tuple[VoteLine, ...]:
    """Each item once, full position, an offered choice; or one twist away from that."""
    items = draw(st.lists(st.sampled_from(ITEMS), min_size=1, max_size=8, unique=True))
    lines = [VoteLine(p, draw(st.sampled_from(CHOICES[:3])), nominee_id=i) for p, i in items]
    twist = draw(st.sampled_from(["none", "repeat", "pref-only", "quantity"]))
    if twist == "repeat":  # the first item marked again
        lines.append(replace(lines[0], choice=draw(st.sampled_from(CHOICES[:3]))))
    if twist == "pref-only":  # an item only the preferred class votes on
        lines.append(VoteLine("pref-only", draw(st.sampled_from(CHOICES[:2]))))
    if twist == "quantity":  # part of the position on the first item
        lines[0] = replace(lines[0], shares=Decimal(draw(st.integers(0, 300))))
    return tuple(lines)


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[Register, list[VoteInstruction]]:
    rows = []
    for i in range(draw(st.integers(1, 6))):
        for class_id in draw(st.sampled_from([["common"], ["pref"], ["common", "pref"]])):
            kind = draw(st.sampled_from(["registered", "registered", "registered", "nominee"]))
            rows.append(
                RegisterRow(
                    f"H{i}", f"Holder {i}", class_id, Decimal(draw(st.integers(0, 300))), kind
                )
            )
    instructions: list[VoteInstruction] = []
    for voter in sorted({r.holder_id for r in rows}):
        for _ in range(draw(st.sampled_from([0, 1, 1, 1, 2]))):
            named_class = draw(st.sampled_from([None, None, None, "common", "pref"]))
            if draw(st.integers(0, 3)):
                lines = draw(cards())
            else:
                lines = tuple(draw(st.lists(marks(), min_size=1, max_size=8)))
            channel = draw(st.sampled_from(["internet", "internet", "in_person", "nominee"]))
            when = draw(st.sampled_from(TIMES))
            iid = f"I{len(instructions)}"
            instructions.append(
                VoteInstruction(iid, when, voter, channel, tuple(lines), named_class)
            )
    return Register.from_rows(rows), instructions


def without_cards(meeting: Any, register: Register, votes: VoteBook) -> MeetingResult:
    asked: list[object] = []

    def nothing_is_a_card(*_: Any) -> Any:
        asked.append(None)
        return ibis.literal(False)

    # Plans are kept per meeting: with the cache emptied for the duration (and restored
    # after), the stages are built again with the card test switched off.
    with (
        patch.object(cards_module, "counts_as_card", nothing_is_a_card),
        patch.dict(pipeline_module._PLANS, clear=True),
    ):
        result = tabulate(meeting, register, votes)
    assert asked, "the general path was not built"
    return result


@settings(max_examples=30, deadline=None)
@given(scenarios(), st.sampled_from(["prorate", "reject"]))
def test_cards_and_the_general_path_agree(
    scenario: tuple[Register, list[VoteInstruction]], policy: str
) -> None:
    register, instructions = scenario
    meeting = big_meeting(policy)
    votes = VoteBook.from_instructions(instructions)
    fast = tabulate(meeting, register, votes)
    assert fast.to_json_dict() == without_cards(meeting, register, votes).to_json_dict()
    # Marks looked up through each text's place on the agenda, as for files with many texts.
    with patch.object(cards_module, "DIRECT_LOOKUP_LIMIT", 0):
        assert tabulate(meeting, register, votes).to_json_dict() == fast.to_json_dict()


REGISTER = Register.from_rows(
    [
        RegisterRow("C1", "Common holder", "common", Decimal(100), "registered"),
        RegisterRow("P1", "Preferred holder", "pref", Decimal(10), "registered"),
    ]
)


def by_class(tally: Tally, class_id: str) -> dict[str, Decimal]:
    return dict(dict(tally.by_class)[class_id])


def card(iid: str, voter: str, *marks: tuple[str, str | None, str]) -> VoteInstruction:
    lines = tuple(VoteLine(p, choice, nominee_id=n) for p, n, choice in marks)
    return VoteInstruction(iid, TIMES[0], voter, "internet", lines)


def test_a_card_counts_every_item_for_the_whole_position() -> None:
    votes = VoteBook.from_instructions(
        [
            card("I1", "C1", ("directors", "n0", "for"), ("directors", "n16", "withhold")),
            card("I2", "P1", ("pref-only", None, "for"), ("directors", "n16", "for")),
        ]
    )
    result = tabulate(big_meeting(), REGISTER, votes)
    by_nominee = {n.nominee.nominee_id: n.tally for n in result.proposal("directors").nominees}
    assert by_class(by_nominee["n0"], "common")["for"] == 100  # common: 1 vote per share
    assert by_class(by_nominee["n0"], "pref")["for"] == 30  # unmarked: as recommended
    assert by_class(by_nominee["n16"], "common")["against"] == 100  # second card word
    assert by_class(by_nominee["n16"], "pref")["for"] == 30  # pref: 3 votes per share
    pref_only = result.proposal("pref-only").tally
    assert pref_only is not None and pref_only.get("for") == 30
    assert not result.rejections


def test_a_card_marking_an_item_its_class_does_not_vote_on_is_reported() -> None:
    votes = VoteBook.from_instructions(
        [card("I1", "C1", ("auditor", None, "for"), ("pref-only", None, "for"))]
    )
    result = tabulate(big_meeting(), REGISTER, votes)
    assert [(r.instruction_id, r.reason) for r in result.rejections] == [
        ("I1", "class_not_entitled")
    ]
    auditor = result.proposal("auditor").tally
    assert auditor is not None and auditor.get("for") == 100


def test_an_item_marked_twice_on_a_card_is_overmarked_not_merged() -> None:
    votes = VoteBook.from_instructions(
        [card("I1", "C1", ("directors", "n3", "for"), ("directors", "n3", "withhold"))]
    )
    result = tabulate(big_meeting(), REGISTER, votes)
    assert sorted(r.reason for r in result.rejections) == ["overmarked", "overmarked"]
    n3 = next(n for n in result.proposal("directors").nominees if n.nominee.nominee_id == "n3")
    assert n3.tally.get("for") == 0 and n3.tally.get("against") == 0


def test_a_quantity_on_one_line_keeps_the_instruction_off_the_card_path() -> None:
    lines = (VoteLine("auditor", "for", shares=Decimal(60)), VoteLine("directors", "for", "n1"))
    votes = VoteBook.from_instructions([VoteInstruction("I1", TIMES[0], "C1", "internet", lines)])
    result = tabulate(big_meeting(), REGISTER, votes)
    auditor = result.proposal("auditor").tally
    assert auditor is not None
    assert (auditor.get("for"), auditor.get("not_voted")) == (Decimal(60), Decimal(40))


def test_a_whole_position_vote_and_broker_non_vote_on_one_item_are_overmarked() -> None:
    register = Register.from_rows([RegisterRow("N1", "Broker", "common", Decimal(50), "nominee")])
    lines = (VoteLine("auditor", "for"), VoteLine("auditor", "broker_non_vote"))
    votes = VoteBook.from_instructions([VoteInstruction("R", TIMES[0], "N1", "nominee", lines)])
    result = tabulate(big_meeting(), register, votes)
    assert [r.reason for r in result.rejections] == ["overmarked", "overmarked"]
    auditor = result.proposal("auditor").tally
    assert auditor is not None and auditor.get("for") == 0


def test_inconsistent_instructions_found_with_or_without_nulls_in_the_votes() -> None:
    """An instruction is inconsistent when its lines disagree on voter, channel, class or
    time; a NULL is one more value, so a line with no voter beside a line with one is a
    disagreement. The report names the greatest voter, whatever the order of the lines."""
    votes = VoteBook.from_instructions(
        [
            card("I1", "C1", ("auditor", None, "for"), ("directors", "n1", "for")),
            card("I2", "C1", ("auditor", None, "for"), ("directors", "n2", "for")),
            card("I3", "P1", ("auditor", None, "for"), ("directors", "n3", "for")),
            card("I4", "P1", ("pref-only", None, "against")),
        ]
    ).table.to_pylist()
    votes[1]["voter"] = "P1"  # I1: two voters
    votes[3]["channel"] = "telephone"  # I2: two channels
    votes[5]["class_id"] = "pref"  # I3: a class on one line only
    plain = tabulate(big_meeting(), REGISTER, VoteBook.from_arrow(pa.Table.from_pylist(votes)))
    expected = [("I1", "inconsistent_instruction"), ("I2", "inconsistent_instruction")]
    expected.append(("I3", "inconsistent_instruction"))
    assert [(r.instruction_id, r.reason) for r in plain.rejections] == expected
    assert [r.voter for r in plain.rejections] == ["P1", "C1", "P1"]  # the greatest
    backwards = VoteBook.from_arrow(pa.Table.from_pylist(votes[::-1]))
    assert tabulate(big_meeting(), REGISTER, backwards).rejections == plain.rejections
    alone = dict(votes[-1], instruction_id="I5", line_no=99, voter=None)
    mixed = [dict(votes[-1], instruction_id="I6", line_no=100 + n, voter=v) for n, v in
             enumerate([None, "P1"])]  # fmt: skip
    nulls = tabulate(
        big_meeting(), REGISTER, VoteBook.from_arrow(pa.Table.from_pylist([*votes, alone, *mixed]))
    )
    found = [(r.instruction_id, r.reason, r.voter) for r in nulls.rejections]
    assert found[3:] == [("I5", "unknown_voter", ""), ("I6", "inconsistent_instruction", "P1")]


@settings(max_examples=10, deadline=None)
@given(scenarios(), scenarios())
def test_a_plan_compiled_for_other_votes_gives_the_same_result(
    first: tuple[Register, list[VoteInstruction]], second: tuple[Register, list[VoteInstruction]]
) -> None:
    """Each stage's SQL is built once per meeting (and input types and flags) and reused; the
    data only reaches it through inputs and session variables. Tabulating `second` after
    `first` (plans of the first run reused) equals tabulating it with nothing planned yet."""
    meeting = big_meeting()
    register, instructions = second
    votes = VoteBook.from_instructions(instructions)
    tabulate(meeting, first[0], VoteBook.from_instructions(first[1]))
    warm = tabulate(meeting, register, votes)
    with patch.dict(pipeline_module._PLANS, clear=True):
        cold = tabulate(meeting, register, votes)
        compiled = set(pipeline_module._PLANS)
        assert tabulate(meeting, register, votes) == cold
        assert set(pipeline_module._PLANS) == compiled  # the same votes again: no compiling
    assert warm.to_json_dict() == cold.to_json_dict()


def test_an_instruction_naming_no_class_at_all_is_reported_not_dropped() -> None:
    """Lines whose class is NULL (possible in a vote book built from Arrow) cover no position;
    the instruction is reported with a reason instead of vanishing from the count."""
    votes = VoteBook.from_instructions(
        [card("I1", "C1", ("auditor", None, "for")), card("I2", "ZZ", ("auditor", None, "for"))]
    ).table.to_pylist()
    for line in votes:
        line["class_id"] = None
    result = tabulate(big_meeting(), REGISTER, VoteBook.from_arrow(pa.Table.from_pylist(votes)))
    found = [(r.instruction_id, r.reason) for r in result.rejections]
    assert found == [("I1", "no_position_in_class"), ("I2", "unknown_voter")]
    assert not result.revocations
