"""Tabulation rules: revocation, conflicts, broker votes, over-votes, bad input as report lines."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from corpact.errors import InputError
from corpact.meeting import (
    Register,
    RegisterRow,
    VoteBook,
    VoteInstruction,
    VoteLine,
    meeting_from_dict,
    tabulate,
)
from corpact.meeting.result import MeetingResult
from tests.meeting.builders import meeting_doc, proposal_doc

NY = ZoneInfo("America/New_York")


def at(day: int, hour: int = 12) -> datetime:
    return datetime(2024, 5, day, hour, tzinfo=NY)


def meeting(**overrides: Any) -> Any:
    proposals = [
        proposal_doc("auditor", "auditor_ratification", routine=True, recommendation="for"),
        proposal_doc(
            "holder-proposal",
            "precatory",
            binding=False,
            standard={"preset": "present_and_entitled"},
        ),
        proposal_doc(
            "directors",
            "director_election",
            ballot="for_withhold",
            standard={"preset": "plurality", "seats": 2},
            recommendation="for",
            nominees=[{"id": "a", "name": "Ann"}, {"id": "b", "name": "Bo"}],
        ),
    ]
    return meeting_from_dict(meeting_doc(proposals=proposals, **overrides))


REGISTER = Register.from_rows(
    [
        RegisterRow("R1", "Reg One", "common", Decimal(100), "registered"),
        RegisterRow("R2", "Reg Two", "common", Decimal(50), "registered"),
        RegisterRow("N1", "Broker", "common", Decimal(1000), "nominee"),
    ]
)


def vote(
    iid: str, voter: str, when: datetime, *lines: VoteLine, channel: str = "internet"
) -> VoteInstruction:
    return VoteInstruction(iid, when, voter, channel, tuple(lines))


def line(proposal: str, choice: str, shares: str | None = None, **kw: Any) -> VoteLine:
    return VoteLine(proposal, choice, shares=Decimal(shares) if shares else None, **kw)


def run(*instructions: VoteInstruction, **overrides: Any) -> MeetingResult:
    return tabulate(meeting(**overrides), REGISTER, VoteBook.from_instructions(instructions))


def reasons(result: MeetingResult) -> dict[str, str]:
    return {f"{r.instruction_id}:{r.line_no}": r.reason for r in result.rejections}


def test_latest_instruction_wins_and_earlier_is_revoked() -> None:
    result = run(
        vote("I1", "R1", at(1), line("auditor", "against")),
        vote("I2", "R1", at(2), line("auditor", "for")),
    )
    tally = result.proposal("auditor").tally
    assert tally is not None and tally.get("for") == 100 and tally.get("against") == 0
    assert [(r.instruction_id, r.superseded_by) for r in result.revocations] == [("I1", "I2")]


def test_in_person_ballot_revokes_a_later_dated_proxy() -> None:
    result = run(
        vote("B1", "R1", at(20, 9), line("auditor", "against"), channel="in_person"),
        vote("P1", "R1", at(20, 10), line("auditor", "for"), channel="proxy_card"),
    )
    tally = result.proposal("auditor").tally
    assert tally is not None and tally.get("against") == 100
    assert result.revocations[0].reason == "revoked by a ballot cast in person"


def test_same_time_conflict_counts_neither_and_is_reported() -> None:
    result = run(
        vote("I1", "R1", at(3), line("auditor", "for")),
        vote("I2", "R1", at(3), line("auditor", "against")),
    )
    assert sorted(reasons(result).values()) == ["conflicting_same_time"] * 2
    assert result.quorum.present_votes == 0


def test_same_time_identical_instructions_count_once() -> None:
    result = run(
        vote("I1", "R1", at(3), line("auditor", "for")),
        vote("I2", "R1", at(3), line("auditor", "for")),
    )
    tally = result.proposal("auditor").tally
    assert tally is not None and tally.get("for") == 100
    assert result.revocations[0].instruction_id == "I2"


def test_broker_discretion_counts_on_routine_items_and_derives_non_votes() -> None:
    result = run(
        vote(
            "N",
            "N1",
            at(4),
            line("auditor", "for", "600", discretionary=True),
            line("auditor", "for", "300"),
            line("holder-proposal", "for", "200"),
            line("holder-proposal", "against", "100"),
            line("holder-proposal", "for", "50", discretionary=True),
            channel="nominee",
        )
    )
    auditor = result.proposal("auditor").tally
    assert auditor is not None and auditor.get("for") == 900
    assert auditor.get("broker_non_vote") == 0
    holder = result.proposal("holder-proposal").tally
    assert holder is not None
    counts = (holder.get("for"), holder.get("against"), holder.get("broker_non_vote"))
    assert counts == (Decimal(200), Decimal(100), Decimal(600))
    assert "discretionary_on_non_routine" in reasons(result).values()
    # The election is non-routine here and unmarked on the report: all 900 present are BNVs.
    directors = result.proposal("directors").nominees
    assert all(n.tally.get("broker_non_vote") == 900 for n in directors)


def test_over_vote_prorated_by_largest_remainder_and_recorded() -> None:
    result = run(
        vote(
            "N",
            "N1",
            at(4),
            line("auditor", "for", "700"),
            line("auditor", "against", "400"),
            line("auditor", "abstain", "1"),
            channel="nominee",
        )
    )
    tally = result.proposal("auditor").tally
    assert tally is not None
    counted = (tally.get("for"), tally.get("against"), tally.get("abstain"))
    # exact shares 635.786, 363.306, 0.908: floors 635, 363, 0; two left go to abstain, for
    assert sum(counted) == 1000 and counted == (Decimal(636), Decimal(363), Decimal(1))
    (adjustment,) = result.adjustments
    assert adjustment.reported_total == 1101 and adjustment.entitled == 1000


def test_over_vote_rejected_when_the_policy_says_so() -> None:
    result = run(
        vote("N", "N1", at(4), line("auditor", "for", "1200"), channel="nominee"),
        over_vote_policy="reject",
    )
    assert list(reasons(result).values()) == ["over_vote"]
    tally = result.proposal("auditor").tally
    assert tally is not None and tally.get("for") == 0


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        (vote("X", "ZZ", at(5), line("auditor", "for")), "unknown_voter"),
        (vote("X", "R2", at(5), line("no-such", "for")), "unknown_proposal"),
        (vote("X", "R2", at(5), line("auditor", "withhold")), "choice_not_allowed"),
        (vote("X", "R2", at(5), line("directors", "for", nominee_id="zed")), "unknown_nominee"),
        (vote("X", "R2", at(5), line("auditor", "for", "-5")), "negative_shares"),
        (vote("X", "R2", at(21), line("auditor", "for")), "after_polls_closed"),
        (vote("X", "R2", at(5), line("auditor", "for"), line("auditor", "against")), "overmarked"),
    ],
)
def test_bad_input_becomes_a_report_line_and_the_rest_is_tabulated(
    bad: VoteInstruction, reason: str
) -> None:
    good = vote("G", "R1", at(6), line("auditor", "for"))
    result = run(good, bad)
    assert reason in reasons(result).values()
    tally = result.proposal("auditor").tally
    assert tally is not None and tally.get("for") >= 100


def test_unmarked_items_follow_the_board_recommendation_or_stay_not_voted() -> None:
    result = run(vote("I", "R1", at(7), line("holder-proposal", "for")))
    auditor = result.proposal("auditor").tally
    assert auditor is not None and auditor.get("for") == 100  # recommended "for"
    scott = result.proposal("directors").nominees[0]
    assert scott.tally.get("for") == 100
    silent = run(
        vote("I", "R1", at(7), line("holder-proposal", "for")), unmarked_policy="not_voted"
    )
    tally = silent.proposal("auditor").tally
    assert tally is not None and tally.get("not_voted") == 100


def test_no_quorum_fails_every_proposal() -> None:
    result = run(vote("I", "R2", at(7), line("auditor", "for")))
    assert not result.quorum.passed
    assert all(not p.passed and p.outcome == "no quorum" for p in result.proposals)


def test_meeting_file_structural_errors_stop_the_run() -> None:
    bad = meeting_doc(
        proposals=[
            proposal_doc("p", standard={"preset": "no-such-standard"}),
            proposal_doc("q", voting={"classes": ["preferred"]}),
        ]
    )
    with pytest.raises(InputError) as raised:
        meeting_from_dict(bad)
    assert any("standard" in (p.field or "") for p in raised.value.problems)
    bad = meeting_doc(proposals=[proposal_doc("q", voting={"classes": ["preferred"]})])
    with pytest.raises(InputError) as raised:
        meeting_from_dict(bad)
    assert [p.rule for p in raised.value.problems] == ["unknown-class"]


def test_delaware_record_date_window_and_override() -> None:
    too_early = {"record_date": "2024-03-01", "date": "2024-05-20"}
    with pytest.raises(InputError) as raised:
        meeting_from_dict(meeting_doc(proposals=[proposal_doc("p")], **too_early))
    assert raised.value.problems[0].rule == "record-date"
    overridden = meeting_from_dict(
        meeting_doc(
            proposals=[proposal_doc("p")],
            record_date_override={"reason": "court order"},
            **too_early,
        )
    )
    assert "80 days" in overridden.warnings[0]


def test_delaware_quorum_below_one_third_is_rejected() -> None:
    with pytest.raises(InputError) as raised:
        meeting_from_dict(meeting_doc(proposals=[proposal_doc("p")], quorum={"fraction": "1/4"}))
    assert raised.value.problems[0].rule == "quorum-floor"


def test_register_class_unknown_to_the_meeting_is_an_input_error() -> None:
    register = Register.from_rows([RegisterRow("R", "R", "preferred", Decimal(1), "registered")])
    with pytest.raises(InputError):
        tabulate(meeting(), register, VoteBook.from_instructions([]))


def test_separate_class_votes_and_votes_per_share() -> None:
    doc = meeting_doc(
        classes=[
            {"id": "common", "votes_per_share": "1"},
            {"id": "pref", "votes_per_share": "12.5"},
        ],
        proposals=[
            proposal_doc(
                "amend",
                "charter_amendment",
                voting={"classes": ["common", "pref"], "mode": "both"},
                standard={"preset": "outstanding"},
            )
        ],
    )
    register = Register.from_rows(
        [
            RegisterRow("C", "C", "common", Decimal(100), "registered"),
            RegisterRow("P", "P", "pref", Decimal(10), "registered"),
        ]
    )
    votes = VoteBook.from_instructions(
        [
            vote("1", "C", at(1), line("amend", "for")),
            vote("2", "P", at(1), line("amend", "against")),
        ]
    )
    result = tabulate(meeting_from_dict(doc), register, votes)
    amend = result.proposal("amend")
    # Combined: 100 votes for of 100 + 10 x 12.5 = 225 outstanding fails; common alone passes.
    assert amend.test is not None and not amend.test.passed
    assert amend.test.denominator == 225
    assert [t.passed for t in amend.class_tests] == [True, False]
    assert not amend.passed


def test_a_register_built_in_code_refuses_a_position_given_twice() -> None:
    """The CSV loader names the repeated line; a register built from rows or Arrow must refuse
    the same, or the position would be counted twice."""
    row = RegisterRow("H1", "Holder", "common", Decimal(10), "registered")
    with pytest.raises(InputError) as raised:
        Register.from_rows([row, row, RegisterRow("H2", "Other", "common", Decimal(5), "nominee")])
    assert [p.rule for p in raised.value.problems] == ["register-duplicate"]
    assert "'H1' class 'common' appears 2 times" in str(raised.value)
