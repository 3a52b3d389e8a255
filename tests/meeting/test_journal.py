"""The meeting on the journal, on SQLite and PostgreSQL: journal tabulation equals file
tabulation, retries are harmless, conflicts and late events are refused with nothing written."""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
from collections.abc import Iterator
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from corpact.cli.common import examples_root
from corpact.csvfiles.text import read_rows
from corpact.errors import ConflictError, InputError, LifecycleError
from corpact.journal.events import NewEvent, StoredEvent
from corpact.meeting import (
    Meeting,
    MeetingResult,
    VoteInstruction,
    VoteLine,
    load_meeting,
    load_register,
    load_votes,
    tabulate,
)
from corpact.meeting.journaling import (
    JournalState,
    Kind,
    MeetingDesk,
    received_instructions,
    result_json_text,
    stream_of,
    tabulate_journal,
    unreadable_line_numbers,
    vote_key,
)
from corpact.store import JournalStore
from tests.cli_helpers import run_cli

EXAMPLE = examples_root() / "level3-2007-meeting"
MEETING_FILE = EXAMPLE / "meeting.yaml"
REGISTER_FILE = EXAMPLE / "register.csv"
VOTES_FILE = EXAMPLE / "votes.csv"
MEETING_ID = "level3-2007-annual"
VOTE_HEADER = (
    "instruction_id,executed_at,voter,channel,proposal,nominee,choice,shares,discretionary"
)
# Rows a real feed can carry: unreadable times, quantities and flags, unknown channels, rows of
# one instruction that disagree, a missing voter, an instruction after the polls closed.
MESSY_ROWS = [
    "X-001,2007-05-23T09:00,H001,internet,reverse-split,,for,,",
    "X-002,2007-05-32T09:00,H002,internet,reverse-split,,for,,",
    "X-003,2007-05-23T09:00,H003,internet,reverse-split,,for,12.3456789,",
    "X-004,2007-05-23T09:00,H003,carrier_pigeon,reverse-split,,for,,",
    "X-005,2007-05-23T09:00,H001,internet,reverse-split,,for,,",
    "X-005,2007-05-23T09:00,H002,internet,directors,scott,for,,",
    "X-006,2007-05-23T09:00,,internet,reverse-split,,against,,",
    "X-007,2007-05-23T09:00,H005,internet,supermajority-proposal,,for,,maybe",
    "X-008,2007-05-24T11:00,H002,in_person,reverse-split,,against,,",
]


@pytest.fixture
def desk(database_url: str) -> Iterator[MeetingDesk]:
    with JournalStore.open(database_url) as store:
        yield MeetingDesk(store)


def comparable(result: MeetingResult) -> dict[str, Any]:
    """The result JSON without the evidence locators: a file cites its lines, the journal
    the position of each vote line in journal order."""
    data: dict[str, Any] = json.loads(result_json_text(result))
    data["votes"].pop("source")
    report = data["report"]
    for rejection in report["rejections"]:
        rejection.pop("evidence")
    for adjustment in report["adjustments"]:
        adjustment["evidence"].pop("source")
        adjustment["evidence"].pop("lines")
    report["rejections"].sort(key=lambda r: json.dumps(r, sort_keys=True))
    return data


def file_tabulation(votes: Path, meeting: Meeting | None = None) -> MeetingResult:
    meeting = meeting or load_meeting(MEETING_FILE)
    return tabulate(meeting, load_register(REGISTER_FILE), load_votes(votes, meeting.time_zone))


def messy_votes(tmp_path: Path) -> Path:
    path = tmp_path / "messy.csv"
    body = VOTES_FILE.read_text(encoding="utf-8").rstrip("\n")
    path.write_text(body + "\n" + "\n".join(MESSY_ROWS) + "\n", encoding="utf-8")
    return path


def run_to_close(desk: MeetingDesk, votes: Path = VOTES_FILE) -> Meeting:
    _, meeting, _ = desk.open(MEETING_FILE, REGISTER_FILE)
    desk.record_file(MEETING_ID, votes)
    desk.close_polls(MEETING_ID, meeting.polls_close_at)
    return meeting


# -- journal tabulation equals file tabulation -----------------------------------------------


