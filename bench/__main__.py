"""`make bench`: run every `bench/bench_*.py` and print one line per measurement.

Select some with `python -m bench tender pricing`; scale the data with CORPACT_BENCH_SCALE.
Each module runs in a process of its own: a benchmark that held ten million rows leaves the
allocator in a state that slowed the next one's Python work by a quarter, and its baseline
(measured in the same process) did not suffer alike.
"""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
import tempfile
from dataclasses import fields
from pathlib import Path

from bench.harness import BenchResult, save

HERE = Path(__file__).parent
FIELDS = [f.name for f in fields(BenchResult)]
ONE = "--one"  # internal: run one module in this process, its results to the given file


def main(selected: list[str]) -> None:
    if selected[:1] == [ONE]:
        _run_one(selected[1], Path(selected[2]))
        return
    names = sorted(p.stem.removeprefix("bench_") for p in HERE.glob("bench_*.py"))
    chosen = [n for n in names if not selected or n in selected]
    results: list[BenchResult] = []
    with tempfile.TemporaryDirectory() as folder:
        for name in chosen:
            out = Path(folder) / f"{name}.json"
            subprocess.run([sys.executable, "-m", "bench", ONE, name, str(out)], check=True)
            rows = json.loads(out.read_text())
            results += [BenchResult(**{k: row[k] for k in FIELDS}) for row in rows]
    save(results, HERE / "results" / "latest.json")


def _run_one(name: str, out: Path) -> None:
    module = importlib.import_module(f"bench.bench_{name}")
    print(f"-- {name}", flush=True)
    results: list[BenchResult] = []
    for result in module.run():
        print(result.line(), flush=True)
        results.append(result)
    save(results, out)


if __name__ == "__main__":
    main(sys.argv[1:])
