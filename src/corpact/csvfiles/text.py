"""CSV files read as text: `#` comment lines, physical line numbers."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

from corpact.inputfiles import read_text


def read_rows(path: str | Path) -> tuple[list[str], Iterator[tuple[int, dict[str, str]]]]:
    """Header (first non-comment row) and an iterator of (physical line number, row dict)."""
    return rows_of_text(read_text(path))


def rows_of_text(text: str) -> tuple[list[str], Iterator[tuple[int, dict[str, str]]]]:
    """`read_rows` of a file's text."""
    header, cells = cells_of_text(text)
    return header, ((line, dict(zip(header, row, strict=False))) for line, row in cells)


def read_cells(path: str | Path) -> tuple[list[str], Iterator[tuple[int, list[str]]]]:
    """Header and an iterator of (physical line number, the row's cells); blank rows skipped."""
    return cells_of_text(read_text(path))


def cells_of_text(text: str) -> tuple[list[str], Iterator[tuple[int, list[str]]]]:
    """`read_cells` of a file's text."""
    # Comment lines become blank lines so that csv's line numbers stay physical line numbers.
    lines = ["\n" if line.startswith("#") else line for line in text.splitlines(keepends=True)]
    reader = csv.reader(lines)
    header: list[str] = []
    for row in reader:
        if row:
            header = [name.strip() for name in row]
            break

    def rows() -> Iterator[tuple[int, list[str]]]:
        for row in reader:
            if not row or not "".join(row).strip():
                continue
            yield reader.line_num, row

    return header, rows()