def test_journal_tabulation_equals_file_tabulation(desk: MeetingDesk) -> None:
    run_to_close(desk)
    from_journal = desk.tabulate(MEETING_ID, REGISTER_FILE)
    from_file = file_tabulation(VOTES_FILE)
    assert comparable(from_journal) == comparable(from_file)
    assert from_journal.lines_received == from_file.lines_received == 140
    assert from_journal.votes_source == f"journal {stream_of(MEETING_ID)}"
    # The same exceptions in the same order, each citing a vote line of the journal.
    assert [(r.instruction_id, r.reason) for r in from_journal.rejections] == [
        (r.instruction_id, r.reason) for r in from_file.rejections
    ]


def test_unreadable_and_late_instructions_are_journaled_and_reported(
    desk: MeetingDesk, tmp_path: Path
) -> None:
    votes = messy_votes(tmp_path)
    _, meeting, _ = desk.open(MEETING_FILE, REGISTER_FILE)
    summary = desk.record_file(MEETING_ID, votes)
    assert summary.created == 13 + 8 and summary.unreadable == 6
    desk.close_polls(MEETING_ID, meeting.polls_close_at)
    from_journal = desk.tabulate(MEETING_ID, REGISTER_FILE)
    assert comparable(from_journal) == comparable(file_tabulation(votes))
    reasons = {r.instruction_id: r.reason for r in from_journal.rejections}
    assert reasons["X-002"] == "bad_time"
    assert reasons["X-003"] == "bad_shares"
    assert reasons["X-004"] == "unknown_channel"
    assert reasons["X-005"] == "inconsistent_instruction"
    assert reasons["X-006"] == "missing_field"
    assert reasons["X-007"] == "bad_flag"
    assert reasons["X-008"] == "after_polls_closed"
    # What was received is in the journal as received, to prove it later.
    stored = {e.idempotency_key: e for e in desk.events(MEETING_ID)}
    bad_time = stored[vote_key(MEETING_ID, "X-002")].payload
    rows: Any = bad_time["rows"]
    assert rows[0]["received"]["executed_at"] == "2007-05-32T09:00"
    assert rows[0]["header_error"] == "bad_time" and rows[0]["executed_at"] is None
    assert "rows" not in stored[vote_key(MEETING_ID, "X-001")].payload
    late = stored[vote_key(MEETING_ID, "X-008")]
    assert late.recorded_at > meeting.polls_close_at


def test_the_chairs_closing_time_governs_late_instructions(desk: MeetingDesk) -> None:
    _, meeting, _ = desk.open(MEETING_FILE, REGISTER_FILE)
    desk.record_file(MEETING_ID, VOTES_FILE)
    early = meeting.polls_close_at - timedelta(hours=12)
    desk.close_polls(MEETING_ID, early)
    result = desk.tabulate(MEETING_ID, REGISTER_FILE)
    assert result.to_json_dict()["meeting"]["polls_close_at"] == early.isoformat()
    late = {r.instruction_id for r in result.rejections if r.reason == "after_polls_closed"}
    expected = {
        i.instruction_id
        for i in load_votes(VOTES_FILE, meeting.time_zone).instructions()
        if i.executed_at > early
    }
    assert late >= expected and expected


def test_certification_records_the_digest_of_the_result(desk: MeetingDesk) -> None:
    meeting = run_to_close(desk)
    at = meeting.polls_close_at + timedelta(hours=1)
    receipt, _ = desk.certify(MEETING_ID, REGISTER_FILE, at)
    assert receipt.status == "created"
    certified: Any = desk.state(MEETING_ID).certified
    text = result_json_text(desk.tabulate(MEETING_ID, REGISTER_FILE))
    assert certified["result_sha256"] == hashlib.sha256(text.encode()).hexdigest()
    assert certified["outcomes"]["reverse-split"] == {"passed": True, "outcome": "approved"}
    assert certified["outcomes"]["directors"]["elected"] == [
        "scott",
        "crowe",
        "julian",
        "netravali",
        "reed",
        "yanney",
    ]
    assert certified["tabulated_through_index"] == receipt.index - 1
    again, _ = desk.certify(MEETING_ID, REGISTER_FILE, at + timedelta(minutes=5))
    assert (again.status, again.index) == ("exists", receipt.index)


# -- retries, conflicts, lifecycle -----------------------------------------------------------


