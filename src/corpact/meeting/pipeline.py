"""The relational half of the tabulation, as Ibis expressions run on an in-process DuckDB.

Stages (each a set-at-a-time transformation, so the same expressions scale and could run on a
distributed Ibis backend):

1. `headers`: one row per instruction; instruction-level rejections (unparseable time, unknown
   voter, inconsistent lines, after the polls closed), and whether the instruction marks some
   item on more than one line.
2. `candidates`: valid instructions x the record-date positions they cover; per position the
   in-person ballot outranks every proxy, then the latest execution time wins.
3. `line pass`: one pipelined scan of the lines of the effective instructions, validated
   against the proposals. A plain line (valid, a registered position, the only line of its
   instruction on that item, within the position) is a (position, item) group on its own, so
   it is summed straight into per-(item, class) totals; the scan keeps only the ids of the
   other lines.
4. `exceptions`: those other lines (rejected marks, nominee positions, items marked twice,
   over-votes) are read back by id and summed per (position, item); over-marked and over-voted
   groups go to `reconcile`.
5. `presence` and `item totals`: voting shares present per class and per (item, class, holder
   type), from which broker non-votes and not-voted shares are derived by subtraction.

Share quantities stay `DECIMAL(38, 6)` end to end; nothing is ever a float.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import ibis
import ibis.expr.types as ir
import pyarrow as pa
import pyarrow.compute as pc

from corpact.errors import check
from corpact.meeting.model import CHOICE_BUCKET, FREQUENCY_CHOICES, Meeting
from corpact.meeting.reconcile import TieOutcome, classify_ties, reconcile_groups
from corpact.meeting.register import SHARES_TYPE, Register
from corpact.meeting.votes import CHANNELS, VoteBook, to_epoch_us

IN_PERSON_RANK = 10**17  # added to epoch microseconds: a ballot outranks any proxy time
Q_BUCKETS = ("for", "against", "abstain", *FREQUENCY_CHOICES)
Q_COLUMNS = tuple(f"q_{b}" for b in Q_BUCKETS)
MARK_KEYS = ("pos_id", "proposal_id", "item_id")
# Attributes of a position, functionally dependent on pos_id: carried through aggregations.
POSITION_ATTRIBUTES = ("voter", "pos_class", "holder_type", "pos_shares")
ITEM_SLOTS = 1 << 16  # group key = pos_id * ITEM_SLOTS + item key
# An instruction's items as bits (item key mod 63 of a BIGINT): the sum of the bits exceeds
# their OR exactly when some bit repeats, so a repeated item is never missed (past 63 items
# two items may share a bit, which only sends more lines down the general path).
ITEM_BITS = 63
PLAIN_ROW = -1  # line-pass key of the per-(item, class, choice) totals of plain lines
CHOICE_CODES = {choice: code for code, choice in enumerate(CHOICE_BUCKET)}
# A proposal item packed in one BIGINT by a CASE over the (few) agenda items, which is cheaper
# than joining every line to the dimension tables: item key (bits 0-15), the choices its
# ballot offers (one bit per choice code from bit 16) and the classes entitled to vote on it
# (one bit per class from bit 24).
ITEM_KEY_MASK = 0xFFFF
CHOICE_SHIFT = 16
CLASS_SHIFT = 24
MAX_FAST_CLASSES = 63 - CLASS_SHIFT
SHARES_TYPE_NAME = f"decimal({SHARES_TYPE.precision}, {SHARES_TYPE.scale})"


@dataclass(frozen=True, slots=True)
class Stage:
    """Outputs of the relational stages, small enough for Python (except at the tails)."""

    rejected_instructions: list[dict[str, Any]]
    rejected_lines: list[dict[str, Any]]
    ties: TieOutcome
    revoked: list[dict[str, Any]]
    adjustments: list[dict[str, Any]]
    present_by_class: list[dict[str, Any]]
    outstanding_by_class: list[dict[str, Any]]
    item_totals: list[dict[str, Any]]
    max_overcount: Decimal | None


def _dimensions(meeting: Meeting) -> dict[str, pa.Table]:
    proposals: list[dict[str, Any]] = []
    items: list[dict[str, Any]] = []
    allowed: list[dict[str, Any]] = []
    entitled: list[dict[str, Any]] = []
    for p in meeting.proposals:
        proposals.append({"d_proposal": p.proposal_id, "d_routine": p.routine})
        items += [
            {"d_item_proposal": p.proposal_id, "d_item": i, "d_item_key": len(items) + n}
            for n, i in enumerate(p.item_ids)
        ]
        choices = (*p.allowed_choices, "broker_non_vote")
        allowed += [
            {
                "d_choice_proposal": p.proposal_id,
                "d_choice": c,
                "d_bucket": CHOICE_BUCKET[c],
                "d_choice_code": CHOICE_CODES[c],
            }
            for c in choices
        ]
        entitled += [{"d_ent_proposal": p.proposal_id, "d_ent_class": c} for c in p.classes]
    close_us = to_epoch_us(meeting.polls_close_at)
    cutoffs = dict(meeting.channel_cutoffs)
    deadline = [
        {
            "d_channel": channel,
            "d_cutoff_us": min(close_us, to_epoch_us(cutoffs[channel]))
            if channel in cutoffs
            else close_us,
        }
        for channel in CHANNELS
    ]
    return {
        "proposals": pa.Table.from_pylist(proposals),
        "items": pa.Table.from_pylist(items),
        "item_names": pa.Table.from_pylist(
            [
                {
                    "n_item_key": r["d_item_key"],
                    "proposal_id": r["d_item_proposal"],
                    "item_id": r["d_item"],
                }
                for r in items
            ]
        ),
        "class_names": pa.Table.from_pylist(
            [{"n_class_key": k, "pos_class": c.class_id} for k, c in enumerate(meeting.classes)]
        ),
        "allowed": pa.Table.from_pylist(allowed),
        "choice_buckets": pa.table(
            {"c_code": list(CHOICE_CODES.values()), "c_bucket": list(CHOICE_BUCKET.values())}
        ),
        "entitled": pa.Table.from_pylist(entitled),
        "cutoffs": pa.Table.from_pylist(deadline),
    }


def _row_ids(count: int) -> pa.ChunkedArray:
    """0, 1, ..., count - 1 without a Python loop: the scans name exception lines by index."""
    ones = pc.fill_null(pa.nulls(count, pa.int64()), 1)
    return pa.chunked_array([pc.subtract(pc.cumulative_sum(ones), 1)], pa.int64())


def _item_codes(meeting: Meeting, items: pa.Table) -> dict[str, dict[str, int]]:
    """proposal -> item -> packed item code (see `ITEM_KEY_MASK`); keys as in `items`."""
    class_keys = {c.class_id: k for k, c in enumerate(meeting.classes)}
    proposals = {p.proposal_id: p for p in meeting.proposals}
    codes: dict[str, dict[str, int]] = {}
    for row in items.to_pylist():
        proposal = proposals[row["d_item_proposal"]]
        choices = sum(1 << CHOICE_CODES[c] for c in proposal.allowed_choices)
        classes = sum(1 << class_keys[c] for c in proposal.classes if c in class_keys)
        check(row["d_item_key"] <= ITEM_KEY_MASK, "too many items on the agenda")
        code = row["d_item_key"] | choices << CHOICE_SHIFT | classes << CLASS_SHIFT
        codes.setdefault(proposal.proposal_id, {})[row["d_item"]] = code
    return codes


class Pipeline:
    """One tabulation run on a private in-memory DuckDB connection."""

    def __init__(self, meeting: Meeting, register: Register, votes: VoteBook) -> None:
        self.meeting = meeting
        self.con = ibis.duckdb.connect()
        dims = _dimensions(meeting)
        self.dims = {name: ibis.memtable(table) for name, table in dims.items()}
        self.class_count = len(meeting.classes)
        self.item_codes = _item_codes(meeting, dims["items"])
        self.line_table = votes.table.append_column("row_id", _row_ids(votes.table.num_rows))
        self.lines = ibis.memtable(self.line_table)
        class_keys = pc.index_in(
            register.table.column("class_id"),
            value_set=pa.array([c.class_id for c in meeting.classes]),
        )
        numbered = register.table.append_column(
            "pos_id", _row_ids(register.table.num_rows)
        ).append_column("class_key", class_keys.cast(pa.int64()))
        self.positions = ibis.memtable(numbered)

    def materialize(self, name: str, expr: ir.Table) -> ir.Table:
        return self.con.create_table(name, expr, temp=True)

    def fetch(self, expr: ir.Table) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = self.con.to_pyarrow(expr).to_pylist()
        return rows

    def headers(self) -> ir.Table:
        """One row per instruction. The lines are first grouped by (instruction, voter, channel,
        class), which is as cheap as grouping by instruction alone; the string minima and maxima
        that expose inconsistent lines are then taken over those few combinations."""
        lines = self.lines
        item_bit = ibis.literal(1).cast("int64") << (self.item_key(lines) % ITEM_BITS)
        combos = lines.group_by(["instruction_id", "voter", "channel", "class_id"]).aggregate(
            at=lines.executed_us.max(),
            at_min=lines.executed_us.min(),
            header_error=lines.header_error.max(),
            first_line=lines.line_no.min(),
            item_bits_sum=item_bit.sum(),
            item_bits_or=item_bit.bit_or(),
        )
        h = combos.group_by("instruction_id").aggregate(
            voter=combos.voter.max(),
            voter_min=combos.voter.min(),
            at=combos.at.max(),
            at_min=combos.at_min.min(),
            channel=combos.channel.max(),
            channel_min=combos.channel.min(),
            cls=combos.class_id.max(),
            cls_min=combos.class_id.min(),
            header_error=combos.header_error.max(),
            first_line=combos.first_line.min(),
            item_bits_sum=combos.item_bits_sum.sum(),
            item_bits_or=combos.item_bits_or.bit_or(),
        )
        pos = self.positions
        holders = pos.group_by(known_voter=pos.holder_id).aggregate(n_classes=pos.count())
        held = pos.select(held_voter=pos.holder_id, held_class=pos.class_id)
        cut = self.dims["cutoffs"]
        h = h.left_join(holders, h.voter == holders.known_voter)
        h = h.left_join(held, [h.voter == held.held_voter, h.cls == held.held_class])
        h = h.left_join(cut, h.channel == cut.d_channel)
        inconsistent = (
            (h.voter != h.voter_min)
            | (h.at != h.at_min)
            | (h.channel != h.channel_min)
            | (h.cls != h.cls_min)
        )
        reason = ibis.cases(
            (h.header_error.notnull(), h.header_error),
            (inconsistent, "inconsistent_instruction"),
            (h.known_voter.isnull(), "unknown_voter"),
            ((h.cls != "") & h.held_voter.isnull(), "no_position_in_class"),
            (h.at > h.d_cutoff_us, "after_polls_closed"),
            else_=ibis.null(str),
        )
        return h.select(
            "instruction_id",
            "voter",
            "at",
            "channel",
            "cls",
            "first_line",
            cutoff_us=h.d_cutoff_us,
            reason=reason,
            multi_mark=(h.item_bits_sum != h.item_bits_or).fill_null(False),
        )

    def candidates(self, headers: ir.Table) -> ir.Table:
        valid = headers.filter(headers.reason.isnull())
        pos = self.positions
        cand = valid.join(
            pos,
            [valid.voter == pos.holder_id, (valid.cls == "") | (valid.cls == pos.class_id)],
        )
        rank = ibis.ifelse(cand.channel == "in_person", IN_PERSON_RANK, 0) + cand.at
        cand = self.materialize(
            "claims",
            cand.select(
                "instruction_id",
                "voter",
                "channel",
                "at",
                "first_line",
                "multi_mark",
                pos_class=cand.class_id,
                pos_shares=cand.shares,
                holder_type=cand.holder_type,
                pos_id=cand.pos_id,
                class_key=cand.class_key,
                rank=rank,
            ),
        )
        best = cand.group_by(["voter", "pos_class"]).aggregate(best=cand.rank.max())
        cand = cand.join(best, ["voter", "pos_class"])
        top_count = (
            cand.filter(cand.rank == cand.best)
            .group_by(["voter", "pos_class"])
            .aggregate(n_top=ibis._.count())
        )
        cand = cand.join(top_count, ["voter", "pos_class"])
        return cand.mutate(is_top=cand.rank == cand.best)

    def item_code(self, t: ir.Table) -> ir.IntegerValue:
        """Packed code of the line's (proposal, item), null when the agenda has no such item."""
        by_proposal = [
            (
                t.proposal_id == proposal_id,
                ibis.cases(*((t.item_id == item, code) for item, code in items.items())),
            )
            for proposal_id, items in self.item_codes.items()
        ]
        if not by_proposal:
            return ibis.null("int64")
        code: ir.IntegerValue = ibis.cases(*by_proposal).cast("int64")
        return code

    def item_key(self, t: ir.Table) -> ir.IntegerValue:
        return self.item_code(t) & ITEM_KEY_MASK

    def plain(self, el: ir.Table, code: ir.IntegerValue, qty: ir.Value) -> ir.BooleanValue:
        """A line that is a whole (position, item) group and counts as marked: a valid choice
        offered on a known item, by an entitled registered position, on an instruction that
        marks the item once, within the position. Null anywhere makes it not plain."""
        if self.class_count > MAX_FAST_CLASSES:
            return ibis.literal(False)
        choice = self.choice_code(el)
        offered = ((code >> (choice + CHOICE_SHIFT)) & 1) == 1
        entitled = ((code >> (el.class_key + CLASS_SHIFT)) & 1) == 1
        plain: ir.BooleanValue = (
            offered
            & entitled
            & el.line_error.isnull()
            & (el.shares.isnull() | (el.shares >= 0))
            & ~el.discretionary
            & ~el.multi_mark
            & (el.holder_type == "registered")
            & (qty <= el.pos_shares)
        ).fill_null(False)
        return plain

    @staticmethod
    def choice_code(t: ir.Table) -> ir.IntegerValue:
        code: ir.IntegerValue = ibis.cases(
            *((t.choice == choice, code) for choice, code in CHOICE_CODES.items())
        ).cast("int64")
        return code

    def _with_positions(self, lines: ir.Table, effective: ir.Table) -> ir.Table:
        eff = effective.select(
            e_instruction="instruction_id",
            pos_id="pos_id",
            class_key="class_key",
            pos_class="pos_class",
            pos_shares="pos_shares",
            holder_type="holder_type",
            multi_mark="multi_mark",
        )
        return lines.join(eff, lines.instruction_id == eff.e_instruction)

    def line_view(self, lines: ir.Table, effective: ir.Table) -> ir.Table:
        """Lines of effective instructions, one row per position covered, with a rejection
        reason and the quantity counted (joined to the dimension tables: for the few
        exception lines)."""
        d = self.dims
        el = self._with_positions(lines, effective)
        el = el.left_join(d["proposals"], el.proposal_id == d["proposals"].d_proposal)
        el = el.left_join(
            d["items"],
            [el.proposal_id == d["items"].d_item_proposal, el.item_id == d["items"].d_item],
        )
        el = el.left_join(
            d["allowed"],
            [
                el.proposal_id == d["allowed"].d_choice_proposal,
                el.choice == d["allowed"].d_choice,
            ],
        )
        el = el.left_join(
            d["entitled"],
            [
                el.proposal_id == d["entitled"].d_ent_proposal,
                el.pos_class == d["entitled"].d_ent_class,
            ],
        )
        nominee = el.holder_type == "nominee"
        reason = ibis.cases(
            (el.line_error.notnull(), el.line_error),
            (el.d_proposal.isnull(), "unknown_proposal"),
            (el.d_item.isnull(), "unknown_nominee"),
            (el.d_ent_class.isnull(), "class_not_entitled"),
            (el.d_bucket.isnull(), "choice_not_allowed"),
            ((el.choice == "broker_non_vote") & ~nominee, "choice_not_allowed"),
            (el.shares < 0, "negative_shares"),
            (el.discretionary & ~nominee, "discretion_not_nominee"),
            (el.discretionary & ~el.d_routine, "discretionary_on_non_routine"),
            else_=ibis.null(str),
        )
        qty = ibis.coalesce(el.shares, el.pos_shares)
        return el.mutate(
            reason=reason,
            qty=qty,
            item_known=el.d_item.notnull() & el.d_ent_class.notnull(),
            plain=self.plain(el, self.item_code(el), qty),
        )

    def line_pass(self, lines: ir.Table, effective: ir.Table) -> ir.Table:
        """One scan of the lines of the effective instructions: plain lines summed per (item,
        class, choice), every other line kept as its (row, position) key."""
        el = self._with_positions(lines, effective)
        code = self.item_code(el)
        qty = ibis.coalesce(el.shares, el.pos_shares)
        plain = self.plain(el, code, qty)
        slot = ((code & ITEM_KEY_MASK) * self.class_count + el.class_key) * len(
            CHOICE_CODES
        ) + self.choice_code(el)
        return el.group_by(
            key_row=ibis.ifelse(plain, PLAIN_ROW, el.row_id),
            key_slot=ibis.ifelse(plain, slot, el.pos_id),
        ).aggregate(q=qty.sum(), marked=el.pos_shares.sum(), marked_positions=el.count())

    def exception_lines(self, scan: ir.Table) -> ir.Table:
        """The lines the line pass did not total, read back by row index."""
        ids = scan.filter(scan.key_row != PLAIN_ROW).select(row_id=scan.key_row).distinct()
        rows = self.con.to_pyarrow(ids.order_by("row_id")).column("row_id")
        return ibis.memtable(self.line_table.take(rows))

    def plain_totals(self, scan: ir.Table) -> ir.Table:
        """The line pass totals of plain lines per (item, class), by bucket."""
        plain = scan.filter(scan.key_row == PLAIN_ROW)
        choices = len(CHOICE_CODES)
        plain = plain.mutate(
            choice_code=plain.key_slot % choices,
            item_key=plain.key_slot // choices // self.class_count,
            class_key=plain.key_slot // choices % self.class_count,
        )
        d = self.dims
        names, classes, buckets = d["item_names"], d["class_names"], d["choice_buckets"]
        plain = (
            plain.join(names, plain.item_key == names.n_item_key)
            .join(classes, plain.class_key == classes.n_class_key)
            .join(buckets, plain.choice_code == buckets.c_code)
        )
        sums = plain.group_by(["proposal_id", "item_id", "pos_class"]).aggregate(
            **{f"q_{b}": plain.q.sum(where=plain.c_bucket == b) for b in Q_BUCKETS},
            voted=plain.q.sum(),
            marked=plain.marked.sum(),
            marked_positions=plain.marked_positions.sum(),
        )
        zero = ibis.literal(Decimal(0), type=SHARES_TYPE_NAME)
        return sums.select(
            "proposal_id",
            "item_id",
            "pos_class",
            holder_type=ibis.literal("registered"),
            **{c: sums[c].fill_null(zero).cast(SHARES_TYPE_NAME) for c in Q_COLUMNS},
            q_bnv=zero,
            voted=sums.voted.cast(SHARES_TYPE_NAME),
            marked=sums.marked.cast(SHARES_TYPE_NAME),
            marked_positions=sums.marked_positions.cast("int64"),
        )

    def _groups(self, el: ir.Table) -> ir.Table:
        """Sum each (position, item) by bucket. One integer key keeps the hash aggregate
        cheap; names come back from the small dimension tables afterwards."""
        known = el.filter(el.item_known)
        ok = known.reason.isnull()
        full = ok & known.shares.isnull()
        zero = ibis.literal(Decimal(0), type=SHARES_TYPE_NAME)
        sums = {
            f"q_{bucket}": known.qty.sum(where=ok & (known.d_bucket == bucket)).fill_null(zero)
            for bucket in (*Q_BUCKETS, "broker_non_vote")
        }
        sums["q_bnv"] = sums.pop("q_broker_non_vote")
        known = known.mutate(
            group_key=known.pos_id * ITEM_SLOTS + known.d_item_key,
            nominee_flag=ibis.ifelse(known.holder_type == "nominee", 1, 0),
        )
        g = known.group_by("group_key").aggregate(
            pos_shares=known.pos_shares.max(),
            nominee_flag=known.nominee_flag.max(),
            class_key=known.class_key.max(),
            **sums,
            full_min=known.d_choice_code.min(where=full),
            full_max=known.d_choice_code.max(where=full),
        )
        names, classes = self.dims["item_names"], self.dims["class_names"]
        g = g.mutate(pos_id=g.group_key // ITEM_SLOTS, item_key=g.group_key % ITEM_SLOTS)
        g = g.join(names, g.item_key == names.n_item_key).join(
            classes, g.class_key == classes.n_class_key
        )
        voted = sum((g[c] for c in Q_COLUMNS[1:]), g[Q_COLUMNS[0]])
        return g.select(
            "pos_id",
            "proposal_id",
            "item_id",
            "pos_class",
            holder_type=ibis.ifelse(g.nominee_flag == 1, "nominee", "registered"),
            pos_shares=g.pos_shares,
            **{c: g[c] for c in (*Q_COLUMNS, "q_bnv")},
            voted=voted.cast(SHARES_TYPE_NAME),
            full_min=g.full_min,
            full_max=g.full_max,
            bad=(g.full_min != g.full_max).fill_null(False) | (voted > g.pos_shares),
        )


def run_stages(meeting: Meeting, register: Register, votes: VoteBook) -> Stage:
    """Run every stage; same-time ties and over-votes are settled by `reconcile` rules."""
    p = Pipeline(meeting, register, votes)
    headers = p.materialize("headers", p.headers())
    rejected_instructions = p.fetch(headers.filter(headers.reason.notnull()))
    cand = p.materialize("candidates", p.candidates(headers))
    tie_rows = p.fetch(cand.filter(cand.is_top & (cand.n_top > 1)))
    tie_lines: list[dict[str, Any]] = []
    if tie_rows:
        ids = ibis.memtable(pa.table({"tie_id": sorted({r["instruction_id"] for r in tie_rows})}))
        tie_lines = p.fetch(p.lines.semi_join(ids, p.lines.instruction_id == ids.tie_id))
    ties = classify_ties(tie_rows, tie_lines)
    effective, lost = _effective(p, cand, ties)
    revoked = p.fetch(_revocations(lost, effective))
    scan = p.materialize("line_pass", p.line_pass(p.lines, effective))
    exceptions = p.line_view(p.exception_lines(scan), effective)
    exceptions = p.materialize("exceptions", exceptions.filter(~exceptions.plain))
    rejected_lines = p.fetch(
        exceptions.filter(exceptions.reason.notnull()).select(
            "line_no",
            "instruction_id",
            "voter",
            "pos_class",
            "proposal_id",
            "item_id",
            "choice",
            "shares",
            "reason",
        )
    )
    final, fixed_rejections, adjustments = _reconciled_groups(p, exceptions)
    totals = _totals(p, final, effective, scan)
    return Stage(
        rejected_instructions=rejected_instructions,
        rejected_lines=rejected_lines + fixed_rejections,
        ties=ties,
        revoked=revoked,
        adjustments=adjustments,
        **totals,
    )


def _effective(p: Pipeline, cand: ir.Table, ties: TieOutcome) -> tuple[ir.Table, ir.Table]:
    """The one counted instruction per position, and the candidates that lost."""
    top = cand.is_top
    effective = cand.filter(top & (cand.n_top == 1))
    tied = cand.filter(top & (cand.n_top > 1))
    lost = cand.filter(~top)
    if ties.winners:
        keep = ibis.memtable(pa.Table.from_pylist(ties.winners)).select(
            w_instruction="instruction_id", w_voter="voter", w_class="pos_class"
        )
        matched = [
            tied.instruction_id == keep.w_instruction,
            tied.voter == keep.w_voter,
            tied.pos_class == keep.w_class,
        ]
        effective = effective.union(tied.semi_join(keep, matched))
        lost = lost.union(tied.anti_join(keep, matched))
    else:
        lost = lost.union(tied)
    effective = effective.select(
        "instruction_id",
        "voter",
        "channel",
        "pos_class",
        "pos_shares",
        "holder_type",
        "pos_id",
        "class_key",
        "multi_mark",
    )
    return p.materialize("effective", effective), lost


def _reconciled_groups(
    p: Pipeline, exceptions: ir.Table
) -> tuple[ir.Table, list[dict[str, Any]], list[dict[str, Any]]]:
    """(Position, item) groups of the exception lines, over-marks and over-votes settled."""
    groups = p.materialize("groups", p._groups(exceptions))
    bad_keys = groups.filter(groups.bad).select(*MARK_KEYS)
    bad_lines: list[dict[str, Any]] = []
    if p.fetch(bad_keys.aggregate(n=bad_keys.count()))[0]["n"]:
        el = exceptions
        bad_lines = p.fetch(
            el.filter(el.reason.isnull() & el.item_known)
            .semi_join(bad_keys, [el[k] == bad_keys[k] for k in MARK_KEYS])
            .select(
                *MARK_KEYS,
                *POSITION_ATTRIBUTES,
                "line_no",
                "instruction_id",
                "choice",
                "shares",
                "qty",
                "d_bucket",
            )
        )
    fixed = reconcile_groups(bad_lines, p.meeting.over_vote_policy)
    final = groups.filter(~groups.bad).drop("bad", "full_min", "full_max")
    if fixed.groups:
        final = final.union(_as_groups(fixed.groups, final.schema()))
    return p.materialize("final_groups", final), fixed.rejections, fixed.adjustments


def _revocations(lost: ir.Table, effective: ir.Table) -> ir.Table:
    eff = effective.select(
        r_voter="voter", r_class="pos_class", by_instruction="instruction_id", by_channel="channel"
    )
    lost = lost.left_join(eff, [lost.voter == eff.r_voter, lost.pos_class == eff.r_class])
    return lost.select(
        "instruction_id",
        "voter",
        "pos_class",
        "channel",
        "at",
        "is_top",
        "by_instruction",
        "by_channel",
    )


def _as_groups(rows: list[dict[str, Any]], schema: Any) -> ir.Table:
    arrow_schema = schema.to_pyarrow()
    table = pa.Table.from_pylist(
        [{n: r[n] for n in arrow_schema.names} for r in rows], schema=arrow_schema
    )
    return ibis.memtable(table)


def _totals(p: Pipeline, final: ir.Table, effective: ir.Table, scan: ir.Table) -> dict[str, Any]:
    # Only exception lines can reach a nominee (or any non-registered) position, and a
    # registered position is present for its whole position, so `final` holds every reach.
    reach = final.group_by(r_pos_id=final.pos_id).aggregate(reach=(final.voted + final.q_bnv).max())
    eff = effective.left_join(reach, effective.pos_id == reach.r_pos_id)
    zero = ibis.literal(Decimal(0), type=SHARES_TYPE_NAME)
    present = ibis.ifelse(
        eff.holder_type == "registered",
        eff.pos_shares,
        ibis.least(eff.pos_shares, eff.reach.fill_null(zero)),
    )
    eff = eff.mutate(present=present.cast(SHARES_TYPE_NAME))
    present_by_class = p.fetch(
        eff.group_by(class_id=eff.pos_class, holder_type=eff.holder_type).aggregate(
            present=eff.present.sum(),
            positions=eff.count(where=eff.present > 0),
        )
    )
    pos = p.positions
    outstanding = p.fetch(
        pos.group_by("class_id").aggregate(outstanding=pos.shares.sum(), holders=pos.count())
    )
    keys = ["proposal_id", "item_id", "pos_class", "holder_type"]
    columns = (*Q_COLUMNS, "q_bnv", "voted")
    from_groups = final.group_by(keys).aggregate(
        **{c: final[c].sum().cast(SHARES_TYPE_NAME) for c in columns},
        marked=final.pos_shares.sum().cast(SHARES_TYPE_NAME),
        marked_positions=final.count(),
    )
    both = from_groups.union(p.plain_totals(scan))
    item_totals = p.fetch(
        both.group_by(keys).aggregate(
            **{c: both[c].sum() for c in (*columns, "marked")},
            marked_positions=both.marked_positions.sum().cast("int64"),
        )
    )
    # Plain lines are within their positions by definition; reconciled groups are checked.
    over = final.aggregate(worst=(final.voted - final.pos_shares).max())
    max_overcount = p.fetch(over)[0]["worst"]
    check(max_overcount is None or max_overcount <= 0, "a position counted above its shares")
    return {
        "present_by_class": present_by_class,
        "outstanding_by_class": outstanding,
        "item_totals": item_totals,
        "max_overcount": max_overcount,
    }
