"""A file of instructions read and checked column by column, for the bulk import.

The row reader (`parse_instructions_csv_lenient`, then the ledger's rules line by line) spends
tens of microseconds of Python per line, several times what writing the line to the journal
costs. Most bulk files are plain (`corpact.csvfiles.columns`) and hold nothing but valid
tenders and a few withdrawals. For those, `plain_instructions` applies the same rules to whole
columns: each text rule once per distinct text of its column, each tender rule once per
distinct (terms version, series, amount); the withdrawals, with the tenders they name, go
through the ledger itself. It answers only "every line is valid, and here they are in the order
the journal takes them", or None; on None the row reader reads the file and alone decides
what is wrong with it. The columns then become the journal's events without an object per
line (`instruction_events`), byte for byte the events the row path writes
(tests/tender/test_bulk.py holds both paths to the same journal).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from corpact.csvfiles.columns import (
    BOOL,
    STRICT_INSTANT,
    Columns,
    read_plain_csv,
    utc_epoch_us,
)
from corpact.inputfiles import UTF8_BOM, universal_newlines
from corpact.journal.batch import escaped, four_digit_years
from corpact.tender.instructions import (
    CSV_COLUMNS,
    FLAG_WORDS,
    MAX_INSTRUCTION_ID_CHARS,
    REQUIRED_COLUMNS,
    TRUE_WORDS,
    Instruction,
    InstructionLedger,
    Tender,
    Withdrawal,
    principal_amount,
)
from corpact.tender.lifecycle import Kind, OfferState
from corpact.tender.terms import OfferTerms
from corpact.timeutil import from_epoch_us, to_epoch_us

# Columns whose rules run per distinct text and that repeat a few texts; ids, times and
# references are mostly distinct, and are encoded only when a rule needs their texts.
ENCODED_COLUMNS = frozenset({"action", "series", "currency", "principal", "guaranteed_delivery"})


@dataclass(frozen=True, slots=True)
class InstructionColumns:
    """Valid instructions by column, in the order the journal receives them (time, then line):
    `instruction_id`, `received_us` (UTC), `withdrawal`, `series`, `principal` (the text
    `str(Decimal)` gives), `participant`, `account`, `reference`, `guaranteed_delivery`,
    `withdraws` (a withdrawal's target). A withdrawal's tender cells are kept as read, unused."""

    table: pa.Table

    def __len__(self) -> int:
        return int(self.table.num_rows)


def plain_instructions(
    data: bytes, state: OfferState, received_before: datetime | None = None
) -> InstructionColumns | None:
    """The file's instructions when the file is plain and the offer takes every line now,
    else None. `data` are the file's bytes as stored."""
    ledger, terms = state.ledger, state.base_terms
    if ledger is None or terms is None:
        return None
    if state.settled or state.accepted or state.terminated:
        return None
    # What `Path.read_text(encoding="utf-8-sig")` gives the row reader: no BOM, LF line ends.
    data = universal_newlines(data.removeprefix(UTF8_BOM))
    plain = read_plain_csv(data, encode=ENCODED_COLUMNS)
    if plain is None or plain.header_line != 1:
        return None  # the row reader takes its header from the very first line, comment or not
    end = data.find(b"\n")
    first_line = data[: len(data) if end < 0 else end].decode("utf-8")
    header = plain.header
    if first_line.split(",") != header:
        return None  # names with blanks around them: the row reader does not strip them
    if any(c not in header for c in REQUIRED_COLUMNS) or any(c not in CSV_COLUMNS for c in header):
        return None
    table = _cells(plain.columns, terms)
    if table is None:
        return None
    if received_before is not None:
        table = table.filter(pc.less(table["received_us"], to_epoch_us(received_before)))
    if table.num_rows == 0:
        return None
    # Sorting is stable: equal times keep their line order, as the row path orders them.
    table = table.take(pc.sort_indices(table, [("received_us", "ascending")]))
    if not _valid_for_offer(table, state, ledger):
        return None
    return InstructionColumns(table)


def _cells(columns: Columns, terms: OfferTerms) -> pa.Table | None:
    """The rows as `_PlainTenders.read` reads a tender and `parse_row` a withdrawal, or None
    where either would find something wrong."""
    rows = columns.rows
    series_by_id = terms.series_by_id()
    ids = columns.stripped("instruction_id")
    lengths = pc.min_max(pc.utf8_length(ids)).as_py()
    if lengths["min"] < 1 or lengths["max"] > MAX_INSTRUCTION_ID_CHARS:
        return None
    if pc.count_distinct(ids).as_py() != rows:
        return None  # the same id twice: a retry or a conflict, for the row path to judge
    actions = columns.mapped("action", lambda t: t.strip().lower(), pa.string())
    if not _all(pc.is_in(actions, _strings(("tender", "withdraw")))):
        return None
    withdrawal = pc.equal(actions, "withdraw")
    tender = pc.invert(withdrawal)
    # A withdrawal's series, amount, currency and flag cells are not read (`parse_row`).
    known = columns.mapped("series", lambda t: t.strip() in series_by_id, BOOL)
    flags = columns.mapped("guaranteed_delivery", lambda t: t.strip().lower(), pa.string())
    flag_known = pc.is_in(flags, _strings(FLAG_WORDS))
    if not _all(pc.filter(known, tender)) or not _all(pc.filter(flag_known, tender)):
        return None
    targets = columns.stripped("withdraws")
    if _any(pc.and_(withdrawal, pc.equal(targets, ""))):
        return None
    series = columns.stripped("series")
    currencies = columns.stripped("currency")
    pairs = (
        pa.table({"series": series, "currency": currencies})
        .filter(tender)
        .group_by(["series", "currency"])
        .aggregate([])
    )
    pair_columns = (pairs["series"].to_pylist(), pairs["currency"].to_pylist())
    for series_id, currency in zip(*pair_columns, strict=True):
        if currency and currency.upper() != series_by_id[series_id].currency:
            return None
    zone = terms.time_zone

    def instant_us(text: str) -> int | None:
        try:
            moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
        except ValueError:
            return None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=zone)
        return to_epoch_us(moment)

    received = columns.converted(
        "received_at", STRICT_INSTANT, utc_epoch_us, instant_us, pa.int64()
    )
    principal = columns.mapped("principal", _principal_text, pa.string())
    if received.null_count or pc.filter(principal, tender).null_count:
        return None
    if not four_digit_years(received):
        return None  # DuckDB writes the payload's times (`instruction_events`)
    return pa.table(
        {
            "instruction_id": ids,
            "received_us": received,
            "withdrawal": withdrawal,
            "series": series,
            "principal": principal,
            "participant": columns.stripped("participant"),
            "account": columns.stripped("account"),
            "reference": columns.stripped("reference"),
            "guaranteed_delivery": pc.is_in(flags, _strings(TRUE_WORDS)),
            "withdraws": targets,
        }
    )