def test_retries_are_harmless(desk: MeetingDesk) -> None:
    first, _, _ = desk.open(MEETING_FILE, REGISTER_FILE)
    assert desk.open(MEETING_FILE, REGISTER_FILE)[0] == first.__class__(
        first.idempotency_key, first.index, first.leaf_hash_hex, "exists"
    )
    created = desk.record_file(MEETING_ID, VOTES_FILE)
    size = desk.store.tree_size()
    again = desk.record_file(MEETING_ID, VOTES_FILE, chunk=4)
    assert (created.created, again.created, again.already_recorded) == (13, 0, 13)
    assert desk.store.tree_size() == size


def test_chunked_recording_gives_the_same_journal(desk: MeetingDesk) -> None:
    desk.open(MEETING_FILE, REGISTER_FILE)
    summary = desk.record_file(MEETING_ID, VOTES_FILE, chunk=3)
    assert summary.created == 13
    kinds = [e.kind for e in desk.events(MEETING_ID)]
    assert kinds == [Kind.OPENED] + [Kind.VOTE] * 13 + [Kind.VOTES_FILE]


def test_an_id_too_long_for_a_journal_key_refuses_the_file_before_any_chunk(
    desk: MeetingDesk, tmp_path: Path
) -> None:
    desk.open(MEETING_FILE, REGISTER_FILE)
    size = desk.store.tree_size()
    lines = VOTES_FILE.read_text(encoding="utf-8").splitlines()
    number = next(n for n, line in enumerate(lines) if line.startswith("C-1001,")) + 1
    votes = tmp_path / "votes.csv"
    votes.write_text("\n".join(lines).replace("C-1001,", "C" * 600 + ",") + "\n")
    with pytest.raises(InputError) as caught:
        desk.record_file(MEETING_ID, votes, chunk=3)
    assert [(p.rule, p.line) for p in caught.value.problems] == [("instruction-id-length", number)]
    assert desk.store.tree_size() == size


def test_same_key_with_another_payload_is_a_conflict(desk: MeetingDesk, tmp_path: Path) -> None:
    desk.open(MEETING_FILE, REGISTER_FILE)
    desk.record_file(MEETING_ID, VOTES_FILE)
    size = desk.store.tree_size()
    register = tmp_path / "register.csv"
    register.write_text(
        REGISTER_FILE.read_text(encoding="utf-8").replace("520000000", "520000001"),
        encoding="utf-8",
    )
    with pytest.raises(ConflictError):
        desk.open(MEETING_FILE, register)
    changed = VoteInstruction(
        "C-1001",
        datetime.fromisoformat("2007-05-20T10:00:00-06:00"),
        "H001",
        "proxy_card",
        (VoteLine("reverse-split", "against"),),
    )
    fresh = VoteInstruction(
        "Z-9999",
        datetime.fromisoformat("2007-05-20T10:00:00-06:00"),
        "H002",
        "proxy_card",
        (VoteLine("reverse-split", "for"),),
    )
    with pytest.raises(ConflictError):
        desk.record(MEETING_ID, [fresh, changed])
    assert desk.store.tree_size() == size
    assert vote_key(MEETING_ID, "Z-9999") not in {
        e.idempotency_key for e in desk.events(MEETING_ID)
    }


def test_nothing_is_appended_after_certification(desk: MeetingDesk, tmp_path: Path) -> None:
    meeting = run_to_close(desk)
    desk.certify(MEETING_ID, REGISTER_FILE, meeting.polls_close_at + timedelta(hours=1))
    size = desk.store.tree_size()
    late = VoteInstruction(
        "LATE-1",
        meeting.polls_close_at + timedelta(hours=2),
        "H002",
        "internet",
        (VoteLine("reverse-split", "for"),),
    )
    with pytest.raises(LifecycleError, match="certified"):
        desk.record(MEETING_ID, [late])
    with pytest.raises(LifecycleError, match="certified"):
        desk.record_file(MEETING_ID, messy_votes(tmp_path))
    with pytest.raises(ConflictError):
        desk.close_polls(MEETING_ID, meeting.polls_close_at + timedelta(hours=3))
    # Another writer with no desk: the guard of any desk refuses the same way.
    other = MeetingDesk(desk.store)
    event = NewEvent(
        stream_of(MEETING_ID), Kind.VOTES_FILE, {}, f"{MEETING_ID}:x", late.executed_at
    )
    with pytest.raises(LifecycleError):
        other.store.append([event], other._guard(MEETING_ID))
    assert desk.store.tree_size() == size


