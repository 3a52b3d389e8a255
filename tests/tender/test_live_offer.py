"""The live offer on the journal, on SQLite and PostgreSQL: replay, lifecycle rules, retries,
crash safety. Every refused command must leave the journal exactly as it was."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest

from corpact.cli.common import examples_root
from corpact.errors import ConflictError, InputError, LifecycleError, Problem
from corpact.journal.events import NewEvent, StoredEvent, decode_leaf_trusted
from corpact.journal.keys import Signer
from corpact.store import FaultPlan, JournalStore, SimulatedCrash, journal_store
from corpact.tender import build_ledger, load_terms, read_instructions_csv, run_offer
from corpact.tender.desk import OfferDesk
from corpact.tender.instructions import Instruction, Tender, Withdrawal
from corpact.tender.lifecycle import OfferState
from corpact.tender.render import results_json
from tests.tender.builders import NEW_YORK

FOLDER = examples_root() / "level3-2004"
OFFER = FOLDER / "offer.toml"
ALL = FOLDER / "instructions.csv"
SUPPLEMENT = FOLDER / "supplement-2004-11-17.toml"
ETD = datetime(2004, 11, 12, 17, 0, tzinfo=NEW_YORK)
BEFORE_SUPPLEMENT = datetime(2004, 11, 17, 8, 0, tzinfo=NEW_YORK)
CLOSE = datetime(2004, 12, 2, 0, 0, tzinfo=NEW_YORK)


@pytest.fixture
def desk(database_url: str) -> Iterator[OfferDesk]:
    with JournalStore.open(database_url, signer=Signer.generate("corpact/journal")) as store:
        yield OfferDesk(store)


def replay_to_expiration(desk: OfferDesk) -> None:
    desk.launch(OFFER)
    desk.import_csv("level3-2004", ALL, received_before=BEFORE_SUPPLEMENT)
    desk.amend("level3-2004", SUPPLEMENT)
    desk.import_csv("level3-2004", ALL)


def file_mode_results(as_of: datetime) -> dict[str, object]:
    terms, amendments = load_terms(OFFER)
    ledger = build_ledger(terms, amendments, read_instructions_csv(ALL, terms))
    return results_json(run_offer(terms, amendments, ledger, as_of).results)


def test_replay_of_the_reference_history(desk: OfferDesk) -> None:
    replay_to_expiration(desk)
    for moment in (ETD, BEFORE_SUPPLEMENT, CLOSE):
        assert results_json(desk.results("level3-2004", moment).results) == file_mode_results(
            moment
        )
    desk.decide_condition("level3-2004", "financing", "satisfied", CLOSE, "term loan funded")
    desk.decide_condition("level3-2004", "general", "waived", CLOSE)
    _receipt, run = desk.accept("level3-2004", CLOSE)
    assert run.allocation.accepted_principal("l3-9.125-2008") == 249457000
    accepted_usd = run.results.totals.accepted_equivalent_exact
    assert Decimal(1104000000) < accepted_usd <= Decimal(1105000000)
    _, payments = desk.settle("level3-2004", datetime(2004, 12, 2, 10, tzinfo=NEW_YORK))
    assert {t.settlement_date.isoformat() for t in payments.totals} == {"2004-12-02"}
    assert desk.store.tree_size() == 1 + 202 + 1 + 2 + 1 + 1
    # The state is a fold of the journal: a fresh desk on the same store agrees.
    fresh = OfferDesk(desk.store)
    assert fresh.state("level3-2004").accepted is not None
    assert results_json(fresh.results("level3-2004", CLOSE).results) == file_mode_results(CLOSE)


def refused(desk: OfferDesk, error: type[Exception], action: object) -> Exception:
    size, root = desk.store.tree_size(), desk.store.root()
    with pytest.raises(error) as caught:
        assert callable(action)
        action()
    assert (desk.store.tree_size(), desk.store.root()) == (size, root)
    return caught.value


def tender(instruction_id: str, when: datetime, principal: int = 1000) -> Tender:
    return Tender(instruction_id, when, "l3-11-2008", Decimal(principal))


def test_events_outside_the_lifecycle_are_refused_and_write_nothing(desk: OfferDesk) -> None:
    desk.launch(OFFER)
    nov1 = datetime(2004, 11, 1, tzinfo=NEW_YORK)
    refused(desk, LifecycleError, lambda: desk.accept("level3-2004", CLOSE))  # conditions pending
    desk.submit("level3-2004", [tender("t1", nov1)])
    refused(desk, InputError, lambda: desk.submit("level3-2004", [tender("t2", nov1, 1500)]))
    refused(desk, InputError, lambda: desk.submit("level3-2004", [tender("t3", CLOSE)]))
    late = datetime(2004, 11, 13, tzinfo=NEW_YORK)
    refused(desk, InputError, lambda: desk.submit("level3-2004", [Withdrawal("w1", late, "t1")]))
    refused(desk, InputError, lambda: desk.decide_condition("level3-2004", "nope", "waived", nov1))
    desk.terminate("level3-2004", datetime(2004, 11, 5, tzinfo=NEW_YORK), "financing failed")
    after = datetime(2004, 11, 6, tzinfo=NEW_YORK)
    refused(desk, LifecycleError, lambda: desk.submit("level3-2004", [tender("t4", after)]))
    refused(desk, LifecycleError, lambda: desk.amend("level3-2004", SUPPLEMENT))
    refused(desk, LifecycleError, lambda: desk.accept("level3-2004", CLOSE))


def test_an_instruction_that_would_not_read_back_is_refused_and_writes_nothing(
    desk: OfferDesk,
) -> None:
    """An instruction built in code is checked as the journal's readers will read it: an
    empty id or a principal that is no number was once written, and every later fold of the
    offer (results, status, the next instruction) then stopped on it."""
    desk.launch(OFFER)
    nov1 = datetime(2004, 11, 1, tzinfo=NEW_YORK)
    for bad in (
        tender("", nov1),
        Tender("t-inf", nov1, "l3-11-2008", Decimal("Infinity")),
        Withdrawal("", nov1, "t1"),
    ):
        error = refused(desk, InputError, lambda bad=bad: desk.submit("level3-2004", [bad]))
        assert isinstance(error, InputError) and error.problems
    desk.submit("level3-2004", [tender("t1", nov1)])
    assert desk.state("level3-2004").ledger is not None


def test_amendment_after_settlement_is_refused(desk: OfferDesk) -> None:
    desk.launch(OFFER)
    desk.submit("level3-2004", [tender("t1", datetime(2004, 11, 1, tzinfo=NEW_YORK))])
    for condition in ("financing", "general"):
        desk.decide_condition(
            "level3-2004", condition, "waived", datetime(2004, 11, 29, tzinfo=NEW_YORK)
        )
    refused(
        desk,
        LifecycleError,
        lambda: desk.accept("level3-2004", datetime(2004, 11, 29, 12, tzinfo=NEW_YORK)),
    )
    desk.accept("level3-2004", datetime(2004, 11, 30, tzinfo=NEW_YORK))
    desk.settle("level3-2004", datetime(2004, 11, 30, 10, tzinfo=NEW_YORK))
    refused(desk, LifecycleError, lambda: desk.amend("level3-2004", SUPPLEMENT))
    # Settling again is a retry of the same settlement: answered from the journal, not redone.
    size = desk.store.tree_size()
    assert desk.settle("level3-2004", datetime(2004, 12, 1, tzinfo=NEW_YORK))[0].status == "exists"
    assert desk.store.tree_size() == size


def test_retries_are_harmless_and_conflicts_are_clear(desk: OfferDesk) -> None:
    desk.launch(OFFER)
    first = desk.submit("level3-2004", [tender("t1", datetime(2004, 11, 1, tzinfo=NEW_YORK))])[0]
    again = desk.submit("level3-2004", [tender("t1", datetime(2004, 11, 1, tzinfo=NEW_YORK))])[0]
    assert (again.status, again.index, again.leaf_hash_hex) == (
        "exists",
        first.index,
        first.leaf_hash_hex,
    )
    changed = tender("t1", datetime(2004, 11, 1, tzinfo=NEW_YORK), 2000)
    error = refused(desk, ConflictError, lambda: desk.submit("level3-2004", [changed]))
    assert "level3-2004:instruction:t1" in str(error)
    assert desk.launch(OFFER)[0].status == "exists"


def problems_of_an_import_with_line_151(
    desk: OfferDesk, tmp_path: Path, edit: Callable[[str], str]
) -> list[tuple[int | None, str]]:
    """Import the early file in chunks of 20 with its line 151 edited: refused, nothing written."""
    desk.launch(OFFER)
    lines = (FOLDER / "instructions-early.csv").read_text().splitlines()
    lines[150] = edit(lines[150])
    bad = tmp_path / "bad.csv"
    bad.write_text("\n".join(lines) + "\n")
    error = refused(desk, InputError, lambda: desk.import_csv("level3-2004", bad, chunk=20))
    assert isinstance(error, InputError)
    return [(p.line, p.rule) for p in error.problems]


def test_a_bad_line_in_a_bulk_import_writes_nothing(desk: OfferDesk, tmp_path: Path) -> None:
    problems = problems_of_an_import_with_line_151(
        desk, tmp_path, lambda line: line.replace(",tender,l3-", ",tender,no-such-")
    )
    assert problems == [(151, "series-known")]


def test_an_id_too_long_for_a_journal_key_is_refused_before_any_chunk(
    desk: OfferDesk, tmp_path: Path
) -> None:
    # Found by encoding: once the key is built, chunks before it were already written.
    problems = problems_of_an_import_with_line_151(
        desk, tmp_path, lambda line: "x" * 300 + line[line.index(",") :]
    )
    assert problems == [(151, "instruction-id-length")]


def test_state_after_an_import_decodes_no_stored_event_again(
    desk: OfferDesk, monkeypatch: pytest.MonkeyPatch
) -> None:
    desk.launch(OFFER)
    # The row path keeps the state its check built; the column path builds none.
    desk.import_csv("level3-2004", ALL, received_before=BEFORE_SUPPLEMENT, columnar=False)
    decoded: list[int] = []
    decode = decode_leaf_trusted

    def counted(index: int, leaf_data: bytes, leaf_hash: bytes) -> StoredEvent:
        decoded.append(index)
        return decode(index, leaf_data, leaf_hash)

    monkeypatch.setattr(journal_store, "decode_leaf_trusted", counted)
    state = desk.state("level3-2004")
    assert state.events == 1 + 182
    assert len(decoded) <= 1  # the stream's last event, to see that the cached state is fresh
    fresh = OfferDesk(desk.store)  # no cached state: a fold of every event, decoded
    assert fresh.state("level3-2004").events == state.events
    assert results_json(fresh.results("level3-2004", ETD).results) == results_json(
        desk.results("level3-2004", ETD).results
    )


def counting_checks(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every instruction id the offer rules are run on, in order."""
    seen: list[str] = []
    check = OfferState.offer_instruction

    def counted(state: OfferState, instruction: Instruction) -> list[Problem]:
        seen.append(instruction.instruction_id)
        return check(state, instruction)

    monkeypatch.setattr(OfferState, "offer_instruction", counted)
    return seen


