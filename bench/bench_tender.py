"""Tender allocation: 1,000,000 instructions over 20 series under an aggregate cap.

Baseline: a bare DuckDB group-by-and-prorate over the same rows (sum per series, a running
cap by priority level, a factor, floor to the increment per instruction), in the same run.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import duckdb
import pyarrow as pa

from bench.harness import BenchResult, best_of, scaled
from corpact.tender import allocate
from corpact.tender.instructions import Tender
from corpact.tender.terms import OfferTerms
from corpact.tender.terms_file import OfferTermsModel, terms_from_model
from corpact.timeutil import fixed_offset

NEW_YORK = ZoneInfo("America/New_York")
LAUNCH = datetime(2024, 3, 1, 9, 0, tzinfo=NEW_YORK)
SERIES_COUNT = 20


def bench_terms(total_principal: int) -> OfferTerms:
    series = [
        {
            "id": f"s{i:02d}",
            "title": f"Series {i}",
            "currency": "USD",
            "outstanding": str(10**12),
            "priority_level": i + 1,
            "tender_offer_consideration": "970.00",
            "early_tender_payment": "30.00",
        }
        for i in range(SERIES_COUNT)
    ]
    document = {
        "offer_id": "bench",
        "issuer": "Bench Issuer",
        "deadlines": {
            "launch_at": LAUNCH.isoformat(),
            "early_tender_at": (LAUNCH + timedelta(days=10)).isoformat(),
            "expiration_at": (LAUNCH + timedelta(days=20)).isoformat(),
        },
        "settlement": {"final_settlement_date": "2024-03-25"},
        # The cap binds in the middle: about 13 levels bought, one prorated, the rest stopped.
        "aggregate_cap": {
            "amount": str(total_principal * 13 // 20 + 12_345_000),
            "currency": "USD",
        },
        "series": series,
    }
    return terms_from_model(OfferTermsModel.model_validate(document), "bench")[0]


def make_rows(count: int, seed: int = 7) -> tuple[list[str], list[int], list[int], list[int]]:
    rng = random.Random(seed)
    ids = [f"i{n:08d}" for n in range(count)]
    series = [rng.randrange(SERIES_COUNT) for _ in range(count)]
    principal = [1000 * rng.randint(1, 5000) for _ in range(count)]
    minutes = [rng.randrange(20 * 24 * 60) for _ in range(count)]
    return ids, series, principal, minutes


def run() -> list[BenchResult]:
    count = scaled(1_000_000)
    ids, series, principal, minutes = make_rows(count)
    # As parsed from a CSV file: each time with its own fixed UTC offset.
    stamps = [fixed_offset(LAUNCH + timedelta(minutes=m)) for m in range(20 * 24 * 60)]
    tenders = [
        Tender(ids[n], stamps[minutes[n]], f"s{series[n]:02d}", Decimal(principal[n]))
        for n in range(count)
    ]
    terms = bench_terms(sum(principal))
    as_of = LAUNCH + timedelta(days=21)
    subject = best_of(lambda: allocate(terms, tenders, as_of), repeat=2)

    table = pa.table({"id": ids, "level": [s + 1 for s in series], "principal": principal})
    cap = int(terms.aggregate_cap.amount) if terms.aggregate_cap else 0
    con = duckdb.connect()
    con.register("t", table)
    query = f"""
        WITH s AS (SELECT level, SUM(principal)::HUGEINT AS tendered FROM t GROUP BY level),
        r AS (SELECT level, tendered,
                     {cap} - COALESCE(SUM(tendered) OVER (ORDER BY level
                        ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS room FROM s),
        f AS (SELECT level, tendered, GREATEST(LEAST(room, tendered), 0) AS take FROM r)
        SELECT t.id, (t.principal * f.take // f.tendered // 1000) * 1000 AS accepted
        FROM t JOIN f USING (level)
    """

    def baseline() -> object:
        return con.sql(query).to_arrow_table()

    base = best_of(baseline, repeat=3)
    return [
        BenchResult(
            "tender allocation (20 series, aggregate cap)",
            count,
            "instructions",
            subject,
            "duckdb group-by-and-prorate",
            base,
            "within 10x of the baseline",
        )
    ]