def test_lifecycle_order(desk: MeetingDesk) -> None:
    with pytest.raises(LifecycleError, match="open it first"):
        desk.record_file(MEETING_ID, VOTES_FILE)
    _, meeting, _ = desk.open(MEETING_FILE, REGISTER_FILE)
    with pytest.raises(LifecycleError, match="close-polls"):
        desk.certify(MEETING_ID, REGISTER_FILE, meeting.polls_close_at)
    with pytest.raises(LifecycleError, match="before the meeting was opened"):
        desk.close_polls(MEETING_ID, datetime.fromisoformat("2007-01-01T00:00:00+00:00"))
    desk.close_polls(MEETING_ID, meeting.polls_close_at)
    with pytest.raises(LifecycleError, match="before the polls closed"):
        desk.certify(MEETING_ID, REGISTER_FILE, meeting.polls_close_at - timedelta(seconds=1))
    assert [e.kind for e in desk.events(MEETING_ID)] == [Kind.OPENED, Kind.POLLS_CLOSED]


def test_tabulation_needs_the_register_it_was_opened_on(desk: MeetingDesk, tmp_path: Path) -> None:
    run_to_close(desk)
    register = tmp_path / "other.csv"
    register.write_text(
        REGISTER_FILE.read_text(encoding="utf-8").replace("520000000", "520000001"),
        encoding="utf-8",
    )
    with pytest.raises(InputError) as caught:
        desk.tabulate(MEETING_ID, register)
    assert caught.value.problems[0].rule == "register-snapshot"
    # Another file name with the same content is the same snapshot, and the same result.
    same = tmp_path / "renamed.csv"
    shutil.copy(REGISTER_FILE, same)
    assert result_json_text(desk.tabulate(MEETING_ID, same)) == result_json_text(
        desk.tabulate(MEETING_ID, REGISTER_FILE)
    )


def test_a_vote_with_a_foreign_key_is_refused(desk: MeetingDesk) -> None:
    desk.open(MEETING_FILE, REGISTER_FILE)
    instruction = VoteInstruction(
        "A-1",
        datetime.fromisoformat("2007-05-20T10:00:00-06:00"),
        "H002",
        "internet",
        (VoteLine("reverse-split", "for"),),
    )
    event = NewEvent(
        stream_of(MEETING_ID),
        Kind.VOTE,
        instruction.to_payload(),
        vote_key(MEETING_ID, "B-2"),
        instruction.executed_at,
    )
    size = desk.store.tree_size()
    with pytest.raises(InputError) as caught:
        desk.store.append([event], desk._guard(MEETING_ID))
    assert caught.value.problems[0].rule == "event-key"
    assert desk.store.tree_size() == size


# -- property: any feed, in any order, tabulates the same from the journal --------------------


def _lines_of(path: Path) -> list[str]:
    return [line for line in path.read_text(encoding="utf-8").splitlines()[3:] if line]


FEED_LINES = _lines_of(VOTES_FILE) + MESSY_ROWS


@settings(max_examples=15, deadline=None)
@given(st.lists(st.sampled_from(FEED_LINES), min_size=1, max_size=40, unique=True), st.randoms())
def test_journal_and_file_tabulations_agree_for_any_feed(lines: list[str], rnd: Any) -> None:
    rnd.shuffle(lines)
    meeting = load_meeting(MEETING_FILE)
    register = load_register(REGISTER_FILE)
    text = VOTE_HEADER + "\n" + "\n".join(lines) + "\n"
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "votes.csv"
        path.write_text(text, encoding="utf-8")
        book = load_votes(path, meeting.time_zone)
        wanted = unreadable_line_numbers(book)
        raw = {n: r for n, r in read_rows(path)[1] if n in wanted}
    events = _stored(
        meeting, [json.loads(json.dumps(r.payload)) for r in received_instructions(book, raw)]
    )
    from_journal = tabulate_journal(MEETING_ID, events, register)
    assert comparable(from_journal) == comparable(tabulate(meeting, register, book))


def _stored(meeting: Meeting, payloads: list[dict[str, Any]]) -> list[StoredEvent]:
    opened = {
        "meeting": json.loads(json.dumps(_document(), default=str)),
        "register": {
            "source": "register.csv",
            "sha256": load_register(REGISTER_FILE).content_hash,
            "rows": 9,
        },
    }
    at = meeting.polls_close_at
    events = [
        StoredEvent(0, stream_of(MEETING_ID), Kind.OPENED, opened, f"{MEETING_ID}:open", at, b"")
    ]
    for n, payload in enumerate(payloads, start=1):
        key = vote_key(MEETING_ID, str(payload["instruction_id"]))
        events.append(StoredEvent(n, stream_of(MEETING_ID), Kind.VOTE, payload, key, at, b""))
    state = JournalState(MEETING_ID)
    for event in events:
        state, problems = state.step(event)
        assert problems == []
    return events


