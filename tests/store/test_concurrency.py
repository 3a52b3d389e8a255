"""Concurrent writers (threads and processes): order and tree intact, one leaf per key."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading

from corpact.store import JournalStore
from tests.store.helpers import SIGNER, instruction

WRITERS = 4
BATCHES = 6


def _check(url: str, expected_keys: set[str]) -> None:
    with JournalStore.open(url, signer=SIGNER) as store:
        events = store.events()
        assert [e.index for e in events] == list(range(len(events)))
        assert {e.idempotency_key for e in events} == expected_keys
        assert len(events) == len(expected_keys)  # exactly one leaf per key
        store.sign_checkpoint()
        report = store.audit([SIGNER.verifier()])
        assert report.ok, report.problems


def test_threads_append_at_once(database_url: str) -> None:
    JournalStore.open(database_url).close()
    barrier = threading.Barrier(WRITERS)
    failures: list[BaseException] = []

    def writer(number: int) -> None:
        try:
            with JournalStore.open(database_url) as store:
                barrier.wait()
                for batch in range(BATCHES):
                    own = [instruction(1000 * (number + 1) + 10 * batch + i) for i in range(5)]
                    shared = [instruction(batch)]  # every writer races for the same key
                    receipts = store.append([*shared, *own])
                    assert len({r.index for r in receipts}) == 6
        except BaseException as err:  # reported below, in the main thread
            failures.append(err)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    keys = {instruction(b).idempotency_key for b in range(BATCHES)} | {
        instruction(1000 * (n + 1) + 10 * b + i).idempotency_key
        for n in range(WRITERS)
        for b in range(BATCHES)
        for i in range(5)
    }
    _check(database_url, keys)


PROCESS_WRITER = textwrap.dedent(
    """
    import sys
    from corpact.store import JournalStore
    from tests.store.helpers import instruction
    url, number = sys.argv[1], int(sys.argv[2])
    with JournalStore.open(url) as store:
        for batch in range(20):
            store.append([instruction(batch), instruction(1000 * number + batch)])
    """
)


def test_processes_append_at_once(database_url: str) -> None:
    JournalStore.open(database_url).close()
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env = {**os.environ, "PYTHONPATH": root}
    children = [
        subprocess.Popen([sys.executable, "-c", PROCESS_WRITER, database_url, str(n)], env=env)
        for n in range(1, 4)
    ]
    assert [child.wait(timeout=120) for child in children] == [0, 0, 0]
    keys = {instruction(b).idempotency_key for b in range(20)} | {
        instruction(1000 * n + b).idempotency_key for n in range(1, 4) for b in range(20)
    }
    _check(database_url, keys)
