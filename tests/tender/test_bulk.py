"""The bulk import by column (`tender.bulk`) against the row path it stands in for.

Whenever `plain_instructions` takes a file, the row path must find nothing wrong with it and write
the very same events, byte for byte. A file it declines goes to the row path, so declining is
always safe; the tests also show that the files bulk systems write are taken.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import event, example, given
from hypothesis import strategies as st

from corpact.cli.common import examples_root
from corpact.errors import InputError
from corpact.journal.batch import encode_batch
from corpact.journal.events import EncodedEvent, encode_events
from corpact.journal.hashing import leaf_hash
from corpact.store import FaultPlan, JournalStore, SimulatedCrash
from corpact.tender.bulk import instruction_events, plain_instructions
from corpact.tender.desk import OfferDesk, _instruction_events
from corpact.tender.instructions import parse_instructions_csv_lenient
from corpact.tender.lifecycle import OfferState, stream_of
from corpact.tender.render import results_json
from tests.cli_helpers import run_cli
from tests.tender.builders import NEW_YORK
from tests.tender.test_live_offer import (
    BEFORE_SUPPLEMENT,
    ETD,
    KILL_SCRIPT,
    counting_checks,
    tender,
)

FOLDER = examples_root() / "level3-2004"
OFFER_ID = "level3-2004"
SERIES = ["l3-9.125-2008", "l3-11-2008", "l3-10.5-discount-2008", "l3-10.75-euro-2008"]
HEADER = "instruction_id,received_at,action,series,principal,currency,participant,account,reference,guaranteed_delivery"  # noqa: E501
# Earlier tenders, one of them withdrawn: their ids are taken, their principal counts.
PRIOR = (
    "instruction_id,received_at,action,series,principal,withdraws\n"
    "p1,2004-11-01T10:00,tender,l3-11-2008,5000,\n"
    "p2,2004-11-02T10:00,tender,l3-9.125-2008,7000,\n"
    "w1,2004-11-03T10:00,withdraw,,,p2\n"
)


def tenders_only(path: Path, before: datetime | None = None) -> int:
    """Write the example file's tenders (withdrawals need the row path) to `path`; the
    number of them received before `before` (default: the supplement), which an import
    with `received_before` takes."""
    lines = (FOLDER / "instructions.csv").read_text().splitlines()
    kept = [lines[0]] + [line for line in lines[1:] if line.split(",")[2] == "tender"]
    if before is not None:
        kept = [kept[0]] + [line for line in kept[1:] if _received(line) < before]
    path.write_text("\n".join(kept) + "\n")
    return sum(_received(line) < (before or BEFORE_SUPPLEMENT) for line in kept[1:])


def _received(line: str) -> datetime:
    return datetime.fromisoformat(line.split(",")[1])


@pytest.fixture(scope="module")
def states(tmp_path_factory: pytest.TempPathFactory) -> dict[str, OfferState]:
    """The offer just launched; amended by the supplement; with earlier tenders, one withdrawn."""
    folder = tmp_path_factory.mktemp("states")
    found: dict[str, OfferState] = {}
    for name in ("launched", "amended", "with-prior"):
        with JournalStore.open(f"sqlite:///{folder / name}.db") as store:
            desk = OfferDesk(store)
            desk.launch(FOLDER / "offer.toml")
            if name == "amended":
                desk.amend(OFFER_ID, FOLDER / "supplement-2004-11-17.toml")
            if name == "with-prior":
                prior = folder / "prior.csv"
                prior.write_text(PRIOR)
                desk.import_csv(OFFER_ID, prior)
            found[name] = desk.state(OFFER_ID)
    return found


def row_path(text: str, state: OfferState, before: datetime | None) -> list[EncodedEvent] | None:
    """What the row path writes for the file, or None when it refuses the file."""
    assert state.base_terms is not None
    # As `Path.read_text` gives the file to the row reader.
    text = text.replace("\r\n", "\n")
    try:
        instructions, problems = parse_instructions_csv_lenient(text, state.base_terms, "in.csv")
    except InputError:
        return None  # a header it refuses
    if before is not None:
        instructions = [i for i in instructions if i.received_at < before]
    ordered = sorted(instructions, key=lambda i: (i.received_at, i.line or 0))
    trial = state.copy()
    for instruction in ordered:
        problems += trial.offer_instruction(instruction)
    if problems:
        return None
    return encode_events(_instruction_events(OFFER_ID, ordered))


def column_path(text: str, state: OfferState, before: datetime | None) -> list[bytes] | None:
    found = plain_instructions(text.encode(), state, before)
    if found is None:
        return None
    kinds, keys, payloads = instruction_events(OFFER_ID, found.table)
    batch = encode_batch(stream_of(OFFER_ID), kinds, keys, payloads, found.table["received_us"])
    assert batch.leaf_hashes == [leaf_hash(data) for data in batch.leaf_data]
    return batch.leaf_data


LAYOUTS = [
    lambda t: t.strftime("%Y-%m-%dT%H:%M"),  # the offer's zone
    lambda t: t.strftime("%Y-%m-%dT%H:%M:%S"),
    lambda t: t.astimezone(NEW_YORK).isoformat(),
    lambda t: t.astimezone(NEW_YORK).isoformat(timespec="milliseconds"),
    lambda t: t.astimezone(NEW_YORK).isoformat(timespec="microseconds").replace("-05:00", "Z"),
    lambda t: " " + t.astimezone(NEW_YORK).isoformat() + " ",
    lambda t: t.strftime("%Y%m%dT%H%M%S"),
]
CELLS = {
    "action": ["tender", "tender", "tender", " Tender ", "TENDER", "withdraw"],
    "series": [*SERIES, *SERIES, " l3-11-2008", "no-such", ""],
    "principal": ["1000", "25000", "1,000", "1_000", "2000.00", "1e3", "1E+4", " 3000 ", "0",
                  "-1000", "999", "1500", "lots", "NaN", "10000000000000"],
    "currency": ["", "", "USD", "usd", " EUR", "EUR", "GBP"],
    "participant": ["DTC 0001", "", "a\\b", "é€", "x\ty", "  padded  "],
    "account": ["A1", "", "\\", "/"],
    "reference": ["VOI-1", "", "ref 😀", "\x7f"],
    "guaranteed_delivery": ["", "", "false", "yes", " TRUE ", "n", "maybe"],
}  # fmt: skip


@st.composite
def files(draw: st.DrawFn) -> tuple[str, str, datetime | None]:
    """A file in the shape bulk systems write, mostly valid, with odd cells, rows and headers."""
    columns = ["instruction_id", "received_at", "action", "series", "principal"]
    optional = [c for c in HEADER.split(",") if c not in columns]
    columns += draw(st.lists(st.sampled_from(optional), unique=True))
    withdrawals = draw(st.booleans())
    if withdrawals:
        columns.append("withdraws")
    columns = draw(st.permutations(columns))
    header = ",".join(columns)
    if draw(st.integers(0, 19)) == 0:
        header = header.replace(",", ", ", 1)  # a blank in a name: the row reader keeps it
    lines = [header]
    odd = draw(st.sampled_from([0, 0, 1, 3]))  # how many odd cells per row at most
    state = draw(st.sampled_from(["launched", "amended", "with-prior"]))
    # The amendment is a milestone: instructions after it must be received after it.
    first = datetime(2004, 11, 17 if state == "amended" else 1, 9, tzinfo=NEW_YORK)
    tendered: list[tuple[str, datetime]] = []
    for n in range(draw(st.integers(1, 12))):
        moment = first + timedelta(
            minutes=draw(st.integers(0, 13 * 24 * 60)), seconds=draw(st.sampled_from([0, 0, 7]))
        )
        cells = {
            "instruction_id": f"t{n}",
            "received_at": LAYOUTS[draw(st.integers(0, 2))](moment),
            "action": "tender",
            "series": draw(st.sampled_from(SERIES)),
            "principal": draw(st.sampled_from(["1000", "25000", "3000"])),
        }
        if withdrawals and tendered and draw(st.integers(0, 2)) == 0:
            # Mostly a withdrawal of an earlier line's tender some minutes after it; else of a
            # tender in the journal (p2 is withdrawn there already) or of nothing, or at any
            # time (before its tender, past its deadline). Series and amount are not read.
            target, at = draw(st.sampled_from(tendered))
            if draw(st.integers(0, 3)) == 0:
                target = draw(st.sampled_from(["p1", "p2", "x", target]))
            else:
                moment = at + timedelta(minutes=draw(st.integers(0, 600)))
            cells["action"] = draw(st.sampled_from(["withdraw", "withdraw", " Withdraw "]))
            cells["withdraws"] = target
            cells["received_at"] = LAYOUTS[draw(st.integers(0, 2))](moment)
            if draw(st.booleans()):
                cells["series"] = cells["principal"] = ""
        else:
            tendered.append((cells["instruction_id"], moment))
        for _ in range(draw(st.integers(0, odd))):
            name = draw(st.sampled_from(columns))
            if name == "instruction_id":
                cells[name] = draw(st.sampled_from(["t0", "p1", "", " t99 ", "x" * 257, "é1"]))
            elif name == "withdraws":
                cells[name] = draw(st.sampled_from(["", "t0", " t1 "]))
            elif name == "received_at":
                shift = timedelta(days=draw(st.sampled_from([0, 0, -40, 40])))
                cells[name] = draw(st.sampled_from(LAYOUTS))(moment + shift)
            else:
                cells[name] = draw(st.sampled_from(CELLS[name]))
        if cells.get("currency") is None and cells["series"].endswith("euro-2008"):
            cells["currency"] = draw(st.sampled_from(["", "EUR"]))
        lines.append(",".join(cells.get(name, "") for name in columns))
    end = draw(st.sampled_from(["\n", "\n", "\r\n"]))
    text = end.join(lines) + draw(st.sampled_from([end, ""]))
    return text, state, draw(st.sampled_from([None, None, BEFORE_SUPPLEMENT]))


@given(files())
@example(
    (
        "instruction_id,received_at,action,series,principal\n"
        "t1,2004-11-01T10:00,tender,l3-11-2008,1000\n"
        "t2,2004-11-01T10:00:00-05:00,tender,l3-11-2008,1000\n",
        "launched",
        None,
    )
)
def test_a_file_taken_by_column_is_written_as_the_row_path_writes_it(
    states: dict[str, OfferState], case: tuple[str, str, datetime | None]
) -> None:
    text, name, before = case
    by_column = column_path(text, states[name], before)
    by_row = row_path(text, states[name], before)
    event(f"by column: {by_column is not None}; row path refuses: {by_row is None}")
    if by_column is None:
        return  # the row path decides; nothing to compare
    assert by_row is not None, "taken by column, but the row path refuses the file"
    assert by_column == [e.leaf_data for e in by_row]


@pytest.fixture
def two_desks(database_url: str, tmp_path: Path) -> Iterator[tuple[OfferDesk, OfferDesk]]:
    """The desk under test (SQLite or PostgreSQL) and a row-path reference on SQLite."""
    with (
        JournalStore.open(database_url) as store,
        JournalStore.open(f"sqlite:///{tmp_path / 'rows.db'}") as reference,
    ):
        desks = OfferDesk(store), OfferDesk(reference)
        for desk in desks:
            desk.launch(FOLDER / "offer.toml")
        yield desks


def test_the_reference_tenders_are_imported_by_column_as_the_row_path_imports_them(
    two_desks: tuple[OfferDesk, OfferDesk], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    desk, reference = two_desks
    path = tmp_path / "tenders.csv"
    early = tenders_only(path)
    reference.import_csv(
        OFFER_ID, path, chunk=20, received_before=BEFORE_SUPPLEMENT, columnar=False
    )
    seen = counting_checks(monkeypatch)
    summary = desk.import_csv(OFFER_ID, path, chunk=20, received_before=BEFORE_SUPPLEMENT)
    assert seen == []  # not one line went through the row path's rules
    assert (summary.created, summary.already_recorded) == (early, 0)
    assert desk.store.tree_size() == reference.store.tree_size() == 1 + early
    assert desk.store.root() == reference.store.root()  # the same leaves, byte for byte
    assert results_json(desk.results(OFFER_ID, ETD).results) == results_json(
        reference.results(OFFER_ID, ETD).results
    )
    again = desk.import_csv(OFFER_ID, path, received_before=BEFORE_SUPPLEMENT)
    assert (again.created, again.already_recorded) == (0, early)  # a retry: by row, harmless
    assert desk.store.root() == reference.store.root()


def test_a_writer_between_chunks_sends_the_rest_to_the_row_path(
    two_desks: tuple[OfferDesk, OfferDesk],
    database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    desk, _reference = two_desks
    path = tmp_path / "tenders.csv"
    early = tenders_only(path)
    seen = counting_checks(monkeypatch)
    written: list[int] = []
    with JournalStore.open(database_url) as store:
        other = OfferDesk(store)

        def tender_in_between(count: int) -> None:
            written.append(count)
            if len(written) == 2:
                other.submit(OFFER_ID, [tender("between", datetime(2004, 11, 1, tzinfo=NEW_YORK))])

        summary = desk.import_csv(
            OFFER_ID, path, chunk=20, received_before=BEFORE_SUPPLEMENT, progress=tender_in_between
        )
    # Two chunks by column, the other writer's tender, then the row path: its trial checks
    # every line against the offer as it now stands (the 40 written are retries to it).
    assert written[:2] == [20, 20]
    assert len(seen) == 1 + early
    assert (summary.created, summary.already_recorded) == (early, 0)
    assert desk.store.tree_size() == 1 + early + 1
    fresh = OfferDesk(desk.store).state(OFFER_ID)
    assert desk.state(OFFER_ID).ledger == fresh.ledger
    assert fresh.ledger is not None and "between" in fresh.ledger.tenders
    assert len(fresh.ledger.tenders) == early + 1


@pytest.mark.parametrize(
    "point",
    ["received", "entries_written", "nodes_written", "before_commit", "after_commit_before_reply"],
)
def test_a_crash_mid_import_by_column_then_a_resume_equals_a_clean_import(
    tmp_path: Path, point: str
) -> None:
    path = tmp_path / "tenders.csv"
    early = tenders_only(path)
    url = f"sqlite:///{tmp_path / 'crash.db'}"
    with JournalStore.open(url) as store:
        OfferDesk(store).launch(FOLDER / "offer.toml")
    plan = FaultPlan(crash_at=point, after_n=3 if point != "received" else 2)
    with JournalStore.open(url, faults=plan) as store, pytest.raises(SimulatedCrash):
        OfferDesk(store).import_csv(OFFER_ID, path, chunk=20, received_before=BEFORE_SUPPLEMENT)
    with (
        JournalStore.open(url) as store,
        JournalStore.open(f"sqlite:///{tmp_path / 'clean.db'}") as clean,
    ):
        size = store.tree_size()
        assert (size - 1) % 20 == 0  # only whole chunks are visible
        summary = OfferDesk(store).import_csv(OFFER_ID, path, received_before=BEFORE_SUPPLEMENT)
        assert (summary.created + summary.already_recorded, summary.already_recorded) == (
            early,
            size - 1,
        )
        reference = OfferDesk(clean)
        reference.launch(FOLDER / "offer.toml")
        reference.import_csv(OFFER_ID, path, received_before=BEFORE_SUPPLEMENT)
        assert store.root() == clean.root()
        assert store.audit().ok


def test_sigkill_in_the_middle_of_an_import_by_column(tmp_path: Path) -> None:
    path = tmp_path / "tenders.csv"
    early = tenders_only(path, BEFORE_SUPPLEMENT)
    url = f"sqlite:///{tmp_path / 'kill.db'}"
    with JournalStore.open(url) as store:
        OfferDesk(store).launch(FOLDER / "offer.toml")
    killed = subprocess.run([sys.executable, "-c", KILL_SCRIPT, url, str(path)], check=False)
    assert killed.returncode == -9
    with JournalStore.open(url) as store:
        assert store.tree_size() == 1 + 4 * 25
        desk = OfferDesk(store)
        desk.import_csv(OFFER_ID, path)
        assert store.tree_size() == 1 + early
        assert store.audit().ok


def test_the_cli_imports_a_plain_file_by_column_with_the_row_path_results(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "tenders.csv"
    early = tenders_only(path)
    by_rows = f"sqlite:///{tmp_path / 'rows.db'}"
    with JournalStore.open(by_rows) as store:
        desk = OfferDesk(store)
        desk.launch(FOLDER / "offer.toml")
        desk.import_csv(OFFER_ID, path, received_before=BEFORE_SUPPLEMENT, columnar=False)
    by_columns = f"sqlite:///{tmp_path / 'columns.db'}"
    seen = counting_checks(monkeypatch)
    assert run_cli("offer", "create", str(FOLDER / "offer.toml"), "--db", by_columns).exit_code == 0
    until = BEFORE_SUPPLEMENT.isoformat()
    imported = run_cli("offer", "import", OFFER_ID, str(path), "--until", until, "--db", by_columns)
    assert imported.exit_code == 0, imported.stderr
    assert f"{early} instruction(s) recorded, 0 already in the journal" in imported.stdout
    assert seen == []
    results = [
        run_cli("offer", "results", OFFER_ID, "--as-of", ETD.isoformat(), "--format", "json",
                "--db", url).stdout
        for url in (by_columns, by_rows)
    ]  # fmt: skip
    assert results[0] == results[1] and '"accepted"' in results[0]


def test_a_file_that_is_not_utf8_is_refused_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "latin1.csv"
    path.write_bytes(
        b"instruction_id,received_at,action,series,principal\r\n"
        + b"t1,2004-11-01T10:00,tender,l3-11-2008,1000,\xe9\r\n"
    )
    with JournalStore.open(f"sqlite:///{tmp_path / 'j.db'}") as store:
        desk = OfferDesk(store)
        desk.launch(FOLDER / "offer.toml")
        size = store.tree_size()
        with pytest.raises(InputError) as caught:
            desk.import_csv(OFFER_ID, path)
        assert store.tree_size() == size
    [problem] = caught.value.problems
    assert (problem.rule, problem.line, problem.source) == ("file-utf8", 2, str(path))


def test_the_reference_file_with_its_withdrawals_is_imported_by_column(
    two_desks: tuple[OfferDesk, OfferDesk], monkeypatch: pytest.MonkeyPatch
) -> None:
    desk, reference = two_desks
    every = FOLDER / "instructions.csv"  # 200 tenders and 2 withdrawals
    for at, until in ((BEFORE_SUPPLEMENT, BEFORE_SUPPLEMENT), (None, None)):
        if at is None:
            for each in (desk, reference):
                each.amend(OFFER_ID, FOLDER / "supplement-2004-11-17.toml")
        reference.import_csv(OFFER_ID, every, received_before=until, columnar=False)
        seen = counting_checks(monkeypatch)
        desk.import_csv(OFFER_ID, every, received_before=until)
        # The second import holds ids received by the first: it goes by row, harmlessly.
        assert seen == [] if at is not None else len(seen) > 0
        monkeypatch.undo()
        assert desk.store.root() == reference.store.root()
    fresh = OfferDesk(desk.store).state(OFFER_ID)
    assert fresh.ledger is not None and len(fresh.ledger.withdrawals) == 2
    assert results_json(desk.results(OFFER_ID, ETD).results) == results_json(
        reference.results(OFFER_ID, ETD).results
    )
