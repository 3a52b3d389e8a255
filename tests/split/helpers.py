"""Builders shared by the split tests: a split file written from a dict, registers in memory."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

from corpact.split import Register, RegisterEntry, SplitTerms, load_split
from corpact.split.model import HoldingForm

BASE_SPLIT: dict[str, Any] = {
    "split": {"id": "test-split", "issuer": "Test Issuer, Inc.", "jurisdiction": "Delaware"},
    "authority": {
        "inline": {
            "id": "test-authority",
            "basis": "annual meeting",
            "approved_on": "2023-01-10",
            "ratios": ["1-for-5", "1-for-10", "1-for-15", "1-for-20"],
            "expires_on": "2023-12-31",
            "delegate": "board",
        }
    },
    "resolution": {
        "ratio": "1-for-10",
        "decided_on": "2023-06-01",
        "decided_by": "board",
        "effective_at": "2023-06-14T17:00:00",
        "timezone": "America/New_York",
    },
    "classes": [
        {
            "id": "common",
            "par_value_before": "0.0001",
            "authorized_before": 100000000,
        }
    ],
    "fractional": {
        "policy": "cash_in_lieu",
        "currency": "USD",
        "price": {
            "source": "prior_close",
            "basis": "pre_split_per_old_share",
            "close_on": "2023-06-13",
            "close": "1.20",
        },
    },
}


def split_dict(**changes: Any) -> dict[str, Any]:
    """A deep copy of BASE_SPLIT with changes by path, e.g. resolution__ratio="1-for-7"."""
    data = copy.deepcopy(BASE_SPLIT)
    for dotted, value in changes.items():
        *parents, last = dotted.split("__")
        node: Any = data
        for key in parents:
            node = node[int(key)] if isinstance(node, list) else node[key]
        if value is DELETE:
            del node[last]
        elif isinstance(node, list):
            node[int(last)] = value
        else:
            node[last] = value
    return data


DELETE = object()


def write_split(tmp_path: Path, data: dict[str, Any], name: str = "split.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def terms_from(tmp_path: Path, data: dict[str, Any]) -> SplitTerms:
    return load_split(write_split(tmp_path, data))


def register_of(shares: list[int], class_id: str = "common") -> Register:
    entries = tuple(
        RegisterEntry(f"H{i:06d}", f"Holder {i}", class_id, h, HoldingForm.drs, line=i + 2)
        for i, h in enumerate(shares)
    )
    return Register("register.csv", entries)


def register_csv_text(rows: list[tuple[str, str, str, int, str]]) -> str:
    lines = ["holder_id,name,class_id,shares,holding_form"]
    lines += [",".join(str(c) for c in row) for row in rows]
    return "\n".join(lines) + "\n"


def terms_in_memory(data: dict[str, Any]) -> SplitTerms:
    """Resolve a split dict without touching the file system (for property tests)."""
    from corpact.split.loader import resolve_split
    from corpact.split.model import SplitFileIn
    from corpact.split.sourcemap import SourceMap

    return resolve_split(SplitFileIn.model_validate(data), SourceMap("mem", None), base_dir=Path())


def any_ratio_split(ratio: str, policy: str, **fractional: Any) -> dict[str, Any]:
    """BASE_SPLIT at `ratio` (authorized as a set of one) with the given fractional policy."""
    data = split_dict(resolution__ratio=ratio)
    data["authority"]["inline"]["ratios"] = [ratio]
    data["classes"][0]["authorized_before"] = 10**15
    data["fractional"] = {"policy": policy, "currency": "USD", **fractional}
    if policy == "round_down_no_cash":
        data["fractional"]["allow_round_down_without_cash"] = True
    return data
