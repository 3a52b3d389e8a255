"""Input files are UTF-8: saved with a byte order mark, as spreadsheet programs save "CSV
UTF-8", they read exactly as without it, whichever reader takes them; in another encoding they
are refused with the file and line of the first byte that is not UTF-8."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from corpact.cli.common import examples_root
from tests.cli_helpers import run_cli

BOM = b"\xef\xbb\xbf"


def _copies(folder: Path, names: list[str], tmp_path: Path) -> tuple[list[str], list[str]]:
    """The example files as they are, and with a byte order mark in front (same file names)."""
    plain, marked = tmp_path / "plain", tmp_path / "marked"
    plain.mkdir()
    marked.mkdir()
    for name in names:
        shutil.copy(folder / name, plain / name)
        (marked / name).write_bytes(BOM + (folder / name).read_bytes())
    return [str(plain / n) for n in names], [str(marked / n) for n in names]


def test_meeting_files_with_a_byte_order_mark(tmp_path: Path) -> None:
    names = ["meeting.yaml", "register.csv", "votes.csv"]
    plain, marked = _copies(examples_root() / "level3-2007-meeting", names, tmp_path)
    outputs = [
        run_cli("meeting", "tabulate", *files, "--format", "json") for files in (plain, marked)
    ]
    assert all(o.exit_code == 0 for o in outputs), [o.stderr for o in outputs]
    assert outputs[0].stdout == outputs[1].stdout
    # Evidence cites the same physical lines: the mark adds no line.
    rejections = json.loads(outputs[1].stdout)["report"]["rejections"]
    assert [r["evidence"]["line"] for r in rejections] == [82, 138, 140, 141, 142, 143]


@pytest.mark.parametrize("bad_line", [False, True])
def test_a_votes_file_with_a_mark_reads_by_column_and_by_row(
    tmp_path: Path, bad_line: bool
) -> None:
    """A plain file goes to the column reader; one bad line sends it to the row reader."""
    folder = examples_root() / "level3-2007-meeting"
    votes = (folder / "votes.csv").read_bytes()
    if bad_line:
        votes += b'"quoted",2007-05-01T10:00,H001,,internet,reverse-split,,for,,\n'
    (tmp_path / "votes.csv").write_bytes(BOM + votes)
    (tmp_path / "plain.csv").write_bytes(votes)
    args = [str(folder / "meeting.yaml"), str(folder / "register.csv")]
    with_mark = run_cli("meeting", "validate", *args, str(tmp_path / "votes.csv"))
    without = run_cli("meeting", "validate", *args, str(tmp_path / "plain.csv"))
    assert with_mark.exit_code == without.exit_code == 0, with_mark.stderr
    assert with_mark.stdout.replace("votes.csv", "plain.csv") == without.stdout


def test_split_files_with_a_byte_order_mark(tmp_path: Path) -> None:
    names = ["split.yaml", "register.csv"]
    plain, marked = _copies(examples_root() / "level3-2007-split", names, tmp_path)
    # The split file names the meeting result that granted the authority, beside its folder;
    # both runs read it with a mark.
    result = examples_root() / "level3-2007-meeting" / "result.json"
    (tmp_path / "level3-2007-meeting").mkdir()
    (tmp_path / "level3-2007-meeting" / "result.json").write_bytes(BOM + result.read_bytes())
    outputs = [run_cli("split", "apply", *files, "--format", "csv") for files in (plain, marked)]
    assert all(o.exit_code == 0 for o in outputs), [o.stderr for o in outputs]
    assert outputs[0].stdout == outputs[1].stdout


def test_tender_files_with_a_byte_order_mark(tmp_path: Path) -> None:
    names = ["offer.toml", "instructions-early.csv"]
    plain, marked = _copies(examples_root() / "level3-2004", names, tmp_path)
    outputs = [
        run_cli("tender", "results", *files, "--as-of", "2004-11-12T17:00", "--format", "json")
        for files in (plain, marked)
    ]
    assert all(o.exit_code == 0 for o in outputs), [o.stderr for o in outputs]
    assert outputs[0].stdout == outputs[1].stdout


# (example folder, files in command order, command, the file given a Latin-1 byte, its line)
LATIN1_CASES = [
    ("level3-2007-meeting", ["meeting.yaml", "register.csv", "votes.csv"], ["meeting", "tabulate"],
     "votes.csv", 4),
    ("level3-2007-meeting", ["meeting.yaml", "register.csv", "votes.csv"], ["meeting", "tabulate"],
     "register.csv", 4),
    ("level3-2007-meeting", ["meeting.yaml", "register.csv", "votes.csv"], ["meeting", "tabulate"],
     "meeting.yaml", 4),
    ("level3-2007-split", ["split.yaml", "register.csv"], ["split", "apply"], "register.csv", 4),
    ("level3-2007-split", ["split.yaml", "register.csv"], ["split", "apply"], "split.yaml", 4),
    ("level3-2004", ["offer.toml", "instructions-early.csv"], ["tender", "validate"],
     "instructions-early.csv", 4),
    ("level3-2004", ["offer.toml", "instructions-early.csv"], ["tender", "validate"],
     "offer.toml", 4),
]  # fmt: skip


@pytest.mark.parametrize(("folder", "names", "command", "spoiled", "line"), LATIN1_CASES)
def test_a_file_in_another_encoding_is_refused_with_its_line(
    tmp_path: Path, folder: str, names: list[str], command: list[str], spoiled: str, line: int
) -> None:
    plain, _ = _copies(examples_root() / folder, names, tmp_path)
    path = Path(plain[names.index(spoiled)])
    lines = path.read_bytes().split(b"\n")
    lines[line - 1] = b"# Z\xfcrich" + lines[line - 1]  # a comment in Latin-1, on that line
    path.write_bytes(b"\n".join(lines))
    if folder == "level3-2007-split":  # the meeting result the split file names, beside it
        result = examples_root() / "level3-2007-meeting" / "result.json"
        (tmp_path / "level3-2007-meeting").mkdir()
        shutil.copy(result, tmp_path / "level3-2007-meeting" / "result.json")
    found = run_cli(*command, *plain)
    assert found.exit_code == 1
    assert f"line {line}: not UTF-8 text" in found.stderr and "[rule: file-utf8]" in found.stderr
    assert spoiled in found.stderr and "Traceback" not in found.stderr
