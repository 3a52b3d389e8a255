"""Style rules that a linter cannot express, checked over the package source with `ast`."""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "corpact"
# Float is tolerated only inside yield solvers, and each such line says so.
FLOAT_OK_MARK = "# float ok"


def _modules() -> list[Path]:
    return sorted(p for p in SRC.rglob("*.py") if "migrations" not in p.parts)


def _violations(path: Path) -> list[str]:
    text = path.read_text()
    lines = text.splitlines()
    found: list[str] = []
    for node in ast.walk(ast.parse(text)):
        where = f"{path.relative_to(SRC)}:{getattr(node, 'lineno', 0)}"
        if isinstance(node, ast.Assert):
            found.append(f"{where}: assert (use corpact.errors.check)")
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "float"
            and FLOAT_OK_MARK not in lines[node.lineno - 1]
        ):
            found.append(f"{where}: float( outside a marked solver line")
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            owner = node.func.value
            if (
                node.func.attr in {"now", "utcnow", "today"}
                and isinstance(owner, ast.Name)
                and owner.id in {"datetime", "date"}
                and path.name != "clock.py"
            ):
                found.append(f"{where}: {owner.id}.{node.func.attr}() outside clock.py")
    return found


def test_source_follows_house_rules() -> None:
    problems = [v for path in _modules() for v in _violations(path)]
    assert problems == []


def test_tidy_catches_a_planted_violation(tmp_path: Path) -> None:
    planted = SRC / "_planted_for_tidy_test.py"
    planted.write_text("x = float('1.5')\nassert x\n")
    try:
        assert len(_violations(planted)) == 2
    finally:
        planted.unlink()