def _principal_text(text: str) -> str | None:
    """`str` of the amount as the row reader parses it; None where it reads no amount."""
    amount = principal_amount(text)
    return None if amount is None else str(amount)


def _valid_for_offer(table: pa.Table, state: OfferState, ledger: InstructionLedger) -> bool:
    """The ledger's and the lifecycle's rules (`OfferState.offer_instruction`) for every row
    (in journal order): True only when none of them refuses a row."""
    received = table["received_us"]
    last = state.last_milestone_at
    if last is not None and pc.min(received).as_py() < to_epoch_us(last):
        return False
    taken = list(ledger.tenders) + list(ledger.withdrawals)
    if taken and _any(pc.is_in(table["instruction_id"], _strings(taken))):
        return False  # already received: a retry or a conflict, for the row path to judge
    withdrawal = table["withdrawal"]
    tenders = table.filter(pc.invert(withdrawal))
    if not _valid_tenders(tenders, ledger):
        return False
    return not _any(withdrawal) or _valid_withdrawals(table, ledger)


def _valid_tenders(table: pa.Table, ledger: InstructionLedger) -> bool:
    """The tender rules, per distinct (terms version, series, amount). Withdrawals only take
    from a series' total and tenders only add, so the file's tenders checked by their final
    total against every terms version they fall in cover every running total."""
    received = table["received_us"]
    starts, versions = ledger.terms_versions()
    # bisect_right(starts, t): how many versions have started by t.
    version = pa.repeat(pa.scalar(0, pa.int64()), table.num_rows)
    for start in starts:
        started = pc.cast(pc.greater_equal(received, to_epoch_us(start)), pa.int64())
        version = pc.add(version, started)
    launch = pc.take(_ints([to_epoch_us(t.deadlines.launch_at) for t, _ in versions]), version)
    expiry = pc.take(_ints([to_epoch_us(t.deadlines.expiration_at) for t, _ in versions]), version)
    if _any(pc.less(received, launch)) or _any(pc.greater_equal(received, expiry)):
        return False
    groups = (
        pa.table({"version": version, "series": table["series"], "principal": table["principal"]})
        .group_by(["version", "series", "principal"])
        .aggregate([("version", "count")])
    )
    totals: dict[str, Decimal] = {}
    applies: dict[str, set[int]] = {}
    for v, series_id, text, count in zip(
        *(groups[c].to_pylist() for c in ("version", "series", "principal", "version_count")),
        strict=True,
    ):
        series = versions[v][1].get(series_id)
        if series is None:
            return False
        amount = Decimal(text)
        if amount <= 0 or amount < series.minimum_denomination or amount % series.increment:
            return False
        totals[series_id] = totals.get(series_id, Decimal(0)) + amount * count
        applies.setdefault(series_id, set()).add(v)
    for series_id, total in totals.items():
        final = ledger.principal_by_series.get(series_id, Decimal(0)) + total
        if any(final > versions[v][1][series_id].outstanding for v in applies[series_id]):
            return False
    return True


