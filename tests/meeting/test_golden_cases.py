"""Golden tests: published meeting results reproduced through the CLI.

Each case's published per-item totals enter as one nominee's aggregated report. Where a case
does not publish shares outstanding, the register total is an assumption named in the test.
"""

from __future__ import annotations

import json
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

from corpact.meeting.standards import percent_text
from tests.cli_helpers import run_cli
from tests.meeting.builders import (
    load_case,
    meeting_doc,
    nominee_report,
    proposal_doc,
    write_inputs,
)


def tabulate_json(paths: tuple[Path, Path, Path]) -> dict[str, Any]:
    result = run_cli("meeting", "tabulate", *map(str, paths), "--format", "json")
    assert result.exit_code == 0, result.stderr
    data: dict[str, Any] = json.loads(result.stdout, parse_float=Decimal)
    return data


def by_id(data: dict[str, Any], pid: str) -> dict[str, Any]:
    return next(p for p in data["proposals"] if p["id"] == pid)


def nominee_row(proposal: dict[str, Any], name: str) -> dict[str, Any]:
    return next(n for n in proposal["nominees"] if n["name"] == name)


def _counts(published: dict[str, Any]) -> dict[str, Any]:
    """Published column names -> choices of a nominee report."""
    names = {"broker_non_votes": "broker_non_vote", "withheld": "withhold"}
    return {names.get(k, k): v for k, v in published.items()}


# --- UBX 2022 special meeting -------------------------------------------------------------


def _ubx(tmp_path: Path) -> dict[str, Any]:
    case = load_case("ubx-2022-special")
    m = case["meeting"]
    p1, p2 = case["proposals"]
    meeting = meeting_doc(
        id=case["case"],
        issuer=case["issuer"]["name"],
        kind=m["type"],
        date=str(m["date"]),
        record_date=str(m["record_date"]),
        polls_close_at=f"{m['date']}T12:00",
        proposals=[
            proposal_doc(
                "1",
                "reverse_split",
                routine=True,
                standard={"preset": "dgcl_242_reverse_split"},
                dgcl_242d={"class_listed_before": True, "meets_holder_rule_after": True},
                compare_under=[{"preset": "votes_cast"}],
                split_authority={
                    "ratios": [f"1-for-{n}" for n in p1["ratio_set_old_per_new"]],
                    "delegate": "board",
                },
            ),
            proposal_doc("2", routine=True, standard={"preset": "present_and_entitled"}),
        ],
    )
    outstanding = m["classes"][0]["shares_outstanding_record_date"]
    votes = nominee_report("CEDE", "1", _counts(p1["votes"])) + nominee_report(
        "CEDE", "2", _counts(p2["votes"])
    )
    paths = write_inputs(
        tmp_path, meeting, [("CEDE", "common", str(outstanding), "nominee")], votes
    )
    return tabulate_json(paths)


def test_ubx_quorum_and_represented_total(tmp_path: Path) -> None:
    data = _ubx(tmp_path)
    expect = {c["id"]: c["expect"] for c in load_case("ubx-2022-special")["checks"]}
    quorum = data["quorum"]
    assert quorum["present_votes"] == expect["quorum"]["present"]
    assert quorum["outstanding_votes"] == expect["quorum"]["outstanding"]
    assert str(quorum["percent_present"]) == expect["quorum"]["present_pct_4dp"]
    assert quorum["passed"] is expect["quorum"]["quorum"]
    for pid, key in (("1", "proposal_1_total"), ("2", "proposal_2_total")):
        tally = by_id(data, pid)["tally"]
        assert tally["present"] == expect["reconcile-present"][key]
        represented = sum(tally[b] for b in ("for", "against", "abstain", "broker_non_vote"))
        assert represented == expect["reconcile-present"][key]


