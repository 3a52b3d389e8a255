"""Share split on a 10,000,000-holder register, against bare DuckDB doing the same arithmetic.

Both sides compute, per record holder, the new whole shares, the remainder and the cash in
lieu in integer cents (1-for-15, $3.02 per old share, rounded down), keep those per-holder
columns, and total them. corpact's side is the exact Arrow path (int64, overflow-checked) with
its conservation check; the per-holder Python executor is measured on a smaller register.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow as pa

from bench.harness import BenchResult, best_of, once, scaled
from corpact.split import Register, RegisterEntry, SplitTerms, apply_split
from corpact.split.columnar import split_class_columns
from corpact.split.loader import resolve_split
from corpact.split.model import HoldingForm, SplitFileIn
from corpact.split.sourcemap import SourceMap

HOLDERS = 10_000_000
PYTHON_PATH_HOLDERS = 200_000
# cash cents = rem * 302 / 1 for 1-for-15 at $3.02 per old share (K = 302, D = 1)
BASELINE_SQL = """
SELECT holder_id,
       shares * 1 // 15 AS new_shares,
       shares * 1 % 15 AS remainder,
       (shares * 1 % 15) * 302 // 1 AS cash_cents
FROM register
"""


def _terms() -> SplitTerms:
    data = {
        "split": {
            "id": "bench",
            "issuer": "Bench Corp.",
            "jurisdiction": "Delaware",
            "synthetic": True,
        },
        "authority": {
            "inline": {
                "id": "bench",
                "basis": "benchmark",
                "approved_on": "2007-05-24",
                "ratios": ["1-for-15"],
                "delegate": "board",
            }
        },
        "resolution": {
            "ratio": "1-for-15",
            "decided_on": "2008-02-01",
            "effective_at": "2008-02-15T17:00:00",
        },
        "classes": [{"id": "common", "par_value_before": "0.01", "authorized_before": 10**15}],
        "fractional": {
            "policy": "cash_in_lieu",
            "price": {
                "source": "prior_close",
                "basis": "pre_split_per_old_share",
                "close_on": "2008-02-14",
                "close": "3.02",
            },
        },
    }
    return resolve_split(
        SplitFileIn.model_validate(data),
        SourceMap("bench", None),
        base_dir=Path(),
    )


def _register_table(count: int) -> pa.Table:
    # Deterministic synthetic positions: mostly small holders, a few very large ones.
    con = duckdb.connect()
    query = f"""
        SELECT i AS holder_id,
               CASE WHEN i % 1000 = 0 THEN (hash(i) % 50000000)::BIGINT
                    ELSE (hash(i) % 5000)::BIGINT END AS shares
        FROM range({count}) t(i)
    """
    table: pa.Table = con.sql(query).to_arrow_table()
    return table


def _baseline(table: pa.Table) -> tuple[int, int, int]:
    con = duckdb.connect()
    con.register("register", table)
    per_holder = con.sql(BASELINE_SQL).to_arrow_table()
    con.register("per_holder", per_holder)
    totals = con.execute(
        "SELECT sum(new_shares), sum(remainder), sum(cash_cents) FROM per_holder"
    ).fetchone()
    assert totals is not None
    return int(totals[0]), int(totals[1]), int(totals[2])


def run() -> list[BenchResult]:
    terms = _terms()
    count = scaled(HOLDERS)
    table = _register_table(count)
    shares = table.column("shares").combine_chunks()

    def subject() -> tuple[int, int, int]:
        out = split_class_columns(terms, "common", shares)
        return out.new_outstanding, out.remainder_total, out.cash_total_minor

    if subject() != _baseline(table):
        raise SystemExit("bench_split: corpact and DuckDB disagree")
    results = [
        BenchResult(
            "split 1-for-15 cash in lieu, columnar exact",
            count,
            "holders",
            best_of(subject),
            "duckdb-sql",
            best_of(lambda: _baseline(table)),
            "within 3x of bare DuckDB",
        ),
    ]
    results.append(_python_path(terms))
    return results


def _python_path(terms: SplitTerms) -> BenchResult:
    count = scaled(PYTHON_PATH_HOLDERS)
    table = _register_table(count)
    values = table.column("shares").to_pylist()
    register = Register(
        "bench",
        tuple(
            RegisterEntry(str(i), "holder", "common", h, HoldingForm.drs)
            for i, h in enumerate(values)
        ),
    )
    seconds = once(lambda: apply_split(terms, register))
    return BenchResult(
        "split 1-for-15 per-holder executor (full outputs)",
        count,
        "holders",
        seconds,
        "duckdb-sql",
        best_of(lambda: _baseline(table)),
        "reference path; columnar path for bulk",
    )