def _valid_withdrawals(table: pa.Table, ledger: InstructionLedger) -> bool:
    """The withdrawal rules, run by the ledger itself on a copy that takes, in journal order,
    only the withdrawals and the file's tenders they name: those are all a withdrawal's rules
    read (its target, whether that was withdrawn, and the terms in force)."""
    withdrawal = table["withdrawal"]
    named = pc.is_in(table["instruction_id"], value_set=pc.filter(table["withdraws"], withdrawal))
    trial = ledger.copy()
    for row in table.filter(pc.or_(withdrawal, named)).to_pylist():
        received_at = from_epoch_us(row["received_us"])
        instruction: Instruction
        if row["withdrawal"]:
            instruction = Withdrawal(
                row["instruction_id"], received_at, row["withdraws"],
                row["participant"], row["reference"],
            )  # fmt: skip
        else:
            instruction = Tender(
                row["instruction_id"], received_at, row["series"], Decimal(row["principal"]),
                row["participant"], row["account"], row["reference"],
                row["guaranteed_delivery"],
            )  # fmt: skip
        if trial.offer(instruction):
            return False
    return True


def instruction_events(offer_id: str, rows: pa.Table) -> tuple[pa.Array, pa.Array, pa.Array]:
    """Each instruction's journal kind and key, and its payload's canonical JSON: the text
    `Tender.payload_and_text` writes, or a withdrawal's `payload()` as `canonical_json`
    writes it, column by column."""
    table = pa.table(
        {
            "id": rows["instruction_id"],
            "id_text": escaped(rows["instruction_id"]),
            "received_us": rows["received_us"],
            "withdrawal": rows["withdrawal"],
            "series": escaped(rows["series"]),
            "principal": rows["principal"],
            "participant": escaped(rows["participant"]),
            "account": escaped(rows["account"]),
            "reference": escaped(rows["reference"]),
            "guaranteed": rows["guaranteed_delivery"],
            "withdraws": escaped(rows["withdraws"]),
        }
    )
    connection = duckdb.connect(config={"threads": 1})  # see `leaf_columns`
    try:
        connection.register("instructions", table)
        connection.execute("SET VARIABLE corpact_key_prefix = ?", [f"{offer_id}:instruction:"])
        connection.execute("SET VARIABLE corpact_tender = ?", [str(Kind.INSTRUCTION)])
        connection.execute("SET VARIABLE corpact_withdrawal = ?", [str(Kind.WITHDRAWAL)])
        result = connection.sql(
            """
            WITH t AS (
                SELECT *, strftime(make_timestamp(received_us), '%Y-%m-%dT%H:%M:%S')
                          || CASE WHEN received_us % 1000000 = 0 THEN ''
                                  ELSE strftime(make_timestamp(received_us), '.%f') END
                          || '+00:00' AS received_at
                FROM instructions
            )
            SELECT getvariable('corpact_key_prefix') || id AS key,
                   CASE WHEN withdrawal THEN getvariable('corpact_withdrawal')
                        ELSE getvariable('corpact_tender') END AS kind,
                   CASE WHEN withdrawal THEN
                       '{"action":"withdraw","instruction_id":"' || id_text
                       || '","participant":"' || participant || '","received_at":"'
                       || received_at || '","reference":"' || reference || '","withdraws":"'
                       || withdraws || '"}'
                   ELSE
                       '{"account":"' || account || '","action":"tender","guaranteed_delivery":'
                       || CASE WHEN guaranteed THEN 'true' ELSE 'false' END
                       || ',"instruction_id":"' || id_text || '","participant":"' || participant
                       || '","principal":"' || principal || '","received_at":"' || received_at
                       || '","reference":"' || reference || '","series":"' || series || '"}'
                   END AS payload
            FROM t
            """
        ).to_arrow_table()
    finally:
        connection.close()
    kinds, keys, payloads = (result[c].combine_chunks() for c in ("kind", "key", "payload"))
    return kinds, keys, payloads


def _all(values: pa.Array | pa.ChunkedArray) -> bool:
    return bool(pc.all(values).as_py())


def _any(values: pa.Array | pa.ChunkedArray) -> bool:
    return bool(pc.any(values).as_py())


def _strings(values: object) -> pa.Array:
    return pa.array(sorted(values), pa.string())  # type: ignore[call-overload]


def _ints(values: list[int]) -> pa.Array:
    return pa.array(values, pa.int64())
