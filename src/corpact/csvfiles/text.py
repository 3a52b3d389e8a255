"""CSV files read as text: `#` comment lines, physical line numbers."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

from corpact.errors import InputError

UTF8_BOM = b"\xef\xbb\xbf"


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


def read_text(path: str | Path, source: str | None = None) -> str:
    """An input file's text as `Path.read_text(encoding="utf-8-sig")` gives it; a file that
    cannot be read or is not UTF-8 raises `InputError` under `source` (default: its name)."""
    name = source or Path(path).name
    return decoded_text(read_data(path, name), name)


def decoded_text(data: bytes, source: str) -> str:
    """`data` as UTF-8 text, or `InputError` naming the line of the first byte that is not."""
    try:
        return data.removeprefix(UTF8_BOM).decode("utf-8")
    except UnicodeDecodeError as err:
        line = data.count(b"\n", 0, err.start) + 1
        raise InputError.single(
            "file-utf8", f"not UTF-8 text (byte {err.start})", source=source, line=line
        ) from None


def read_data(path: str | Path, source: str | None = None) -> bytes:
    """The file's bytes with its line ends as reading it as text gives them, without the byte
    order mark spreadsheet programs put in front of a UTF-8 CSV file."""
    return universal_newlines(read_bytes(path, source).removeprefix(UTF8_BOM))


def universal_newlines(data: bytes) -> bytes:
    """What reading as text does to line ends (`open(..., newline=None)`): CR LF and CR become
    LF. Neither byte occurs inside a multi-byte UTF-8 character, so bytes may be translated."""
    if b"\r" not in data:
        return data
    return data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")


def read_bytes(path: str | Path, source: str | None = None) -> bytes:
    """The file's bytes; `InputError` under `source` (default: its name) when it cannot be read."""
    name = source or Path(path).name
    try:
        return Path(path).read_bytes()
    except FileNotFoundError:
        raise InputError.single("file", f"no such file: {path}", source=name) from None
    except OSError as err:
        raise InputError.single(
            "file-readable", f"cannot read file: {err.strerror}", source=name
        ) from None


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
