"""docs/splits.md shows the real output of the example, and the benchmark runs at small scale."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from corpact.cli.common import examples_root
from tests.cli_helpers import run_cli

DOC = Path(__file__).resolve().parents[2] / "docs" / "splits.md"


@pytest.mark.parametrize(
    "argv",
    [
        ["split", "validate", "split.yaml", "register.csv"],
        ["split", "apply", "split.yaml", "register.csv"],
        ["split", "apply", "split.yaml", "register.csv", "--format", "csv"],
    ],
)
def test_documented_output_is_current(
    argv: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The split example reads its authority from ../level3-2007-meeting/result.json.
    shutil.copytree(examples_root(), tmp_path, dirs_exist_ok=True)
    monkeypatch.chdir(tmp_path / "level3-2007-split")
    result = run_cli(*argv)
    assert result.exit_code == 0, result.stderr
    block = "$ corpact " + " ".join(argv) + "\n" + result.stdout.rstrip("\n") + "\n```"
    assert block in DOC.read_text(encoding="utf-8"), f"docs/splits.md is stale for {argv}"


def test_benchmark_runs_at_small_scale(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CORPACT_BENCH_SCALE", "0.0005")
    from bench import bench_split

    results = bench_split.run()
    assert [r.items for r in results] == [5000, 100]
    assert all(r.subject_seconds > 0 and r.baseline_seconds > 0 for r in results)
