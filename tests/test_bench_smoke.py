"""Every benchmark runs end to end on a sliver of its data (speed is never asserted here)."""

from __future__ import annotations

import importlib
import os
from pathlib import Path

import pytest
from bench.harness import BenchResult

BENCHES = sorted(p.stem for p in (Path(__file__).resolve().parents[1] / "bench").glob("bench_*.py"))


@pytest.mark.parametrize("name", BENCHES)
def test_benchmark_runs_at_tiny_scale(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CORPACT_BENCH_SCALE", os.environ.get("CORPACT_SMOKE_SCALE", "0.001"))
    module = importlib.import_module(f"bench.{name}")
    results = module.run()
    assert results and all(isinstance(r, BenchResult) for r in results)
    for result in results:
        assert result.items > 0 and result.subject_seconds > 0 and result.baseline_seconds > 0
