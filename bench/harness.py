"""Timing helpers shared by the benchmarks. Speed is reported as a ratio to a baseline."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path


@dataclass(frozen=True)
class BenchResult:
    name: str
    items: int
    item_unit: str
    subject_seconds: float
    baseline_name: str
    baseline_seconds: float
    aim: str

    @property
    def rate_per_second(self) -> float:
        return self.items / self.subject_seconds if self.subject_seconds else float("inf")

    @property
    def ratio_to_baseline(self) -> float:
        """Subject time / baseline time: 2.0 means corpact took twice as long."""
        return self.subject_seconds / self.baseline_seconds if self.baseline_seconds else 0.0

    def line(self) -> str:
        return (
            f"{self.name:<48} {self.items:>12,} {self.item_unit:<12} "
            f"{self.subject_seconds:>9.3f}s {self.rate_per_second:>14,.0f}/s  "
            f"baseline {self.baseline_name} {self.baseline_seconds:.3f}s  "
            f"ratio {self.ratio_to_baseline:.2f}x  (aim: {self.aim})"
        )


def scale() -> float:
    """`CORPACT_BENCH_SCALE=0.01` runs every benchmark on 1% of its data (used by a smoke test)."""
    return float(os.environ.get("CORPACT_BENCH_SCALE", "1"))


def scaled(count: int) -> int:
    return max(1, int(count * scale()))


def best_of(fn: Callable[[], object], repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def once(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def save(results: list[BenchResult], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = [asdict(r) | {"ratio_to_baseline": r.ratio_to_baseline} for r in results]
    path.write_text(json.dumps(rows, indent=2) + "\n")
