"""Crash at every named point of a write; after restart nothing acknowledged is lost, nothing
half-written is visible, the tree verifies and a retry adds no second leaf.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

import pytest

from corpact.store import CRASH_POINTS, FaultPlan, JournalStore, SimulatedCrash
from corpact.store import journal_store as journal_store_module
from tests.store.helpers import SIGNER, instruction

APPEND_POINTS = [p for p in CRASH_POINTS if p != "checkpoint_before_commit"]
COMMITTED = {"after_commit_before_reply"}


def _recovered(url: str, expected_size: int) -> JournalStore:
    store = JournalStore.open(url, signer=SIGNER)
    assert store.tree_size() == expected_size
    report = store.audit([SIGNER.verifier()])
    assert report.ok, report.problems
    return store


@pytest.mark.parametrize("point", APPEND_POINTS)
def test_crash_at_each_point_of_append(
    database_url: str, point: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(journal_store_module, "CHUNK_ROWS", 2)  # several chunks per batch
    with JournalStore.open(database_url, signer=SIGNER) as store:
        acknowledged = store.append([instruction(i) for i in range(5)])
        store.sign_checkpoint()
    batch = [instruction(3), *[instruction(i) for i in range(5, 12)]]
    plan = FaultPlan(crash_at=point, after_n=1 if point == "entry_chunk_written" else 0)
    crashing = JournalStore.open(database_url, signer=SIGNER, faults=plan)
    with pytest.raises(SimulatedCrash):
        crashing.append(batch)
    crashing.close()  # the process is gone: drop every in-memory object
    store = _recovered(database_url, 12 if point in COMMITTED else 5)
    with store:
        assert store.events(upto_index=5) == [e for e in store.events() if e.index < 5]
        assert [r.index for r in acknowledged] == [0, 1, 2, 3, 4]
        retry = store.append(batch)
        assert [r.index for r in retry] == [3, *range(5, 12)]
        expected = "exists" if point in COMMITTED else "created"
        assert {r.status for r in retry[1:]} == {expected}
        assert store.tree_size() == 12
        store.sign_checkpoint()
        assert store.audit([SIGNER.verifier()]).ok


def test_crash_while_signing_a_checkpoint(database_url: str) -> None:
    with JournalStore.open(database_url, signer=SIGNER) as store:
        store.append([instruction(i) for i in range(3)])
        first = store.sign_checkpoint()
        store.append([instruction(i) for i in range(3, 6)])
    plan = FaultPlan(crash_at="checkpoint_before_commit")
    crashing = JournalStore.open(database_url, signer=SIGNER, faults=plan)
    with pytest.raises(SimulatedCrash):
        crashing.sign_checkpoint()
    crashing.close()
    with _recovered(database_url, 6) as store:
        assert store.latest_checkpoint() == first
        assert store.sign_checkpoint().split("\n")[1] == "6"


CHILD = textwrap.dedent(
    """
    import sys
    from corpact.store import FaultPlan, JournalStore, journal_store
    journal_store.CHUNK_ROWS = 5  # a 40-event batch is written in 8 chunks
    from tests.store.helpers import SIGNER, instruction
    url, point, after_n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    plan = FaultPlan(crash_at=point, after_n=after_n, kill=True) if point != "none" else None
    store = JournalStore.open(url, signer=SIGNER, faults=plan)
    if point == "none":  # append one by one and acknowledge each, until killed
        for i in range(10_000):
            receipt = store.append([instruction(i)])[0]
            print(receipt.idempotency_key, flush=True)
    else:
        store.append([instruction(i) for i in range(40)])
    """
)


def _child(url: str, point: str, after_n: int = 0) -> subprocess.Popen[str]:
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env = {**os.environ, "PYTHONPATH": root}
    return subprocess.Popen(
        [sys.executable, "-c", CHILD, url, point, str(after_n)],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )


@pytest.mark.parametrize(
    ("point", "after_n", "size"),
    [("entry_chunk_written", 2, 0), ("before_commit", 0, 0), ("after_commit_before_reply", 0, 40)],
)
def test_sigkill_at_a_crash_point(database_url: str, point: str, after_n: int, size: int) -> None:
    JournalStore.open(database_url).close()  # migrate before the child starts
    child = _child(database_url, point, after_n)
    assert child.wait(timeout=60) == -signal.SIGKILL
    with _recovered(database_url, size) as store:
        store.append([instruction(i) for i in range(40)])
        assert store.tree_size() == 40


def test_sigkill_during_a_stream_of_appends(database_url: str) -> None:
    JournalStore.open(database_url).close()
    child = _child(database_url, "none")
    assert child.stdout is not None
    acknowledged = [child.stdout.readline().strip() for _ in range(25)]
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=60)
    with JournalStore.open(database_url, signer=SIGNER) as store:
        stored = {e.idempotency_key for e in store.events()}
        assert set(acknowledged) <= stored  # nothing acknowledged is lost
        assert store.tree_size() == len(stored)
        report = store.audit([SIGNER.verifier()])
        assert report.ok, report.problems
