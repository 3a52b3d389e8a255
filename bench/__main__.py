"""`make bench`: run every `bench/bench_*.py` and print one line per measurement.

Select some with `python -m bench tender pricing`; scale the data with CORPACT_BENCH_SCALE.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

from bench.harness import BenchResult, save

HERE = Path(__file__).parent


def main(selected: list[str]) -> None:
    names = sorted(p.stem.removeprefix("bench_") for p in HERE.glob("bench_*.py"))
    chosen = [n for n in names if not selected or n in selected]
    results: list[BenchResult] = []
    for name in chosen:
        module = importlib.import_module(f"bench.bench_{name}")
        print(f"-- {name}", flush=True)
        for result in module.run():
            print(result.line(), flush=True)
            results.append(result)
    save(results, HERE / "results" / "latest.json")


if __name__ == "__main__":
    main(sys.argv[1:])