def test_ubx_split_passes_majority_of_outstanding_threshold(tmp_path: Path) -> None:
    data = _ubx(tmp_path)
    expect = {c["id"]: c["expect"] for c in load_case("ubx-2022-special")["checks"]}
    p1 = by_id(data, "1")
    assert p1["standard"]["label"] == expect["p1-standard-by-date"]["standard_selected"]
    assert p1["test"]["votes_needed"] == expect["threshold-majority-of-outstanding"]["threshold"]
    assert p1["passed"] is expect["p1-outcome"]["passes"]
    assert p1["percent_for_4dp"] == expect["p1-outcome"]["for_over_outstanding_pct_4dp"]
    assert (
        p1["compare_under"][0]["percent_for_4dp"]
        == (expect["p1-standard-by-date"]["votes_cast_pct_4dp"])
    )
    assert p1["tally"]["broker_non_vote"] == expect["routine-no-bnv"]["proposal_1_bnv"]
    authority = p1["split_authority"]
    assert authority["ratios"] == [
        f"1-for-{n}" for n in expect["authorization-created"]["ratio_set"]
    ]
    assert authority["delegate"] == expect["authorization-created"]["delegate"]
    assert authority["range"] is None


def test_ubx_adjournment_present_and_entitled(tmp_path: Path) -> None:
    data = _ubx(tmp_path)
    expect = {c["id"]: c["expect"] for c in load_case("ubx-2022-special")["checks"]}
    p2 = by_id(data, "2")
    assert p2["percent_for_4dp"] == expect["p2-outcome"]["ratio_pct_4dp"]
    assert p2["passed"] is expect["p2-outcome"]["passes"]
    assert p2["tally"]["broker_non_vote"] == expect["routine-no-bnv"]["proposal_2_bnv"]


# --- CoreCivic 2019: majority of votes cast with resignation and holdover ---------------


def _cxw(tmp_path: Path, standard: dict[str, Any]) -> dict[str, Any]:
    case = load_case("cxw-2019-annual")
    rows = case["directors"]["rows"]
    nominees = [{"id": f"n{i}", "name": r["name"]} for i, r in enumerate(rows)]
    meeting = meeting_doc(
        id=case["case"],
        date=str(case["meeting"]["date"]),
        record_date="2019-03-18",  # assumed: not in the case file
        jurisdiction="MD",
        polls_close_at=f"{case['meeting']['date']}T12:00",
        proposals=[
            proposal_doc(
                "directors",
                "director_election",
                ballot="for_against_abstain",
                standard=standard,
                nominees=nominees,
            )
        ],
    )
    votes: list[list[str]] = []
    for i, r in enumerate(rows):
        counts = {k: r[k] for k in ("for", "against", "abstain")}
        counts["broker_non_vote"] = r["broker_non_votes"]
        votes += nominee_report("CEDE", "directors", counts, nominee=f"n{i}")
    outstanding = case["meeting"]["classes"][0]["shares_outstanding_entitled"]
    paths = write_inputs(
        tmp_path, meeting, [("CEDE", "common", str(outstanding), "nominee")], votes
    )
    return tabulate_json(paths)


def test_cxw_majority_cast_fails_dennis_who_holds_over(tmp_path: Path) -> None:
    data = _cxw(tmp_path, {"preset": "majority_of_votes_cast_with_resignation"})
    checks = {c["id"]: c["expect"] for c in load_case("cxw-2019-annual")["checks"]}
    directors = by_id(data, "directors")
    for expected in checks["majority-of-votes-cast"]:
        row = nominee_row(directors, expected["name"])
        assert row["percent_of_votes_cast"] == expected["pct_4dp"]
        assert row["elected"] is expected["elected"]
        for flag in ("holdover", "resignation_required"):
            if flag in expected:
                assert row[flag] is expected[flag]
    assert checks["holdover-event"]["seat_vacated_by_vote"] is False
    assert directors["outcome"] == "8 of 9 nominees elected"


def test_cxw_rows_reconcile_and_present_percentage(tmp_path: Path) -> None:
    data = _cxw(tmp_path, {"preset": "majority_of_votes_cast_with_resignation"})
    checks = {c["id"]: c["expect"] for c in load_case("cxw-2019-annual")["checks"]}
    directors = by_id(data, "directors")
    assert len(directors["nominees"]) == checks["partial-data"]["rows_loaded"]
    for row in directors["nominees"]:
        tally = row["tally"]
        total = sum(tally[b] for b in ("for", "against", "abstain", "broker_non_vote"))
        assert total == checks["reconcile-rows"]["row_total"]
    murphy = nominee_row(directors, "Devin I. Murphy")["tally"]
    assert (
        murphy["for"] + murphy["against"] + murphy["abstain"]
        == (checks["reconcile-rows"]["murphy_without_bnv"])
    )
    assert str(data["quorum"]["percent_present"]) == checks["present-pct"]["pct_4dp"]