def test_a_bulk_import_checks_each_line_once(
    desk: OfferDesk, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    desk.launch(OFFER)
    seen = counting_checks(monkeypatch)
    moment = datetime(2004, 11, 1, tzinfo=NEW_YORK)
    with JournalStore.open(database_url) as other:

        def elsewhere(_count: int) -> None:
            # Another stream moving does not touch this offer's state.
            other.append([NewEvent("note:other", "note.added", {}, f"note-{len(seen)}", moment)])

        summary = desk.import_csv(
            "level3-2004",
            ALL,
            chunk=20,
            received_before=BEFORE_SUPPLEMENT,
            progress=elsewhere,
            columnar=False,  # the row path's rules; test_bulk.py has the column path's
        )
    assert summary.created == len(seen) == 182
    assert results_json(desk.results("level3-2004", ETD).results) == file_mode_results(ETD)
    assert desk.state("level3-2004").events == 1 + 182
    assert OfferDesk(desk.store).state("level3-2004").events == 1 + 182


def test_a_writer_between_import_chunks_gets_the_rest_checked_in_full(
    desk: OfferDesk, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    desk.launch(OFFER)
    seen = counting_checks(monkeypatch)
    with JournalStore.open(database_url) as store:
        other = OfferDesk(store)

        def tender_in_between(_count: int) -> None:
            if len(seen) == 182:  # after the first chunk only
                moment = datetime(2004, 11, 1, tzinfo=NEW_YORK)
                other.submit("level3-2004", [tender("between", moment)])

        desk.import_csv(
            "level3-2004",
            ALL,
            chunk=20,
            received_before=BEFORE_SUPPLEMENT,
            progress=tender_in_between,
            columnar=False,
        )
        # The trial, the other writer's tender, then every line after the first chunk again.
        assert len(seen) == 182 + 1 + (182 - 20)
        assert desk.store.tree_size() == 1 + 182 + 1
        fresh = OfferDesk(desk.store).state("level3-2004")
        assert desk.state("level3-2004").ledger == fresh.ledger

        desk.amend("level3-2004", SUPPLEMENT)
        size = desk.store.tree_size()
        terminated: list[int] = []

        def terminate_in_between(_count: int) -> None:
            grown = desk.store.tree_size() - size
            if grown and not terminated:  # after the first chunk that wrote anything
                terminated.append(grown)
                other.terminate("level3-2004", datetime(2004, 11, 20, tzinfo=NEW_YORK), "no")

        with pytest.raises(LifecycleError, match="terminated"):
            desk.import_csv("level3-2004", ALL, chunk=20, progress=terminate_in_between)
        # Part of a chunk, the termination, and nothing after it.
        assert desk.store.tree_size() == size + terminated[0] + 1


def test_the_import_verdict_covers_only_the_import_lines(desk: OfferDesk) -> None:
    desk.launch(OFFER)
    desk.import_csv("level3-2004", ALL, received_before=BEFORE_SUPPLEMENT)
    refusals: list[Exception] = []

    def submit_a_bad_tender(_count: int) -> None:
        # After a chunk that was all recorded already, from the importing desk itself.
        bad = Tender("bad", datetime(2004, 11, 1, tzinfo=NEW_YORK), "no-such", Decimal(1000))
        with pytest.raises(InputError) as caught:
            desk.submit("level3-2004", [bad])
        refusals.append(caught.value)

    size = desk.store.tree_size()
    desk.import_csv(
        "level3-2004",
        ALL,
        chunk=20,
        received_before=BEFORE_SUPPLEMENT,
        progress=submit_a_bad_tender,
    )
    assert len(refusals) == 10
    assert desk.store.tree_size() == size


@pytest.mark.parametrize(
    "point",
    ["received", "entries_written", "nodes_written", "before_commit", "after_commit_before_reply"],
)
def test_crash_mid_import_then_resume_equals_a_clean_replay(tmp_path: Path, point: str) -> None:
    url = f"sqlite:///{tmp_path / 'crash.db'}"
    with JournalStore.open(url) as store:
        OfferDesk(store).launch(OFFER)
    # Crash inside the third chunk of 20.
    plan = FaultPlan(crash_at=point, after_n=3 if point != "received" else 2)
    with JournalStore.open(url, faults=plan) as store, pytest.raises(SimulatedCrash):
        OfferDesk(store).import_csv("level3-2004", ALL, chunk=20, received_before=BEFORE_SUPPLEMENT)
    with JournalStore.open(url) as store:
        desk = OfferDesk(store)
        size = store.tree_size()
        assert (size - 1) % 20 == 0  # only whole chunks are visible
        summary = desk.import_csv("level3-2004", ALL, received_before=BEFORE_SUPPLEMENT)
        assert summary.created + summary.already_recorded == 182
        assert summary.already_recorded == size - 1
        assert results_json(desk.results("level3-2004", ETD).results) == file_mode_results(ETD)


KILL_SCRIPT = """
import sys
from pathlib import Path
from corpact.store import FaultPlan, JournalStore
from corpact.tender.desk import OfferDesk
url, path = sys.argv[1], Path(sys.argv[2])
plan = FaultPlan(crash_at="entries_written", after_n=4, kill=True)
with JournalStore.open(url, faults=plan) as store:
    OfferDesk(store).import_csv("level3-2004", path, chunk=25)
"""


def test_sigkill_in_the_middle_of_a_bulk_import(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'kill.db'}"
    with JournalStore.open(url) as store:
        desk = OfferDesk(store)
        desk.launch(OFFER)
        early = tmp_path / "early.csv"
        early.write_text((FOLDER / "instructions-early.csv").read_text())
    killed = subprocess.run([sys.executable, "-c", KILL_SCRIPT, url, str(early)], check=False)
    assert killed.returncode == -9
    with JournalStore.open(url) as store:
        desk = OfferDesk(store)
        assert store.tree_size() == 1 + 4 * 25
        desk.import_csv("level3-2004", early)
        assert results_json(desk.results("level3-2004", ETD).results) == file_mode_results(ETD)


def test_amendments_at_the_same_moment_apply_in_journal_order(
    desk: OfferDesk, tmp_path: Path
) -> None:
    """Hypothesis found this: "a10" sorts before "a7", and an id order let a cap recorded
    earlier prevail over the one recorded last."""
    desk.launch(OFFER)
    moment = datetime(2004, 11, 1, 10, 0, tzinfo=NEW_YORK)
    for amendment_id, cap in (("a7", "1100000000"), ("a10", "500000000")):
        path = tmp_path / f"{amendment_id}.toml"
        path.write_text(
            f'id = "{amendment_id}"\neffective_at = "{moment.isoformat()}"\n'
            f'aggregate_cap_amount = "{cap}"\n'
        )
        desk.amend("level3-2004", path)
    terms = desk.state("level3-2004").terms_at(moment)
    assert terms.aggregate_cap is not None
    assert terms.aggregate_cap.amount == Decimal(500_000_000)
