"""Deterministic synthetic instructions for examples and benchmarks.

Holder-level tenders are never published, so the examples split each published series total
into instructions from made-up participants. The split is exact: the parts add up to the
published figure to the unit.
"""

from __future__ import annotations

import csv
import io
import random  # noqa: TID251 - a seeded generator for reproducible synthetic data only
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from corpact.errors import check
from corpact.money import allocate_by_weights
from corpact.tender.instructions import CSV_COLUMNS


@dataclass(frozen=True, slots=True)
class Tranche:
    """`count` tenders of `series_id` adding up to `total`, received in [start, end)."""

    series_id: str
    total: Decimal
    count: int
    start: datetime
    end: datetime
    increment: Decimal = Decimal(1000)
    currency: str = "USD"
    id_prefix: str = "T"


def split_total(
    total: Decimal, count: int, increment: Decimal, rng: random.Random
) -> list[Decimal]:
    check(total % increment == 0, "total must be a multiple of the increment")
    check(total >= increment * count, "too many parts for the total")
    # Every part gets one increment; the rest is spread by random weights.
    spare = total - increment * count
    weights = [Decimal(rng.randint(1, 1000)) ** 2 for _ in range(count)]
    parts = allocate_by_weights(spare, weights, increment)
    result = [p + increment for p in parts]
    check(sum(result, Decimal(0)) == total, "split lost principal")
    return result


def participant(series_currency: str, rng: random.Random) -> tuple[str, str, str]:
    if series_currency == "EUR":
        system = rng.choice(["EOC", "CBL"])
        number = rng.randint(10000, 99999)
        return f"{system} {number}", f"{system}-{number}-{rng.randint(100, 999)}", "blocking"
    number = rng.randint(1, 2999)
    return f"DTC {number:04d}", f"A{rng.randint(10000, 99999)}", "VOI"


def tranche_rows(tranche: Tranche, rng: random.Random, first_number: int) -> list[dict[str, str]]:
    amounts = split_total(tranche.total, tranche.count, tranche.increment, rng)
    span = (tranche.end - tranche.start).total_seconds()
    rows = []
    for i, amount in enumerate(amounts):
        received = tranche.start + timedelta(seconds=int(rng.random() * span))
        name, account, ref_kind = participant(tranche.currency, rng)
        number = first_number + i
        rows.append(
            {
                "instruction_id": f"{tranche.id_prefix}{number:06d}",
                "received_at": received.isoformat(),
                "action": "tender",
                "series": tranche.series_id,
                "principal": str(amount),
                "currency": tranche.currency,
                "participant": name,
                "account": account,
                "reference": f"{ref_kind}-{rng.randint(10**7, 10**8 - 1)}",
                "guaranteed_delivery": "false",
                "withdraws": "",
            }
        )
    return rows


def synthetic_rows(tranches: Sequence[Tranche], seed: int) -> list[dict[str, str]]:
    rng = random.Random(seed)
    rows: list[dict[str, str]] = []
    for tranche in tranches:
        rows.extend(tranche_rows(tranche, rng, len(rows) + 1))
    rows.sort(key=lambda r: (r["received_at"], r["instruction_id"]))
    return rows


def rows_to_csv(rows: Sequence[dict[str, str]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(CSV_COLUMNS), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()
