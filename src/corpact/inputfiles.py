"""Input files as bytes, text and YAML, read the same way by every domain.

Text is UTF-8; a byte order mark in front (as spreadsheet programs save "CSV UTF-8") is dropped
and line ends read as `open(..., newline=None)` reads them, so line numbers stay the file's
own. A file that cannot be read, is not UTF-8, or is YAML with a date that does not exist, is
an `InputError` or a YAML error naming the file and line, never a Python exception.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from yaml.constructor import ConstructorError
from yaml.nodes import ScalarNode

from corpact.errors import InputError

UTF8_BOM = b"\xef\xbb\xbf"


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


TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"


class _Loader(yaml.SafeLoader):
    """`SafeLoader` with the checked timestamp constructor below."""


def _timestamp(loader: yaml.SafeLoader, node: ScalarNode) -> Any:
    try:
        return yaml.SafeLoader.construct_yaml_timestamp(loader, node)
    except ValueError as err:
        raise ConstructorError(
            None, None, f"{node.value!r} is not a real date or time ({err})", node.start_mark
        ) from None


_Loader.add_constructor(TIMESTAMP_TAG, _timestamp)


def load_yaml(text: str) -> Any:
    """The document `text` holds; `yaml.YAMLError` (with its mark) where it is not valid."""
    return yaml.load(text, Loader=_Loader)
