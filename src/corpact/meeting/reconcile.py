"""Pure rules applied to the few rows the relational stages cannot settle by aggregation.

- same-time instructions for one position: identical content is one instruction sent twice;
  different content is a conflict and neither counts (Williams v. Sterling Oil: inspectors may
  not pick one with outside evidence);
- over-marked items (two boxes on a full-position card): rejected;
- over-votes (a nominee reporting more than its record-date position): cut back pro rata by
  largest remainder in bucket order, or rejected, as the meeting file says; every adjustment is
  recorded with the reported and entitled quantities.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from corpact.errors import check
from corpact.meeting.model import OverVotePolicy
from corpact.money import allocate_by_weights

FINE_QUANTUM = Decimal("0.000001")
WHOLE = Decimal(1)
BUCKET_ORDER = ("for", "against", "abstain", "1_year", "2_years", "3_years")
GROUP_KEYS = ("pos_id", "proposal_id", "item_id", "voter", "pos_class", "holder_type", "pos_shares")


@dataclass(frozen=True, slots=True)
class TieOutcome:
    winners: list[dict[str, Any]]
    conflicts: list[dict[str, Any]]
    duplicates: list[dict[str, Any]]


def _content(lines: list[dict[str, Any]]) -> tuple[tuple[str, ...], ...]:
    return tuple(
        sorted(
            (
                r["proposal_id"],
                r["item_id"],
                r["choice"],
                str(r["shares"].normalize()) if r["shares"] is not None else "",
                str(r["discretionary"]),
                r["line_error"] or "",
            )
            for r in lines
        )
    )


def classify_ties(rows: list[dict[str, Any]], lines: list[dict[str, Any]]) -> TieOutcome:
    """Settle positions whose top rank is shared by several instructions."""
    by_instruction: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for line in lines:
        by_instruction[line["instruction_id"]].append(line)
    by_position: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        by_position[(row["voter"], row["pos_class"])].append(row)
    outcome = TieOutcome([], [], [])
    for (voter, pos_class), tied in sorted(by_position.items()):
        check(len(tied) > 1, "a tie needs two instructions")
        ids = sorted(r["instruction_id"] for r in tied)
        contents = {_content(by_instruction[i]) for i in ids}
        if len(contents) == 1:
            outcome.winners.append(
                {"instruction_id": ids[0], "voter": voter, "pos_class": pos_class}
            )
            outcome.duplicates.extend(
                {"instruction_id": i, "voter": voter, "pos_class": pos_class, "kept": ids[0]}
                for i in ids[1:]
            )
        else:
            first_line = {r["instruction_id"]: r["first_line"] for r in tied}
            outcome.conflicts.extend(
                {
                    "instruction_id": i,
                    "voter": voter,
                    "pos_class": pos_class,
                    "with": ids,
                    "first_line": first_line[i],
                }
                for i in ids
            )
    return outcome


@dataclass(frozen=True, slots=True)
class Reconciliation:
    groups: list[dict[str, Any]]
    adjustments: list[dict[str, Any]]
    rejections: list[dict[str, Any]]


def _quantum(values: list[Decimal]) -> Decimal:
    whole = all(v == v.to_integral_value() for v in values)
    return WHOLE if whole else FINE_QUANTUM


def _group_row(key: tuple[Any, ...], counted: dict[str, Decimal], bnv: Decimal) -> dict[str, Any]:
    row: dict[str, Any] = dict(zip(GROUP_KEYS, key, strict=True))
    for bucket in BUCKET_ORDER:
        row[f"q_{bucket}"] = counted.get(bucket, Decimal(0))
    row["q_bnv"] = bnv
    row["voted"] = sum(counted.values(), Decimal(0))
    return row


def _reject(lines: list[dict[str, Any]], reason: str, detail: str) -> list[dict[str, Any]]:
    return [
        {
            "line_no": r["line_no"],
            "instruction_id": r["instruction_id"],
            "voter": r["voter"],
            "pos_class": r["pos_class"],
            "proposal_id": r["proposal_id"],
            "item_id": r["item_id"],
            "choice": r["choice"],
            "shares": r["shares"],
            "reason": reason,
            "detail": detail,
        }
        for r in lines
    ]


def reconcile_groups(lines: list[dict[str, Any]], policy: OverVotePolicy) -> Reconciliation:
    """Correct every over-marked or over-voted (position, item) group; record each change."""
    grouped: dict[tuple[Any, ...], list[dict[str, Any]]] = defaultdict(list)
    for line in lines:
        grouped[tuple(line[k] for k in GROUP_KEYS)].append(line)
    result = Reconciliation([], [], [])
    for key, members in sorted(grouped.items(), key=lambda kv: tuple(map(str, kv[0]))):
        group = dict(zip(GROUP_KEYS, key, strict=True))
        entitled: Decimal = group["pos_shares"]
        votes = [m for m in members if m["d_bucket"] != "broker_non_vote"]
        bnv = sum((m["qty"] for m in members if m["d_bucket"] == "broker_non_vote"), Decimal(0))
        # A broker non-vote for the whole position contradicts a vote for it just as two votes
        # do (the relational stage flags every such pair, so this must agree with it).
        full_choices = {m["choice"] for m in members if m["shares"] is None}
        reported: dict[str, Decimal] = defaultdict(Decimal)
        for m in votes:
            reported[m["d_bucket"]] += m["qty"]
        total = sum(reported.values(), Decimal(0))
        if len(full_choices) > 1:
            detail = f"full position marked {' and '.join(sorted(full_choices))}"
            result.rejections.extend(_reject(members, "overmarked", detail))
            result.groups.append(_group_row(key, {}, Decimal(0)))
            continue
        check(total > entitled, "a group reached reconciliation without an over-vote")
        detail = f"reported {total} against a record-date position of {entitled}"
        if policy is OverVotePolicy.REJECT:
            result.rejections.extend(_reject(members, "over_vote", detail))
            result.groups.append(_group_row(key, {}, bnv))
            continue
        buckets = [b for b in BUCKET_ORDER if b in reported]
        weights = [reported[b] for b in buckets]
        quantum = _quantum([entitled, *weights])
        cut = allocate_by_weights(entitled, weights, quantum)
        counted = dict(zip(buckets, cut, strict=True))
        check(all(counted[b] <= reported[b] for b in buckets), "pro-rata increased a choice")
        result.groups.append(_group_row(key, counted, bnv))
        result.adjustments.append(
            {
                "voter": group["voter"],
                "class_id": group["pos_class"],
                "proposal_id": group["proposal_id"],
                "item_id": group["item_id"],
                "policy": policy.value,
                "entitled": entitled,
                "reported_total": total,
                "reported": dict(reported),
                "counted": counted,
                "quantum": quantum,
                "instructions": sorted({m["instruction_id"] for m in members}),
                "lines": sorted(m["line_no"] for m in members),
            }
        )
    return result
