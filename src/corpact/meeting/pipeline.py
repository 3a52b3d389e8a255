"""The relational half of the tabulation, as Ibis expressions run on an in-process DuckDB.

Stages (each a set-at-a-time transformation, so the same expressions scale and could run on a
distributed Ibis backend):

1. `headers`: one row per instruction; instruction-level rejections (unparseable time, unknown
   voter, inconsistent lines, after the polls closed).
2. `candidates`: valid instructions x the record-date positions they cover; per position the
   in-person ballot outranks every proxy, then the latest execution time wins.
3. `marks`: lines of the effective instructions, validated against the proposals, then summed
   per (position, item) by bucket. Over-marked and over-voted groups go to `reconcile`.
4. `presence` and `item totals`: voting shares present per class and per (item, class, holder
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
                "d_choice_code": list(CHOICE_BUCKET).index(c),
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
        "entitled": pa.Table.from_pylist(entitled),
        "cutoffs": pa.Table.from_pylist(deadline),
    }


class Pipeline:
    """One tabulation run on a private in-memory DuckDB connection."""

    def __init__(self, meeting: Meeting, register: Register, votes: VoteBook) -> None:
        self.meeting = meeting
        self.con = ibis.duckdb.connect()
        dims = _dimensions(meeting)
        self.dims = {name: ibis.memtable(table) for name, table in dims.items()}
        self.lines = ibis.memtable(votes.table)
        class_keys = pc.index_in(
            register.table.column("class_id"),
            value_set=pa.array([c.class_id for c in meeting.classes]),
        )
        numbered = register.table.append_column(
            "pos_id", pa.array(range(register.table.num_rows), pa.int64())
        ).append_column("class_key", class_keys.cast(pa.int64()))
        self.positions = ibis.memtable(numbered)

    def materialize(self, name: str, expr: ir.Table) -> ir.Table:
        return self.con.create_table(name, expr, temp=True)

    def fetch(self, expr: ir.Table) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = self.con.to_pyarrow(expr).to_pylist()
        return rows

    def headers(self) -> ir.Table:
        lines = self.lines
        h = lines.group_by("instruction_id").aggregate(
            voter=lines.voter.max(),
            voter_min=lines.voter.min(),
            at=lines.executed_us.max(),
            at_min=lines.executed_us.min(),
            channel=lines.channel.max(),
            channel_min=lines.channel.min(),
            cls=lines.class_id.max(),
            cls_min=lines.class_id.min(),
            header_error=lines.header_error.max(),
            first_line=lines.line_no.min(),
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
        )

    def candidates(self, headers: ir.Table) -> ir.Table:
        valid = headers.filter(headers.reason.isnull())
        pos = self.positions
        cand = valid.join(
            pos,
            [valid.voter == pos.holder_id, (valid.cls == "") | (valid.cls == pos.class_id)],
        )
        rank = ibis.ifelse(cand.channel == "in_person", IN_PERSON_RANK, 0) + cand.at
        cand = cand.select(
            "instruction_id",
            "voter",
            "channel",
            "at",
            "first_line",
            pos_class=cand.class_id,
            pos_shares=cand.shares,
            holder_type=cand.holder_type,
            pos_id=cand.pos_id,
            class_key=cand.class_key,
            rank=rank,
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

    def marks(self, effective: ir.Table) -> tuple[ir.Table, ir.Table]:
        """Lines of effective instructions with a rejection reason, and their (position, item)."""
        lines = self.lines
        eff = effective.select(
            e_instruction="instruction_id",
            pos_id="pos_id",
            class_key="class_key",
            pos_class="pos_class",
            pos_shares="pos_shares",
            holder_type="holder_type",
        )
        d = self.dims
        el = lines.join(eff, lines.instruction_id == eff.e_instruction)
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
        el = el.mutate(
            reason=reason,
            qty=ibis.coalesce(el.shares, el.pos_shares),
            item_known=el.d_item.notnull() & el.d_ent_class.notnull(),
        )
        return el, self._groups(el)

    def _groups(self, el: ir.Table) -> ir.Table:
        """Sum each (position, item) by bucket. One integer key keeps the big hash aggregate
        cheap; names come back from the small dimension tables afterwards."""
        ok = el.reason.isnull()
        full = ok & el.shares.isnull()
        zero = ibis.literal(Decimal(0), type=SHARES_TYPE_NAME)
        sums = {
            f"q_{bucket}": el.qty.sum(where=ok & (el.d_bucket == bucket)).fill_null(zero)
            for bucket in Q_BUCKETS
        }
        known = el.filter(el.item_known)
        known = known.mutate(
            group_key=known.pos_id * ITEM_SLOTS + known.d_item_key,
            nominee_flag=ibis.ifelse(known.holder_type == "nominee", 1, 0),
        )
        g = known.group_by("group_key").aggregate(
            pos_shares=known.pos_shares.max(),
            nominee_flag=known.nominee_flag.max(),
            class_key=known.class_key.max(),
            **sums,
            q_bnv=el.qty.sum(where=ok & (el.d_bucket == "broker_non_vote")).fill_null(zero),
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


SHARES_TYPE_NAME = f"decimal({SHARES_TYPE.precision}, {SHARES_TYPE.scale})"


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
    winners = ties.winners
    effective = cand.filter(cand.is_top & (cand.n_top == 1))
    if winners:
        keep = ibis.memtable(pa.Table.from_pylist(winners)).select(
            w_instruction="instruction_id", w_voter="voter", w_class="pos_class"
        )
        tied = cand.filter(cand.is_top & (cand.n_top > 1))
        resolved = tied.semi_join(
            keep,
            [
                tied.instruction_id == keep.w_instruction,
                tied.voter == keep.w_voter,
                tied.pos_class == keep.w_class,
            ],
        )
        effective = effective.union(resolved)
    effective = p.materialize("effective", effective)
    revoked = p.fetch(_revocations(cand, effective))
    el, groups = p.marks(effective)
    groups = p.materialize("groups", groups)
    rejected_lines = p.fetch(
        el.filter(el.reason.notnull()).select(
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
    bad_keys = groups.filter(groups.bad).select(*MARK_KEYS)
    bad_lines: list[dict[str, Any]] = []
    if p.fetch(bad_keys.aggregate(n=bad_keys.count()))[0]["n"]:
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
    fixed = reconcile_groups(bad_lines, meeting.over_vote_policy)
    final = groups.filter(~groups.bad).drop("bad", "full_min", "full_max")
    if fixed.groups:
        final = final.union(_as_groups(fixed.groups, final.schema()))
    totals = _totals(p, final, effective)
    return Stage(
        rejected_instructions=rejected_instructions,
        rejected_lines=rejected_lines + fixed.rejections,
        ties=ties,
        revoked=revoked,
        adjustments=fixed.adjustments,
        **totals,
    )


def _revocations(cand: ir.Table, effective: ir.Table) -> ir.Table:
    eff = effective.select(
        r_voter="voter", r_class="pos_class", by_instruction="instruction_id", by_channel="channel"
    )
    lost = cand.anti_join(
        effective,
        [
            cand.instruction_id == effective.instruction_id,
            cand.voter == effective.voter,
            cand.pos_class == effective.pos_class,
        ],
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


def _totals(p: Pipeline, final: ir.Table, effective: ir.Table) -> dict[str, Any]:
    final = p.materialize("final_groups", final)
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
    sums = {c: final[c].sum() for c in (*Q_COLUMNS, "q_bnv", "voted")}
    item_totals = p.fetch(
        final.group_by(["proposal_id", "item_id", "pos_class", "holder_type"]).aggregate(
            **sums, marked=final.pos_shares.sum(), marked_positions=final.count()
        )
    )
    over = final.aggregate(worst=(final.voted - final.pos_shares).max())
    max_overcount = p.fetch(over)[0]["worst"]
    check(max_overcount is None or max_overcount <= 0, "a position counted above its shares")
    return {
        "present_by_class": present_by_class,
        "outstanding_by_class": outstanding,
        "item_totals": item_totals,
        "max_overcount": max_overcount,
    }