def test_cxw_same_ballots_under_plurality_elect_dennis(tmp_path: Path) -> None:
    data = _cxw(tmp_path, {"preset": "plurality", "seats": 9})
    expected = {c["id"]: c["expect"] for c in load_case("cxw-2019-annual")["checks"]}
    dennis = nominee_row(by_id(data, "directors"), "Robert J. Dennis")
    assert dennis["elected"] is expected["standard-sensitivity"]["dennis_elected_under_plurality"]


# --- Eli Lilly 2018: 80% of outstanding fails at ~84% of votes cast ----------------------


def _lly(tmp_path: Path) -> dict[str, Any]:
    case = load_case("lly-2018-annual")
    rows = case["directors"]["rows"]
    proposals = [
        proposal_doc(
            "directors",
            "director_election",
            ballot="for_against_abstain",
            standard={"preset": "votes_cast"},
            nominees=[{"id": f"n{i}", "name": r["name"]} for i, r in enumerate(rows)],
        )
    ]
    votes: list[list[str]] = []
    for i, r in enumerate(rows):
        counts = {k: r[k] for k in ("for", "against", "abstain")}
        counts["broker_non_vote"] = r["broker_non_votes"]
        votes += nominee_report("CEDE", "directors", counts, nominee=f"n{i}")
    supermajority = {"preset": "supermajority_of_outstanding", "threshold": "4/5"}
    compare = [{"preset": "votes_cast"}, {"preset": "present_at_meeting"}]
    for p in case["proposals"]:
        pid = p["id"]
        routine = pid == "c"
        standard = supermajority if pid in ("d", "e") else {"preset": "votes_cast"}
        kind = "charter_amendment" if pid in ("d", "e") else "other"
        proposals.append(
            proposal_doc(pid, kind, routine=routine, standard=standard, compare_under=compare)
        )
        counts = dict(p["votes"])
        if "broker_non_votes" in counts:
            counts["broker_non_vote"] = counts.pop("broker_non_votes")
        votes += nominee_report("CEDE", pid, counts)
    meeting = meeting_doc(
        id=case["case"],
        date="2018-05-07",  # assumed: the case file has no meeting date
        record_date="2018-02-28",  # assumed
        jurisdiction="IN",
        polls_close_at="2018-05-07T12:00",
        proposals=proposals,
    )
    # Shares outstanding are not published; the smallest possible O is the represented total.
    represented = next(c for c in case["checks"] if c["id"] == "reconcile-represented")
    outstanding = represented["expect"]["represented"]
    paths = write_inputs(
        tmp_path, meeting, [("CEDE", "common", str(outstanding), "nominee")], votes
    )
    return tabulate_json(paths)


def test_lly_supermajority_fails_even_at_the_smallest_possible_outstanding(tmp_path: Path) -> None:
    data = _lly(tmp_path)
    expect = {c["id"]: c["expect"] for c in load_case("lly-2018-annual")["checks"]}
    bound = expect["supermajority-fails-without-O"]
    for pid in ("d", "e"):
        p = by_id(data, pid)
        assert p["test"]["required"] == bound["eighty_pct_of_represented"]
        assert p["test"]["numerator"] == bound[f"{pid}_for"]
        assert p["passed"] is bound[f"{pid}_passes"]
    sensitivity = expect["standard-sensitivity"]
    d, e = by_id(data, "d"), by_id(data, "e")
    assert d["compare_under"][0]["percent_for_4dp"] == sensitivity["d_votes_cast_pct_4dp"]
    assert d["compare_under"][0]["passed"] is True
    assert e["compare_under"][0]["percent_for_4dp"] == sensitivity["e_votes_cast_pct_4dp"]
    assert (
        d["compare_under"][1]["percent_for_4dp"] == (sensitivity["d_share_of_represented_pct_4dp"])
    )


