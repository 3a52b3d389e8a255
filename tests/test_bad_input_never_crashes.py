"""Whatever one edit does to an example file, the command answers: a result, or every problem
named with its rule and nothing changed; never an exception.

Each example is a real case (the 2004 tender offer, the 2007 meeting and its split). One edit
puts a troublesome value into one cell or key, or drops, repeats or cuts off a line. Every edit
and option found to raise once is a test of its own below.
"""

from __future__ import annotations

import json
import shutil
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from corpact.cli import app
from corpact.cli.common import examples_root

# (example folder, files in command order, command and options)
MEETING_FILES = ["meeting.yaml", "register.csv", "votes.csv"]
COMMANDS = [
    ("level3-2007-meeting", MEETING_FILES, ["meeting", "tabulate"], []),
    ("level3-2007-meeting", MEETING_FILES, ["meeting", "validate"], []),
    ("level3-2007-split", ["split.yaml", "register.csv"], ["split", "apply"], []),
    ("level3-2004", ["offer.toml", "instructions-early.csv"], ["tender", "results"],
     ["--as-of", "2004-11-12T17:00"]),
    ("level3-2004", ["offer.toml", "instructions.csv"], ["tender", "payments"], []),
]  # fmt: skip
VALUES = [
    "", "-1", "0", "-0", "1e400", "1e-400", "NaN", "inf", "9" * 41, "0.0000001", "1,000", "1_000",
    "+5", ".5", "5.", "0x10", "x", '"', "true", "[]", "{}", "null", "~", "１２", "\t",
    "2004-13-45", "2007-02-29T10:00", "2007-05-24T25:00", "9999-12-31T23:59:59Z",
    "0001-01-01T00:00",
]  # fmt: skip
EDITS = ["value", "drop", "repeat", "cut"]


def _edited(text: str, line: int, edit: str, cell: int, value: str, csv: bool) -> str:
    lines = text.split("\n")
    line %= len(lines)
    if edit == "drop":
        del lines[line]
    elif edit == "repeat":
        lines.insert(line, lines[line])
    elif edit == "cut":
        lines = lines[:line]
    elif csv:
        cells = lines[line].split(",")
        cells[cell % len(cells)] = value
        lines[line] = ",".join(cells)
    else:
        sep = "=" if "=" in lines[line] else ":"
        key, found, _ = lines[line].partition(sep)
        if found:  # TOML wants a quoted string where the value is not a number or a literal
            plain = value in {"true", "[]", "{}"} or value.lstrip("-").isdigit()
            shown = value if sep == ":" or plain else '"' + value.replace('"', "") + '"'
            lines[line] = f"{key}{sep} {shown}"
    return "\n".join(lines)


@settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    command=st.sampled_from(COMMANDS),
    file_index=st.integers(0, 2),
    line=st.integers(0, 10_000),
    edit=st.sampled_from(EDITS),
    cell=st.integers(0, 20),
    value=st.sampled_from(VALUES),
)
def test_one_bad_edit_is_answered_never_raised(
    tmp_path_factory: pytest.TempPathFactory,
    command: tuple[str, list[str], list[str], list[str]],
    file_index: int,
    line: int,
    edit: str,
    cell: int,
    value: str,
) -> None:
    folder, names, words, options = command
    work = tmp_path_factory.mktemp("case")
    for name in names:
        shutil.copy(examples_root() / folder / name, work / name)
    if folder == "level3-2007-split":  # the split file names the meeting result beside it
        meeting = work.parent / "level3-2007-meeting"
        meeting.mkdir(exist_ok=True)
        shutil.copy(examples_root() / "level3-2007-meeting" / "result.json", meeting)
    victim = work / names[file_index % len(names)]
    text = victim.read_text(encoding="utf-8")
    victim.write_text(
        _edited(text, line, edit, cell, value, victim.suffix == ".csv"), encoding="utf-8"
    )
    args = [*words, *(str(work / n) for n in names), *options]
    result = CliRunner().invoke(app, args, catch_exceptions=True)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"{args} raised after editing {victim.name}") from result.exception
    assert result.exit_code in (0, 1)
    if result.exit_code == 1:
        assert "[rule: " in result.stderr and "nothing was changed" in result.stderr


# Edits that once raised instead of being reported: (folder, files, command, file edited,
# text replaced, replacement, what the report names).
FOUND = [
    ("level3-2007-meeting", MEETING_FILES, ["meeting", "tabulate"], "meeting.yaml",
     "date: 2007-05-24", "date: 2007-13-45", "line 11"),
    ("level3-2007-split", ["split.yaml", "register.csv"], ["split", "apply"], "split.yaml",
     "decided_on: 2008-02-01", "decided_on: 2008-02-30", "line 20"),
    ("level3-2007-split", ["split.yaml", "register.csv"], ["split", "apply"], "split.yaml",
     'fraction_per_right: "0.0001"', "fraction_per_right: " + "9" * 41, "fraction_per_right"),
    ("level3-2004", ["offer.toml", "instructions.csv"], ["tender", "payments"], "offer.toml",
     'tender_offer_consideration = "837.50"', "tender_offer_consideration = " + "9" * 41,
     "tender_offer_consideration"),
    ("level3-2004", ["offer.toml", "instructions.csv"], ["tender", "payments"], "offer.toml",
     'tender_offer_consideration = "837.50"', 'tender_offer_consideration = "1e400"',
     "tender_offer_consideration"),
    ("level3-2004", ["offer.toml", "instructions.csv"], ["tender", "payments"], "offer.toml",
     'amount = "450000000"', "amount = -1", "aggregate_cap.amount"),
    ("level3-2004", ["offer.toml", "instructions.csv"], ["tender", "payments"], "offer.toml",
     "increment = 1000", 'increment = "0.5"', "denomination-whole"),
    ("level3-2004", ["offer.toml", "instructions.csv"], ["tender", "payments"],
     "instructions.csv", ",4636000,USD,", ",1e400,USD,", "principal-numeric"),
]  # fmt: skip


