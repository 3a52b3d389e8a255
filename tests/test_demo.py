"""`make demo` stays green and keeps showing the reference figures."""

from __future__ import annotations

from pathlib import Path

from tests.cli_helpers import run_cli

README = Path(__file__).parents[1] / "README.md"


def _readme_output_lines() -> list[str]:
    """The lines of the README's tour blocks that are output, not a command or an ellipsis."""
    text = README.read_text(encoding="utf-8")
    tour = text[text.index("## A five-minute tour") : text.index("## Documentation")]
    blocks = tour.split("```")[1::2]
    lines = [line.rstrip() for block in blocks for line in block.splitlines()]
    return [ln for ln in lines if ln.strip() and not ln.startswith("$") and "..." not in ln]


def test_the_whole_demo_runs_and_reproduces_the_reference_figures(tmp_path: Path) -> None:
    result = run_cli("demo", "--keep", str(tmp_path / "demo"))
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    # Tender: the 15 November 2004 table, then the supplement, then the replay on the journal.
    for figure in ("20.3%", "63.3%", "64.1%", "88.7%", "$1,104,727,255 at 1.2973 USD per EUR"):
        assert figure in out
    assert "$249,457,000" in out  # the 9 1/8% notes bought, as published on 2 December 2004
    assert out.count("VALID export") == 2 and out.count("VALID receipt") == 2
    assert '"total_consideration": "814.59"' in out  # Rogers 2025, 4.350% notes due 2049
    assert (tmp_path / "demo" / "payments.csv").exists()
    # The README calls its tour real output of `make demo`: every output line must be there.
    printed = {line.rstrip() for line in out.splitlines()}
    missing = [line for line in _readme_output_lines() if line not in printed]
    assert not missing, f"README tour lines the demo no longer prints: {missing}"


def test_a_failing_step_fails_the_demo(tmp_path: Path) -> None:
    folder = tmp_path / "demo"
    folder.mkdir()
    (folder / "level3-2004.db").write_text("not a database")
    result = run_cli("demo", "offer", "--keep", str(folder))
    assert result.exit_code != 0