def _document() -> Any:
    return yaml.safe_load(MEETING_FILE.read_text(encoding="utf-8"))


# -- the command line ------------------------------------------------------------------------


def test_cli_end_to_end(database_url: str, tmp_path: Path) -> None:
    db = ["--db", database_url]
    keys = tmp_path / "keys"
    assert run_cli("audit", "keygen", "corpact/journal", "--out", str(keys)).exit_code == 0
    signing = ["--signing-key", str(keys / "corpact_journal.key")]
    opened = run_cli("meeting", "open", str(MEETING_FILE), str(REGISTER_FILE), *db, *signing)
    assert opened.exit_code == 0, opened.stderr
    assert "opened: recorded as journal entry #0" in opened.stdout
    assert "checkpoint signed at tree size 1" in opened.stdout
    votes = messy_votes(tmp_path)
    recorded = run_cli("meeting", "record", MEETING_ID, str(votes), *db)
    assert recorded.exit_code == 0, recorded.stderr
    assert "21 instruction(s) recorded, 0 already in the journal; 6 unreadable" in recorded.stdout
    again = run_cli("meeting", "record", MEETING_ID, str(votes), *db)
    assert "0 instruction(s) recorded, 21 already in the journal" in again.stdout
    closed = run_cli("meeting", "close-polls", MEETING_ID, "--at", "2007-05-24T10:30", *db)
    assert closed.exit_code == 0, closed.stderr
    register = ["--register", str(REGISTER_FILE)]
    shown = run_cli("meeting", "tabulate-journal", MEETING_ID, *register, *db, "--format", "json")
    assert shown.exit_code == 0, shown.stderr
    certified = run_cli(
        "meeting", "certify", MEETING_ID, *register, "--at", "2007-05-24T12:00", *db, *signing
    )
    assert certified.exit_code == 0, certified.stderr
    digest = hashlib.sha256(shown.stdout.encode()).hexdigest()
    assert f"result SHA-256 {digest}" in certified.stdout
    assert (
        "results certified: recorded" in certified.stdout
        and "Rejected: 9 instructions and 3 lines" in certified.stdout
    )
    late = run_cli("meeting", "record", MEETING_ID, str(VOTES_FILE), *db)
    assert late.exit_code == 1 and "nothing can be added after certification" in late.stderr
    data = json.loads(shown.stdout, parse_float=Decimal)
    file_data = json.loads(result_json_text(file_tabulation(votes)), parse_float=Decimal)
    assert data["proposals"] == file_data["proposals"] and data["quorum"] == file_data["quorum"]
    receipt = tmp_path / "receipt.json"
    key = vote_key(MEETING_ID, "X-002")
    made = run_cli("audit", "receipt", key, "--out", str(receipt), *db, *signing)
    assert made.exit_code == 0, made.stderr
    checked = run_cli(
        "audit",
        "verify",
        "--receipt",
        str(receipt),
        "--public-key",
        str(keys / "corpact_journal.pub"),
    )
    assert checked.exit_code == 0, checked.stderr
    assert "2007-05-32T09:00" in checked.stdout


def test_cli_refusals_name_the_rule(database_url: str, tmp_path: Path) -> None:
    db = ["--db", database_url]
    missing = run_cli("meeting", "record", MEETING_ID, str(VOTES_FILE), *db)
    assert missing.exit_code == 1 and "open it first" in missing.stderr
    run_cli("meeting", "open", str(MEETING_FILE), str(REGISTER_FILE), *db)
    early = run_cli(
        "meeting",
        "certify",
        MEETING_ID,
        "--register",
        str(REGISTER_FILE),
        "--at",
        "2007-05-24T12:00",
        *db,
    )
    assert early.exit_code == 1 and "close-polls" in early.stderr
    bad_time = run_cli("meeting", "close-polls", MEETING_ID, "--at", "24 May 2007", *db)
    assert bad_time.exit_code == 1 and "--at" in bad_time.stderr