@pytest.mark.parametrize(("folder", "names", "words", "edited", "old", "new", "named"), FOUND)
def test_edits_that_once_raised_are_reported(
    tmp_path: Path,
    folder: str,
    names: list[str],
    words: list[str],
    edited: str,
    old: str,
    new: str,
    named: str,
) -> None:
    work = tmp_path / folder
    work.mkdir()
    for name in names:
        shutil.copy(examples_root() / folder / name, work / name)
    if folder == "level3-2007-split":  # the split file names the meeting result beside it
        meeting = tmp_path / "level3-2007-meeting"
        meeting.mkdir()
        shutil.copy(examples_root() / "level3-2007-meeting" / "result.json", meeting)
    text = (work / edited).read_text(encoding="utf-8")
    assert old in text
    (work / edited).write_text(text.replace(old, new, 1), encoding="utf-8")
    result = CliRunner().invoke(app, [*words, *(str(work / n) for n in names)])
    assert result.exit_code == 1, result.stdout
    assert edited in result.stderr and named in result.stderr, result.stderr
    assert "nothing was changed" in result.stderr


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["--early-tender-payment", "1e400"], "--early-tender-payment"),
        (["--call-price", "0.000000000000000000001"], "--call-price"),
        (["--maturity", "9999-12-31"], "maturity"),
    ],
)
def test_price_options_beyond_input_numbers_are_reported(args: list[str], named: str) -> None:
    base = {
        "--coupon": "4.350",
        "--maturity": "2030-05-15",
        "--settlement": "2024-06-03",
        "--spread-bps": "50",
        "--reference-yield": "4.996",
    }
    base.update(zip(args[::2], args[1::2], strict=True))
    options = [part for pair in base.items() for part in pair]
    result = CliRunner().invoke(app, ["price", "fixed-spread", *options])
    assert result.exit_code == 1, result.stdout
    assert named in result.stderr and "nothing was changed" in result.stderr


@pytest.mark.parametrize(("digits", "refused"), [(24, False), (32, True)])
def test_a_register_whose_shares_would_overflow_the_totals(
    tmp_path: Path, digits: int, refused: bool
) -> None:
    """Twenty positions of 32 digits each stopped the tabulation with DuckDB's overflow; a
    share quantity now has at most 24 digits before the point, and twenty of those add up."""
    folder = examples_root() / "level3-2007-meeting"
    shares = "9" + "0" * (digits - 1)
    holders = [f"H{i}" for i in range(20)]
    (tmp_path / "register.csv").write_text(
        "holder_id,name,class,shares,type\n"
        + "".join(f"{h},Holder,common,{shares},registered\n" for h in holders)
    )
    (tmp_path / "votes.csv").write_text(
        "instruction_id,executed_at,voter,channel,proposal,nominee,choice,shares,discretionary\n"
        + "".join(f"I{h},2007-05-01T10:00,{h},internet,reverse-split,,for,,\n" for h in holders)
    )
    files = [
        str(folder / "meeting.yaml"),
        str(tmp_path / "register.csv"),
        str(tmp_path / "votes.csv"),
    ]
    result = CliRunner().invoke(app, ["meeting", "tabulate", *files, "--format", "json"])
    if refused:
        assert result.exit_code == 1 and "[rule: register-shares]" in result.stderr
    else:
        assert result.exit_code == 0, result.stderr
        quorum = json.loads(result.stdout, parse_float=Decimal)["quorum"]
        assert quorum["present_votes"] == quorum["outstanding_votes"] == 20 * int(shares)


def test_voting_power_beyond_exact_digits_is_refused(tmp_path: Path) -> None:
    """Shares x votes per share that 38 digits cannot hold exactly would be rounded in every
    total: refused, naming the class, instead of counted approximately."""
    folder = examples_root() / "level3-2007-meeting"
    meeting = (folder / "meeting.yaml").read_text(encoding="utf-8")
    assert 'votes_per_share: "1"' in meeting
    (tmp_path / "meeting.yaml").write_text(
        meeting.replace('votes_per_share: "1"', 'votes_per_share: "123456789012345.123457"')
    )
    holders = ["H1", "H2"]
    (tmp_path / "register.csv").write_text(
        "holder_id,name,class,shares,type\n"
        + "".join(
            f"{h},Holder,common,123456789012345678901234.123457,registered\n" for h in holders
        )
    )
    (tmp_path / "votes.csv").write_text(
        "instruction_id,executed_at,voter,channel,proposal,nominee,choice,shares,discretionary\n"
    )
    files = [str(tmp_path / n) for n in ("meeting.yaml", "register.csv", "votes.csv")]
    result = CliRunner().invoke(app, ["meeting", "tabulate", *files])
    assert result.exit_code == 1, result.stdout
    assert "classes[0].votes_per_share" in result.stderr
    assert "[rule: voting-power-digits]" in result.stderr
