"""Test-only fault injection: crash the writer at a named point of `append` or signing.

`FaultPlan(crash_at="entries_written")` raises `SimulatedCrash` the first time the point is
reached; `after_n=2` lets it pass twice first. `kill=True` sends SIGKILL to the process
instead, for out-of-process crash tests. Production code passes no plan.
"""

from __future__ import annotations

import os
import signal
from dataclasses import dataclass, field

from corpact.errors import check

CRASH_POINTS = (
    "received",  # validated, nothing written yet
    "locked",  # appender lock held, transaction open
    "entry_chunk_written",  # after each chunk of a bulk insert (use after_n)
    "entries_written",
    "nodes_written",
    "head_written",
    "before_commit",
    "after_commit_before_reply",
    "checkpoint_before_commit",
)


class SimulatedCrash(BaseException):
    """Not an `Exception`: nothing in corpact may catch and survive it, like a real crash."""


@dataclass(slots=True)
class FaultPlan:
    crash_at: str
    after_n: int = 0
    kill: bool = False
    passed: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        check(self.crash_at in CRASH_POINTS, f"unknown crash point {self.crash_at!r}")
        check(self.after_n >= 0, "after_n counts passes and cannot be negative")

    def reach(self, point: str) -> None:
        check(point in CRASH_POINTS, f"unknown crash point {point!r}")
        count = self.passed.get(point, 0)
        self.passed[point] = count + 1
        if point != self.crash_at or count != self.after_n:
            return
        if self.kill:
            os.kill(os.getpid(), signal.SIGKILL)
        raise SimulatedCrash(point)


class NoFaults:
    def reach(self, point: str) -> None:
        return None
