"""Build meeting, register and votes files for tests.

Published cases give per-item totals, not registers; the golden tests feed those totals in as
one nominee's aggregated report (a normal input), against a register whose total is the
published (or, where unpublished, an explicitly assumed) number of shares outstanding.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from corpact.meeting.votes import VOTE_CSV_COLUMNS

DATA = Path(__file__).parent / "data"
VOTE_HEADER = VOTE_CSV_COLUMNS


def load_case(name: str) -> dict[str, Any]:
    case: dict[str, Any] = yaml.safe_load((DATA / f"{name}.yaml").read_text())
    return case


def meeting_doc(**overrides: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "id": "test-meeting",
        "issuer": "Test Corp.",
        "kind": "annual",
        "date": "2024-05-20",
        "record_date": "2024-04-01",
        "jurisdiction": "DE",
        "time_zone": "America/New_York",
        "polls_close_at": "2024-05-20T11:00",
        "classes": [{"id": "common", "votes_per_share": "1"}],
        "proposals": [],
    }
    doc.update(overrides)
    return doc


def proposal_doc(pid: str, kind: str = "other", **fields: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "id": pid,
        "kind": kind,
        "title": fields.pop("title", f"Proposal {pid}"),
        "routine": fields.pop("routine", False),
        "voting": fields.pop("voting", {"classes": ["common"]}),
        "standard": fields.pop("standard", {"preset": "votes_cast"}),
    }
    doc.update(fields)
    return doc


def write_inputs(
    folder: Path,
    meeting: dict[str, Any],
    register: Sequence[tuple[str, str, str, str]],
    votes: Sequence[Sequence[str]],
) -> tuple[Path, Path, Path]:
    """register rows: (holder_id, class, shares, type); vote rows follow VOTE_HEADER."""
    meeting_path = folder / "meeting.yaml"
    meeting_path.write_text(yaml.safe_dump(meeting, sort_keys=False))
    register_path = folder / "register.csv"
    with register_path.open("w", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["holder_id", "name", "class", "shares", "type"])
        writer.writerows([h, f"Holder {h}", c, s, t] for h, c, s, t in register)
    votes_path = folder / "votes.csv"
    with votes_path.open("w", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(VOTE_HEADER)
        writer.writerows(votes)
    return meeting_path, register_path, votes_path


def nominee_report(
    voter: str,
    proposal: str,
    counts: dict[str, int | None],
    nominee: str = "",
    instruction_id: str = "NR-1",
    at: str = "2000-01-03T17:00",
) -> list[list[str]]:
    """A nominee's aggregated report for one item: one line per non-null bucket quantity."""
    return [
        [instruction_id, at, voter, "", "nominee", proposal, nominee, choice, str(quantity), ""]
        for choice, quantity in counts.items()
        if quantity is not None
    ]
