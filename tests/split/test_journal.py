"""The split execution on the journal, on SQLite and PostgreSQL: one execution per authority,
retries harmless, conflicts refused, the meeting's certification checked; nothing written on
any refusal."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from corpact.cli.common import examples_root
from corpact.errors import ConflictError, LifecycleError
from corpact.journal.events import JsonValue, NewEvent
from corpact.meeting.journaling import MeetingDesk
from corpact.split import apply_split, load_register, load_split
from corpact.split.journaling import SplitDesk, execution_key, stream_of
from corpact.split.result import EVENT_KIND, SplitResult
from corpact.store import JournalStore
from tests.cli_helpers import run_cli

AUTHORITY = "level3-2007-annual/reverse-split"
MEETING_ID = "level3-2007-annual"


@pytest.fixture
def examples(tmp_path: Path) -> Path:
    """A private copy of the shipped examples: the split reads ../level3-2007-meeting."""
    shutil.copytree(examples_root(), tmp_path / "examples")
    return tmp_path / "examples"


@pytest.fixture
def store(database_url: str) -> Iterator[JournalStore]:
    with JournalStore.open(database_url) as opened:
        yield opened


def split_variant(examples: Path, name: str, **resolution: Any) -> Path:
    """The example split file with other resolution fields, next to the original."""
    original = examples / "level3-2007-split" / "split.yaml"
    data = yaml.safe_load(original.read_text(encoding="utf-8"))
    data["resolution"].update(resolution)
    path = original.with_name(name)
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def result_of(split_file: Path, register_file: Path | None = None) -> SplitResult:
    folder = split_file.parent
    register = load_register(register_file or folder / "register.csv")
    return apply_split(load_split(split_file), register)


def test_execution_is_recorded_once_and_retries_are_harmless(
    store: JournalStore, examples: Path
) -> None:
    result = result_of(examples / "level3-2007-split" / "split.yaml")
    desk = SplitDesk(store)
    first = desk.execute(result)
    assert first.status == "created"
    assert first.idempotency_key == f"{AUTHORITY}:executed:1-for-15:2008-02-01"
    again = desk.execute(result)
    assert (again.status, again.index) == ("exists", first.index)
    (event,) = store.events(stream_of(AUTHORITY))
    assert event.kind == EVENT_KIND
    assert dict(event.payload) == result.event.to_payload()
    assert event.recorded_at == result.terms.resolution.effective_at


def test_a_second_execution_of_the_authority_is_refused(
    store: JournalStore, examples: Path
) -> None:
    SplitDesk(store).execute(result_of(examples / "level3-2007-split" / "split.yaml"))
    size = store.tree_size()
    other = split_variant(examples, "split-1-for-20.yaml", ratio="1-for-20")
    with pytest.raises(LifecycleError, match="already exercised"):
        SplitDesk(store).execute(result_of(other))
    assert store.tree_size() == size
    assert len(SplitDesk(store).executions(AUTHORITY)) == 1


def test_same_resolution_with_another_outcome_is_a_conflict(
    store: JournalStore, examples: Path
) -> None:
    split_file = examples / "level3-2007-split" / "split.yaml"
    SplitDesk(store).execute(result_of(split_file))
    size = store.tree_size()
    register = examples / "level3-2007-split" / "register.csv"
    changed = register.with_name("register-changed.csv")
    changed.write_text(
        register.read_text(encoding="utf-8").replace("120011", "120012"), encoding="utf-8"
    )
    result = result_of(split_file, changed)
    assert execution_key(result.terms) == f"{AUTHORITY}:executed:1-for-15:2008-02-01"
    with pytest.raises(ConflictError):
        SplitDesk(store).execute(result)
    assert store.tree_size() == size


def test_a_meeting_on_the_same_journal_must_have_certified_the_authority(
    store: JournalStore, examples: Path
) -> None:
    folder = examples / "level3-2007-meeting"
    meetings = MeetingDesk(store)
    _, meeting, _ = meetings.open(folder / "meeting.yaml", folder / "register.csv")
    meetings.record_file(MEETING_ID, folder / "votes.csv")
    result = result_of(examples / "level3-2007-split" / "split.yaml")
    size = store.tree_size()
    with pytest.raises(LifecycleError, match="not certified"):
        SplitDesk(store).execute(result)
    assert store.tree_size() == size
    meetings.close_polls(MEETING_ID, meeting.polls_close_at)
    meetings.certify(
        MEETING_ID, folder / "register.csv", meeting.polls_close_at + timedelta(hours=1)
    )
    assert SplitDesk(store).execute(result).status == "created"


def test_a_certified_failure_refuses_the_split(store: JournalStore, examples: Path) -> None:
    at = datetime.fromisoformat("2007-05-24T12:00:00-06:00")
    failed: dict[str, JsonValue] = {
        "outcomes": {"reverse-split": {"passed": False, "outcome": "not approved"}}
    }
    store.append(
        [NewEvent(f"meeting:{MEETING_ID}", "results.certified", failed, "test:certify", at)]
    )
    size = store.tree_size()
    with pytest.raises(LifecycleError, match="do not show proposal 'reverse-split' as passed"):
        SplitDesk(store).execute(result_of(examples / "level3-2007-split" / "split.yaml"))
    assert store.tree_size() == size


# -- the command line ------------------------------------------------------------------------


def test_cli_apply_with_db(database_url: str, examples: Path, tmp_path: Path) -> None:
    split_file = str(examples / "level3-2007-split" / "split.yaml")
    register = str(examples / "level3-2007-split" / "register.csv")
    keys = tmp_path / "keys"
    assert run_cli("audit", "keygen", "corpact/journal", "--out", str(keys)).exit_code == 0
    db = ["--db", database_url, "--signing-key", str(keys / "corpact_journal.key")]
    first = run_cli("split", "apply", split_file, register, *db, "--format", "json")
    assert first.exit_code == 0, first.stderr
    assert json.loads(first.stdout)["event"]["authority_id"] == AUTHORITY  # stdout stays JSON
    assert "split.executed recorded as entry #0" in first.stderr
    assert "checkpoint signed at tree size 1" in first.stderr
    table = run_cli("split", "apply", split_file, register, *db)
    assert table.exit_code == 0, table.stderr
    assert "journal: split.executed already recorded (same payload) as entry #0" in table.stdout
    other = str(split_variant(examples, "split-1-for-20.yaml", ratio="1-for-20"))
    out = tmp_path / "out"
    refused = run_cli("split", "apply", other, register, *db, "--output-dir", str(out))
    assert refused.exit_code == 1
    assert "already exercised" in refused.stderr and "single-use" in refused.stderr
    assert refused.stdout == "" and not out.exists()
    receipt = tmp_path / "receipt.json"
    key = f"{AUTHORITY}:executed:1-for-15:2008-02-01"
    made = run_cli("audit", "receipt", key, "--out", str(receipt), *db)
    assert made.exit_code == 0, made.stderr
    verified = run_cli(
        "audit",
        "verify",
        "--receipt",
        str(receipt),
        "--public-key",
        str(keys / "corpact_journal.pub"),
    )
    assert verified.exit_code == 0 and "kind split.executed" in verified.stdout


def test_cli_apply_without_db_writes_no_journal(
    examples: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CORPACT_DB", raising=False)
    folder = examples / "level3-2007-split"
    result = run_cli("split", "apply", str(folder / "split.yaml"), str(folder / "register.csv"))
    assert result.exit_code == 0, result.stderr
    assert "journal:" not in result.stdout
    assert not (tmp_path / "corpact.db").exists()


def test_shipped_meeting_result_is_a_fresh_tabulation() -> None:
    """Regenerate with, from the examples folder: corpact meeting tabulate
    level3-2007-meeting/meeting.yaml level3-2007-meeting/register.csv
    level3-2007-meeting/votes.csv --format json --output level3-2007-meeting/result.json"""
    folder = examples_root() / "level3-2007-meeting"
    fresh = run_cli(
        "meeting",
        "tabulate",
        *(str(folder / n) for n in ("meeting.yaml", "register.csv", "votes.csv")),
        "--format",
        "json",
    )
    assert fresh.exit_code == 0, fresh.stderr
    assert (folder / "result.json").read_text(encoding="utf-8") == fresh.stdout
    terms = load_split(examples_root() / "level3-2007-split" / "split.yaml")
    assert terms.authority.id == AUTHORITY
    assert terms.authority.expires_on is not None
    assert terms.authority.expires_on.isoformat() == "2008-05-15"


def test_demo_chain_meeting_then_split_on_one_journal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CORPACT_SIGNING_KEY_FILE", raising=False)
    folder = tmp_path / "demo"
    meeting = run_cli("demo", "meeting", "--keep", str(folder))
    assert meeting.exit_code == 0, meeting.stderr
    assert "results certified: recorded" in meeting.stdout
    ran = run_cli("demo", "split", "--keep", str(folder))
    assert ran.exit_code == 0, ran.stderr
    assert "journal: split.executed recorded as entry #17" in ran.stderr
    assert "split:level3-2007-annual/reverse-split: 1 events" in ran.stdout
    assert "meeting:level3-2007-annual: 17 events" in ran.stdout
    assert "VALID receipt" in ran.stdout