def test_lly_rule_452_signature_and_reconciliation(tmp_path: Path) -> None:
    data = _lly(tmp_path)
    expect = {c["id"]: c["expect"] for c in load_case("lly-2018-annual")["checks"]}
    signature = expect["rule-452-signature"]
    assert by_id(data, "d")["tally"]["broker_non_vote"] == signature["d_bnv"]
    assert by_id(data, "e")["tally"]["broker_non_vote"] == signature["e_bnv"]
    auditor = by_id(data, "c")["tally"]
    assert auditor["broker_non_vote"] == signature["c_bnv"]
    assert (
        auditor["for"] + auditor["against"] + auditor["abstain"]
        == (expect["reconcile-represented"]["auditor_total"])
    )
    for pid in ("b", "d", "e", "f"):
        tally = by_id(data, pid)["tally"]
        total = sum(tally[k] for k in ("for", "against", "abstain", "broker_non_vote"))
        assert total == expect["reconcile-represented"]["represented"]


def test_lly_directors_and_stockholder_proposal(tmp_path: Path) -> None:
    data = _lly(tmp_path)
    expect = {c["id"]: c["expect"] for c in load_case("lly-2018-annual")["checks"]}
    directors = by_id(data, "directors")
    marram = nominee_row(directors, "Ellen R. Marram")
    assert marram["percent_of_votes_cast"] == expect["directors"]["marram_votes_cast_pct_4dp"]
    assert all(n["elected"] for n in directors["nominees"]) is expect["directors"]["all_elected"]
    g = by_id(data, "g")
    assert g["percent_for_4dp"] == expect["stockholder-proposal"]["votes_cast_pct_4dp"]
    assert g["passed"] is expect["stockholder-proposal"]["passes"]


# --- Monro 2021: For/Withheld ballot, seat-specific terms ---------------------------------


def _mnro(tmp_path: Path) -> tuple[dict[str, Any], Path]:
    case = load_case("mnro-2021-annual")
    nominees: list[dict[str, Any]] = []
    votes: list[list[str]] = []
    for seat in case["directors"]["seats"]:
        ends = "2023 annual meeting" if seat["class"] == "2" else "2022 annual meeting"
        for r in seat["rows"]:
            nid = f"n{len(nominees)}"
            nominees.append(
                {"id": nid, "name": r["name"], "director_class": seat["class"], "term_ends": ends}
            )
            counts = {"for": r["for"], "withhold": r["withheld"]}
            counts["broker_non_vote"] = r["broker_non_votes"]
            votes += nominee_report("CEDE", "directors", counts, nominee=nid)
    meeting = meeting_doc(
        id=case["case"],
        date=str(case["meeting"]["date"]),
        record_date="2021-06-24",  # assumed
        jurisdiction="NY",
        polls_close_at=f"{case['meeting']['date']}T12:00",
        proposals=[
            proposal_doc(
                "directors",
                "director_election",
                ballot="for_withhold",
                standard={"preset": "plurality", "seats": 5},
                nominees=nominees,
            )
        ],
    )
    implied = next(c for c in case["checks"] if c["id"] == "implied-outstanding")["expect"]
    outstanding = implied["O_min"]  # assumed: the lower end of the interval the 94.59% implies
    paths = write_inputs(
        tmp_path, meeting, [("CEDE", "common", str(outstanding), "nominee")], votes
    )
    return tabulate_json(paths), paths[0]


def test_mnro_for_withheld_plurality_and_terms(tmp_path: Path) -> None:
    data, _ = _mnro(tmp_path)
    case = load_case("mnro-2021-annual")
    expect = {c["id"]: c["expect"] for c in case["checks"]}
    directors = by_id(data, "directors")
    assert all(n["elected"] for n in directors["nominees"]) is expect["outcomes"]["all_elected"]
    mellor = nominee_row(directors, "Robert E. Mellor")
    assert mellor["percent_of_votes_cast"] == expect["outcomes"]["mellor_pct_4dp"]
    broderick = nominee_row(directors, "Michael T. Broderick")
    assert broderick["percent_of_votes_cast"] == expect["outcomes"]["broderick_pct_4dp"]
    for seat in expect["seat-terms"]:
        assert nominee_row(directors, seat["name"])["term_ends"] == seat["term_ends"]
    for row in directors["nominees"]:
        tally = row["tally"]
        assert (
            tally["for"] + tally["against"] + tally["broker_non_vote"]
            == (expect["reconcile-rows"]["row_total"])
        )
    quorum = data["quorum"]
    exact = 100 * Fraction(quorum["present_votes"]) / Fraction(quorum["outstanding_votes"])
    assert f"{percent_text(exact, 2)}%" == case["meeting"]["shares_present_pct_published"]


def test_mnro_8k_text_has_no_invented_abstain_column(tmp_path: Path) -> None:
    _mnro(tmp_path)
    paths = [str(tmp_path / n) for n in ("meeting.yaml", "register.csv", "votes.csv")]
    result = run_cli("meeting", "tabulate", *paths, "--section", "8k")
    assert result.exit_code == 0, result.stderr
    header = next(line for line in result.stdout.splitlines() if "Nominee" in line)
    assert header.split() == ["Nominee", "For", "Withheld", "Broker", "Non-Votes"]
    assert "Abstain" not in result.stdout
    assert "24,481,906" in result.stdout and "6,282,313" in result.stdout


# --- Greenbrier 2024: Class III directors and say-on-pay ---------------------------------


def test_gbx_directors_and_say_on_pay(tmp_path: Path) -> None:
    case = load_case("gbx-2024-annual")
    rows = case["directors"]["rows"]
    votes: list[list[str]] = []
    for i, r in enumerate(rows):
        counts = {
            "for": r["for"],
            "withhold": r["withheld"],
            "broker_non_vote": r["broker_non_votes"],
        }
        votes += nominee_report("CEDE", "directors", counts, nominee=f"n{i}")
    pay = case["proposals"][0]["votes"]
    counts = {k: pay[k] for k in ("for", "against", "abstain")}
    counts["broker_non_vote"] = pay["broker_non_votes"]
    votes += nominee_report("CEDE", "pay", counts)
    meeting = meeting_doc(
        id=case["case"],
        date=str(case["meeting"]["date"]),
        record_date="2023-11-08",  # assumed
        jurisdiction="OR",
        polls_close_at=f"{case['meeting']['date']}T12:00",
        proposals=[
            proposal_doc(
                "directors",
                "director_election",
                standard={"preset": "plurality", "seats": 3},
                nominees=[
                    {"id": f"n{i}", "name": r["name"], "director_class": "III"}
                    for i, r in enumerate(rows)
                ],
            ),
            proposal_doc(
                "pay",
                "say_on_pay",
                standard={"preset": "votes_cast"},
                compare_under=[{"preset": "present_and_entitled"}],
            ),
        ],
    )
    # Shares outstanding not captured: 31,000,000 is an assumption (any O > 2 x 28,305,667 / 2).
    paths = write_inputs(tmp_path, meeting, [("CEDE", "common", "31000000", "nominee")], votes)
    data = tabulate_json(paths)
    expect = {c["id"]: c["expect"] for c in case["checks"]}
    directors = by_id(data, "directors")
    for expected in expect["directors"]:
        row = nominee_row(directors, expected["name"])
        assert row["percent_of_votes_cast"] == expected["votes_cast_pct_4dp"]
        assert row["elected"] is expected["elected"]
        assert row["tally"]["broker_non_vote"] == expect["non-routine"]["bnv_each_item"]
    say = by_id(data, "pay")
    assert say["percent_for_4dp"] == expect["say-on-pay"]["votes_cast_pct_4dp"]
    assert (
        say["compare_under"][0]["percent_for_4dp"]
        == (expect["say-on-pay"]["present_entitled_pct_4dp"])
    )
    assert say["passed"] is expect["say-on-pay"]["passes"]
    assert say["tally"]["present"] == expect["reconcile-rows"]["row_total"]
