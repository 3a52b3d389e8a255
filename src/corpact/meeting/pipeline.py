"""The relational half of the tabulation, as Ibis expressions run on an in-process DuckDB.

Stages (each a set-at-a-time transformation, so the same expressions scale and could run on a
distributed Ibis backend). They group and join on the numbers the vote book gave its text
columns at load (`VoteCodes`); the tables of a million rows between stages hold numbers and
flags only, and text is looked up for the rows reported:

1. `headers`: one row per instruction, rejected if its lines disagree or carry a header
   error. The same scan packs each plain instruction into a vote card (`cards`).
2. `claims`: each instruction x the record-date positions it covers, by one left join that
   also finds unknown voters and classes not held; `rejected` names every rejection.
3. `ranked` and `candidates`: per position the in-person ballot outranks every proxy,
   then the latest execution time wins; same-time ties go to `reconcile`.
4. `cards`: the effective instructions that are plain cards on registered positions are
   grouped by card and unpacked into per-(item, class, choice) totals; their lines are never
   read again.
5. `exceptions`: the lines of every other effective instruction (nominee positions, split or
   discretionary votes, rejected marks, items marked twice) are picked by instruction number,
   validated against the proposals and summed per (position, item); over-marked and
   over-voted groups go to `reconcile`.
6. `presence` and `item totals`: voting shares present per class and per (item, class, holder
   type), from which broker non-votes and not-voted shares are derived by subtraction.

Share quantities stay `DECIMAL(38, 6)` end to end; nothing is ever a float (integer division is
DuckDB's own `divide`). Each stage's SQL is built and compiled once per meeting and input
types and reused (`Pipeline.step`).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import duckdb
import ibis
import ibis.expr.types as ir
import pyarrow as pa
import pyarrow.compute as pc

from corpact.errors import check
from corpact.meeting import cards
from corpact.meeting.cards import CHOICE_CODES
from corpact.meeting.duckdb_functions import integer_divide, integer_variable
from corpact.meeting.model import CHOICE_BUCKET, FREQUENCY_CHOICES, Meeting
from corpact.meeting.reconcile import TieOutcome, classify_ties, reconcile_groups
from corpact.meeting.register import SHARES_TYPE, Register
from corpact.meeting.votes import (
    CHANNELS,
    CODED_COLUMNS,
    VoteBook,
    counting,
)
from corpact.timeutil import to_epoch_us

IN_PERSON_RANK = 10**17  # added to epoch microseconds: a ballot outranks any proxy time
Q_BUCKETS = ("for", "against", "abstain", *FREQUENCY_CHOICES)
Q_COLUMNS = tuple(f"q_{b}" for b in Q_BUCKETS)
MARK_KEYS = ("pos_id", "proposal_id", "item_id")
# What a report says of a line, besides its number.
LINE_FACTS = ("instruction_id", "voter", "proposal_id", "item_id", "choice", "shares")
# What the exception stages read of a line: fewer columns to pick from ten million lines.
EXCEPTION_LINE_COLUMNS = ("line_no", "ins_no", *LINE_FACTS, "discretionary", "line_error")
# What the stages after `line_view` read of an exception line besides its reason and quantity.
EXCEPTION_COLUMNS = (
    "line_no",
    *LINE_FACTS,
    "pos_id",
    "class_key",
    "pos_class",
    "pos_shares",
    "nominee",
    "d_item_key",
    "d_bucket",
    "d_choice_code",
)
ITEM_SLOTS = 1 << 16  # group key = pos_id * ITEM_SLOTS + item key

SHARES_TYPE_NAME = f"decimal({SHARES_TYPE.precision}, {SHARES_TYPE.scale})"


@dataclass(frozen=True, slots=True)
class Stage:
    """Outputs of the relational stages, small enough for Python (except at the tails)."""

    rejected_instructions: list[dict[str, Any]]
    rejected_lines: list[dict[str, Any]]
    ties: TieOutcome
    revoked: pa.Table  # `Revocation` fields, by (voter, class, instruction)
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


PLAN_CACHE_SIZE = 512
# (plan key, step, variant) -> (SQL, schema of its result). See `Pipeline.step`.
_PLANS: OrderedDict[Hashable, tuple[str, ibis.Schema]] = OrderedDict()
_PLANS_LOCK = threading.Lock()


def _planned(key: Hashable, build: Callable[[], ir.Table]) -> tuple[str, ibis.Schema]:
    """The SQL and result schema of the expression `build` gives, built and compiled once per
    key (building the expressions of a tabulation costs about 0.3 s of Python)."""
    with _PLANS_LOCK:
        plan = _PLANS.get(key)
        if plan is not None:
            _PLANS.move_to_end(key)
            return plan
    expr = build()
    plan = (str(ibis.to_sql(expr, dialect="duckdb")), expr.schema())
    with _PLANS_LOCK:
        _PLANS[key] = plan
        while len(_PLANS) > PLAN_CACHE_SIZE:
            _PLANS.popitem(last=False)
    return plan


class Pipeline:
    """One tabulation run on a private in-memory DuckDB connection.

    Lines are grouped and joined on the integer numbers the vote book assigned at load
    (instruction, voter, channel, class); text is looked up only for the rows reported.
    """

    def __init__(self, meeting: Meeting, register: Register, votes: VoteBook) -> None:
        self.meeting = meeting
        self.register = register
        self.con = duckdb.connect(config={"preserve_insertion_order": False})
        self.inputs: list[tuple[str, str]] = []
        self.schemas: dict[str, ibis.Schema] = {}
        dims = _dimensions(meeting)
        self.dims = {name: self.input(f"dim_{name}", table) for name, table in dims.items()}
        self.layout = cards.card_layout(meeting, dims["items"])
        line_table = votes.table
        for name in votes.codes.lines.column_names:
            line_table = line_table.append_column(name, votes.codes.lines.column(name))
        line_table = line_table.append_column("whole", _whole_position_marks(votes.table))
        self.line_table = line_table
        self.lines = self.input("lines", line_table)
        self.codes = votes.codes
        self.names = {c: self.input(f"names_{c}", t) for c, t in votes.codes.names.items()}
        # The meeting's classes in order: a class key is a place in this list.
        self.class_ids = pa.array([c.class_id for c in meeting.classes], pa.string())
        class_keys = pc.index_in(register.table.column("class_id"), value_set=self.class_ids)
        numbered = register.table.append_column(
            "pos_id", pa.chunked_array([counting(register.table.num_rows)])
        ).append_column("class_key", class_keys.cast(pa.int64()))
        self.positions = self.input("positions", numbered)
        self.direct_lookup = cards.direct_lookup(votes.codes.names)
        self.errors_seen = votes.codes.lines.column("header_error_no").null_count < len(
            votes.codes.lines
        )
        variables = cards.mark_variables(self.layout, votes.codes.names)
        for name, size in zip(("voter", "channel", "class"), votes.codes.header_sizes, strict=True):
            variables[f"corpact_{name}_numbers"] = size
        for name, value in variables.items():
            kind = "BIGINT[]" if isinstance(value, list) else "BIGINT"
            self.con.execute(f"SET VARIABLE {name} = {value!r}::{kind}")
        # Everything an expression of a stage depends on besides the data, which reaches it
        # only through its named inputs and the session variables above.
        self.plan_key = (
            meeting,
            tuple(self.inputs),
            self.direct_lookup,
            self.errors_seen,
        )

    def input(self, name: str, table: pa.Table) -> ir.Table:
        """`table` under a fixed name, so that the SQL of every stage reads the same whatever
        the data (see `step`)."""
        self.con.register(name, table)
        self.inputs.append((name, str(table.schema)))
        return ibis.table(ibis.Schema.from_pyarrow(table.schema), name=name)

    def step(self, step: str, build: Callable[[], ir.Table], *variant: Hashable) -> str:
        """The SQL of one step of this tabulation. Inputs have fixed names and data-dependent
        constants are session variables, so a step's expression depends only on the meeting,
        the input types, `variant` (what else the caller chose it by) and the plan key's
        flags: tabulating the same meeting again, as votes come in, builds no expression."""
        sql, schema = _planned((self.plan_key, step, variant), build)
        self.schemas[step] = schema
        return sql

    def materialize(self, name: str, build: Callable[[], ir.Table], *variant: Hashable) -> ir.Table:
        self.con.execute(f'CREATE TEMP TABLE "{name}" AS {self.step(name, build, *variant)}')
        return ibis.table(self.schemas[name], name=name)

    def fetch_arrow(self, step: str, build: Callable[[], ir.Table], *variant: Hashable) -> pa.Table:
        table: pa.Table = self.con.sql(self.step(step, build, *variant)).to_arrow_table()
        return table

    def fetch(
        self, step: str, build: Callable[[], ir.Table], *variant: Hashable
    ) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = self.fetch_arrow(step, build, *variant).to_pylist()
        return rows

    def count(self, step: str, build: Callable[[], ir.Table], *variant: Hashable) -> int:
        """The number of rows of a (usually empty) relation."""

        def counted() -> ir.Table:
            t = build()
            return t.aggregate(n=t.count())

        found: int = self.fetch(step, counted, *variant)[0]["n"]
        return found

    def class_texts(self) -> ir.Table:
        """The class texts of the lines by number (`k_class_no`, `cls`)."""
        return self.names["class_id"].select(k_class_no="class_no", cls="class_id")

    def voter_positions(self) -> ir.Table:
        """Record-date positions keyed by the number of their holder among the voters, and of
        their class among the classes the lines name (NULL when no line names it)."""
        pos, voters, classes = self.positions, self.names["voter"], self.names["class_id"]
        vp = pos.join(voters, pos.holder_id == voters.voter)
        vp = vp.left_join(classes, vp.class_id == classes.class_id)
        # Numbers and flags only: the tables of a million rows after this one hold no text,
        # which costs more to store than the rest; `class_key` names the class.
        return vp.select(
            "pos_id",
            "voter_no",
            "class_key",
            nominee=vp.holder_type == "nominee",
            pos_shares=vp.shares,
            pos_class_no=vp.class_no,
        )

    def headers(self) -> ir.Table:
        """One row per instruction number; a line that disagrees with another line of its
        instruction on voter, channel, class (a NULL counts as a value) or time makes the
        instruction inconsistent. `reason` is a rejection found in the lines alone; whether
        the voter holds a position, and whether the instruction came in time, are settled
        with its claims (`claims`)."""
        lines = cards.with_marks(self.layout, self.lines, self.direct_lookup)
        h = lines.group_by("ins_no").aggregate(
            at=lines.executed_us.max(),
            at_min=lines.executed_us.min(),
            header_key=lines.header_key.max(),
            header_key_min=lines.header_key.min(),
            # Most files have no header errors at all; then the aggregate is not needed.
            header_error_no=lines.header_error_no.max() if self.errors_seen else ibis.null("int32"),
            **cards.line_aggregates(self.layout, lines),
        )
        h = h.mutate(**_decode_header_key(h.header_key), **cards.line_counts(h))
        channels = self.names["channel"]
        errors = self.names["header_error"]
        classes = self.class_texts()
        cut = self.dims["cutoffs"]
        h = h.left_join(channels, h.channel_no == channels.channel_no).drop("channel_no_right")
        h = h.left_join(classes, h.class_no == classes.k_class_no)
        h = h.left_join(errors, h.header_error_no == errors.header_error_no).drop(
            "header_error_no_right"
        )
        h = h.left_join(cut, h.channel == cut.d_channel)
        inconsistent = (h.header_key != h.header_key_min) | (h.at != h.at_min)
        reason = ibis.cases(
            (h.header_error.notnull(), h.header_error),
            (inconsistent, "inconsistent_instruction"),
            else_=ibis.null(str),
        )
        return h.select(
            "ins_no",
            "voter_no",
            "class_no",
            "at",
            "channel_no",
            "n_lines",
            "plain_lines",
            *self.layout.words,
            in_person=h.channel == "in_person",
            # Whether it covers every class the voter holds; NULL when a line names the class
            # NULL, which then matches no position.
            every_class=h.cls == "",
            late=(h.at > h.d_cutoff_us).fill_null(False),
            reason=reason,
        )

    def claims(self, headers: ir.Table, vpos: ir.Table) -> ir.Table:
        """Each instruction not rejected by its lines, with every record-date position it
        covers (all the voter's positions, or the one of the class it names); one row with
        no position when it covers none, so that one join settles both who may vote and
        what each vote covers."""
        valid = headers.filter(headers.reason.isnull())
        cand = valid.left_join(
            vpos,
            [
                valid.voter_no == vpos.voter_no,
                valid.every_class | (valid.class_no == vpos.pos_class_no),
            ],
        )
        rank = ibis.ifelse(cand.in_person, IN_PERSON_RANK, 0) + cand.at
        return cand.select(
            "ins_no",
            "channel_no",
            "in_person",
            "n_lines",
            "plain_lines",
            *self.layout.words,
            "pos_id",
            "class_key",
            "pos_shares",
            "nominee",
            "late",
            "every_class",
            "class_no",
            voter_no=cand.voter_no,
            rank=rank,
        )

    def rejected(self, headers: ir.Table, claims: ir.Table, vpos: ir.Table) -> ir.Table:
        """Rejected instructions and why, in this order of precedence: a header error, lines
        that disagree, a voter with no position, none in the class named, too late."""
        by_lines = headers.filter(headers.reason.notnull()).select(
            "ins_no", "voter_no", "class_no", "reason"
        )
        uncovered = claims.filter(claims.pos_id.isnull())
        holder = uncovered.voter_no.isin(vpos.voter_no).fill_null(False)
        by_position = uncovered.select(
            "ins_no",
            "voter_no",
            "class_no",
            reason=ibis.ifelse(
                holder & ~uncovered.every_class.fill_null(False),
                "no_position_in_class",
                "unknown_voter",
            ),
        )
        late = claims.filter(claims.pos_id.notnull() & claims.late)
        by_time = late.select(
            "ins_no", "voter_no", "class_no", reason=ibis.literal("after_polls_closed")
        )
        found = by_lines.union(by_position).union(by_time.distinct())
        classes = self.class_texts()
        found = found.left_join(classes, found.class_no == classes.k_class_no)
        return found.select("ins_no", "voter_no", "cls", "reason")

    def named(self, t: ir.Table, *columns: str) -> ir.Table:
        """`t` with the text of the given coded columns (`instruction_id`, `voter`)."""
        for column in columns:
            names = self.names[column]
            code = CODED_COLUMNS[column]
            t = t.left_join(names, t[code] == names[code]).drop(f"{code}_right")
        return t

    def ranked(self, claims: ir.Table) -> ir.Table:
        """The claims that count, each marked whether it ranks first for its position: the
        in-person ballot outranks every proxy, then the latest execution time wins."""
        cand = claims.filter(claims.pos_id.notnull() & ~claims.late).drop(
            "late", "every_class", "class_no", "voter_no"
        )
        best = cand.group_by(b_pos_id="pos_id").aggregate(best=cand.rank.max(), claims=cand.count())
        cand = cand.join(best, cand.pos_id == best.b_pos_id)
        return cand.select(~ibis.selectors.cols("b_pos_id", "best"), is_top=cand.rank == cand.best)

    def candidates(self, ranked: ir.Table) -> ir.Table:
        """`ranked` with whether another claim shares the top rank of the position. Only a
        position claimed more than once can have a tie: those few are counted."""
        top = ranked.filter((ranked.claims > 1) & ranked.is_top)
        tied = top.group_by(t_pos_id="pos_id").aggregate(top_count=top.count())
        tied = tied.filter(tied.top_count > 1)
        found = ranked.left_join(tied, ranked.pos_id == tied.t_pos_id)
        return found.select(
            ~ibis.selectors.cols("t_pos_id", "top_count", "claims"),
            tie_at_top=found.t_pos_id.notnull(),
        )

    def _with_positions(self, lines: ir.Table, effective: ir.Table) -> ir.Table:
        classes = self.dims["class_names"]
        eff = effective.join(classes, effective.class_key == classes.n_class_key)
        eff = eff.select(
            e_ins_no="ins_no",
            pos_id="pos_id",
            class_key="class_key",
            pos_class="pos_class",
            pos_shares="pos_shares",
            nominee="nominee",
        )
        return lines.join(eff, lines.ins_no == eff.e_ins_no)

    def line_view(self, lines: ir.Table, effective: ir.Table) -> ir.Table:
        """Lines of effective instructions, one row per position covered, with a rejection
        reason and the quantity counted."""
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
        reason = ibis.cases(
            (el.line_error.notnull(), el.line_error),
            (el.d_proposal.isnull(), "unknown_proposal"),
            (el.d_item.isnull(), "unknown_nominee"),
            (el.d_ent_class.isnull(), "class_not_entitled"),
            (el.d_bucket.isnull(), "choice_not_allowed"),
            ((el.choice == "broker_non_vote") & ~el.nominee, "choice_not_allowed"),
            (el.shares < 0, "negative_shares"),
            (el.discretionary & ~el.nominee, "discretion_not_nominee"),
            (el.discretionary & ~el.d_routine, "discretionary_on_non_routine"),
            else_=ibis.null(str),
        )
        # Only what the later stages read: a text column costs more to store than the rest.
        return el.select(
            *EXCEPTION_COLUMNS,
            reason=reason,
            qty=ibis.coalesce(el.shares, el.pos_shares),
            item_known=el.d_item.notnull() & el.d_ent_class.notnull(),
        )

    def lines_of(self, numbers: pa.Array, columns: Sequence[str] | None = None) -> pa.Table:
        """The lines of the given instruction numbers. A semi-join in Arrow: DuckDB would
        convert every text column of every line before it could drop the lines not wanted.
        Instruction numbers are dense (`VoteCodes`), so a number is its row in the names."""
        # A flag per instruction, then one per line by taking it at the line's number: a
        # hash lookup per instruction instead of per line.
        flags = pc.is_in(counting(self.codes.names["instruction_id"].num_rows), value_set=numbers)
        wanted = flags.take(self.line_table.column("ins_no"))
        table = self.line_table if columns is None else self.line_table.select(list(columns))
        return table.filter(wanted)

    def exception_lines(self, effective: ir.Table) -> ir.Table:
        """The lines of the effective instructions that are not cards."""

        def ids() -> ir.Table:
            return effective.filter(~effective.card).select("ins_no").distinct()

        numbers = self.fetch_arrow("exception_instructions", ids).column("ins_no")
        return self.input("exception_lines", self.lines_of(numbers, EXCEPTION_LINE_COLUMNS))

    def card_groups(self, effective: ir.Table) -> ir.Table:
        """The positions counted as cards, grouped by class and card."""
        plain = effective.filter(effective.card)
        if not self.layout.words:
            plain = plain.filter(ibis.literal(False))
        return plain.group_by(["class_key", *self.layout.words]).aggregate(
            shares=plain.pos_shares.sum(), positions=plain.count()
        )

    def card_totals(self, card_groups: ir.Table) -> ir.Table:
        """Per (item, class) by bucket, the votes of the positions counted as cards."""
        unpacked = cards.unpack(self.layout, card_groups)
        # Summed by numbers first: one row per distinct card and item is far more rows than
        # (item, class, choice) combinations, and only those few are named.
        marks = unpacked.group_by("item_key", "class_key", "choice_code").aggregate(
            shares=unpacked.shares.sum(), positions=unpacked.positions.sum()
        )
        d = self.dims
        names, classes, buckets = d["item_names"], d["class_names"], d["choice_buckets"]
        marks = (
            marks.join(names, marks.item_key == names.n_item_key)
            .join(classes, marks.class_key == classes.n_class_key)
            .join(buckets, marks.choice_code == buckets.c_code)
        )
        sums = marks.group_by(["proposal_id", "item_id", "pos_class"]).aggregate(
            **{f"q_{b}": marks.shares.sum(where=marks.c_bucket == b) for b in Q_BUCKETS},
            voted=marks.shares.sum(),
            marked_positions=marks.positions.sum(),
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
            marked=sums.voted.cast(SHARES_TYPE_NAME),
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
        known = known.mutate(group_key=known.pos_id * ITEM_SLOTS + known.d_item_key)
        g = known.group_by("group_key").aggregate(
            # Attributes of the position, the same on every line of the group.
            pos_shares=known.pos_shares.max(),
            nominee=known.nominee.any(),
            class_key=known.class_key.max(),
            **sums,
            full_min=known.d_choice_code.min(where=full),
            full_max=known.d_choice_code.max(where=full),
        )
        names, classes = self.dims["item_names"], self.dims["class_names"]
        g = g.mutate(
            pos_id=integer_divide(g.group_key, ITEM_SLOTS), item_key=g.group_key % ITEM_SLOTS
        )
        g = g.join(names, g.item_key == names.n_item_key).join(
            classes, g.class_key == classes.n_class_key
        )
        voted = sum((g[c] for c in Q_COLUMNS[1:]), g[Q_COLUMNS[0]])
        return g.select(
            "pos_id",
            "proposal_id",
            "item_id",
            "pos_class",
            holder_type=_holder_type(g.nominee),
            pos_shares=g.pos_shares,
            **{c: g[c] for c in (*Q_COLUMNS, "q_bnv")},
            voted=voted.cast(SHARES_TYPE_NAME),
            full_min=g.full_min,
            full_max=g.full_max,
            bad=(g.full_min != g.full_max).fill_null(False) | (voted > g.pos_shares),
        )


def _whole_position_marks(lines: pa.Table) -> pa.ChunkedArray:
    """Per line, whether it marks the whole position with no error, no quantity and no
    discretion (NULL counts as no): the per-line half of `cards.with_marks`'s `plain`. Taken
    from the columns' validity bitmaps here, so that the 10,000,000-line scan of the
    headers stage reads one boolean instead of converting a text and a decimal column."""
    whole = pc.and_kleene(
        pc.and_kleene(pc.is_null(lines.column("line_error")), pc.is_null(lines.column("shares"))),
        pc.invert(lines.column("discretionary")),
    )
    return pc.fill_null(whole, False)


def _holder_type(nominee: ir.BooleanValue) -> ir.StringValue:
    """The register's word for a position's holder, from the flag the stages carry."""
    return ibis.ifelse(nominee, "nominee", "registered")


def _decode_header_key(key: ir.IntegerValue) -> dict[str, ir.IntegerValue]:
    """Voter, channel and class numbers back from `VoteCodes.header_key` (the sizes are the
    session variables `Pipeline` sets)."""
    voters, channels, classes = (
        integer_variable(f"corpact_{name}_numbers") for name in ("voter", "channel", "class")
    )
    return {
        "voter_no": integer_divide(key, channels * classes).nullif(voters - 1).cast("int32"),
        "channel_no": (integer_divide(key, classes) % channels).nullif(channels - 1).cast("int32"),
        "class_no": (key % classes).nullif(classes - 1).cast("int32"),
    }


def run_stages(meeting: Meeting, register: Register, votes: VoteBook) -> Stage:
    """Run every stage; same-time ties and over-votes are settled by `reconcile` rules."""
    p = Pipeline(meeting, register, votes)
    try:
        return _run(p)
    finally:
        p.con.close()  # its temporary tables hold a copy of every instruction and position


def _run(p: Pipeline) -> Stage:
    vpos = p.materialize("voter_positions", p.voter_positions)
    headers = p.materialize("headers", p.headers)
    claims = p.materialize("claims", lambda: p.claims(headers, vpos))

    def rejected() -> ir.Table:
        found = p.named(p.rejected(headers, claims, vpos), "instruction_id", "voter")
        return found.select("ins_no", "instruction_id", "voter", "cls", "reason")

    def any_rejected() -> ir.Table:
        # Without the test of who holds a position, which reads every position.
        return (
            headers.filter(headers.reason.notnull())
            .select("ins_no")
            .union(claims.filter(claims.pos_id.isnull() | claims.late).select("ins_no"))
        )

    rejected_instructions: list[dict[str, Any]] = []
    if p.count("any_rejected", any_rejected):  # most files have few or none: name them then
        rejected_instructions = _with_first_lines(
            p, _named_by_lines(p, p.fetch("rejected_instructions", rejected))
        )
    ranked = p.materialize("ranked", lambda: p.ranked(claims))
    cand = p.materialize("candidates", lambda: p.candidates(ranked))

    def tied() -> ir.Table:
        top = cand.filter(cand.is_top & cand.tie_at_top)
        classes = p.dims["class_names"]
        top = top.join(classes, top.class_key == classes.n_class_key)
        return top.select("ins_no", "pos_id", "pos_class")

    def named_ties() -> ir.Table:
        holders = p.positions.select("pos_id", voter="holder_id")
        return p.named(tied().join(holders, "pos_id"), "instruction_id")

    tie_rows: list[dict[str, Any]] = []
    if p.count("ties", tied):  # rare: name them only when present
        tie_rows = _with_first_lines(p, p.fetch("named_ties", named_ties))
    tie_lines: list[dict[str, Any]] = []
    if tie_rows:
        numbers = pa.array(sorted({r["ins_no"] for r in tie_rows}), pa.int32())
        tie_lines = p.lines_of(numbers).to_pylist()
    ties = classify_ties(tie_rows, tie_lines)
    winners = _tie_winners(p, ties, tie_rows)
    effective = p.materialize(
        "effective", lambda: _effective(p, cand, winners)[0], winners is not None
    )
    revoked = _revocations(p, lambda: _effective(p, cand, winners)[1], effective, winners)
    exception_lines = p.exception_lines(effective)
    exceptions = p.materialize(
        "exceptions",
        lambda: p.line_view(exception_lines, effective.filter(~effective.card)),
    )

    def rejected_lines() -> ir.Table:
        return exceptions.filter(exceptions.reason.notnull()).select(
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

    line_rejections = p.fetch("rejected_lines", rejected_lines)
    final, fixed_rejections, adjustments = _reconciled_groups(p, exceptions)
    totals = _totals(p, final, effective)
    return Stage(
        rejected_instructions=rejected_instructions,
        rejected_lines=line_rejections + fixed_rejections,
        ties=ties,
        revoked=revoked,
        adjustments=adjustments,
        **totals,
    )


def _with_first_lines(p: Pipeline, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each row's instruction with its first line number, the evidence a report cites; read
    for the few instructions reported rather than aggregated for every instruction."""
    if rows:
        numbers = pa.array(sorted({r["ins_no"] for r in rows}), pa.int32())
        lines = p.lines_of(numbers, ("ins_no", "line_no"))
        first: dict[int, int] = {}
        for key, line in zip(
            *(lines.column(c).to_pylist() for c in lines.column_names), strict=True
        ):
            if line is not None and (key not in first or line < first[key]):
                first[key] = line
        for row in rows:
            row["first_line"] = first.get(row["ins_no"])
    return rows


def _named_by_lines(p: Pipeline, rejected: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """An inconsistent instruction names the greatest voter and class among its lines, so
    that the report does not depend on the order in which the lines were numbered."""
    inconsistent = {r["ins_no"]: r for r in rejected if r["reason"] == "inconsistent_instruction"}
    if inconsistent:
        lines = p.lines_of(pa.array(sorted(inconsistent), pa.int32()))
        for key, voter, cls in zip(
            *(lines.column(c).to_pylist() for c in ("ins_no", "voter", "class_id")), strict=True
        ):
            row = inconsistent[key]
            if voter is not None and (row["voter"] is None or voter > row["voter"]):
                row["voter"] = voter
            if cls is not None and (row["cls"] is None or cls > row["cls"]):
                row["cls"] = cls
    return rejected


def _tie_winners(p: Pipeline, ties: TieOutcome, tie_rows: list[dict[str, Any]]) -> ir.Table | None:
    """The instructions kept from same-time ties (`reconcile`), as an input; None if none."""
    if not ties.winners:
        return None
    numbers = {
        (r["instruction_id"], r["voter"], r["pos_class"]): (r["ins_no"], r["pos_id"])
        for r in tie_rows
    }
    picked = [numbers[(w["instruction_id"], w["voter"], w["pos_class"])] for w in ties.winners]
    return p.input(
        "tie_winners",
        pa.table(
            {
                "w_ins_no": pa.array([i for i, _ in picked], pa.int32()),
                "w_pos_id": pa.array([q for _, q in picked], pa.int64()),
            }
        ),
    )


def _effective(p: Pipeline, cand: ir.Table, keep: ir.Table | None) -> tuple[ir.Table, ir.Table]:
    """The one counted instruction per position, and the candidates that lost."""
    top = cand.is_top
    effective = cand.filter(top & ~cand.tie_at_top)
    tied = cand.filter(top & cand.tie_at_top)
    lost = cand.filter(~top)
    if keep is not None:
        matched = [tied.ins_no == keep.w_ins_no, tied.pos_id == keep.w_pos_id]
        effective = effective.union(tied.semi_join(keep, matched))
        lost = lost.union(tied.anti_join(keep, matched))
    else:
        lost = lost.union(tied)
    effective = effective.select(
        "ins_no",
        "channel_no",
        "in_person",
        "pos_shares",
        "nominee",
        "pos_id",
        "class_key",
        *p.layout.words,
        card=cards.counts_as_card(p.layout, effective),
    )
    return effective, lost


def _reconciled_groups(
    p: Pipeline, exceptions: ir.Table
) -> tuple[ir.Table, list[dict[str, Any]], list[dict[str, Any]]]:
    """(Position, item) groups of the exception lines, over-marks and over-votes settled."""
    groups = p.materialize("groups", lambda: p._groups(exceptions))

    def bad_keys() -> ir.Table:
        return groups.filter(groups.bad).select(*MARK_KEYS)

    def bad_lines() -> ir.Table:
        el, bad = exceptions, bad_keys()
        return (
            el.filter(el.reason.isnull() & el.item_known)
            .semi_join(bad, [el[k] == bad[k] for k in MARK_KEYS])
            .select(
                *MARK_KEYS,
                "voter",
                "pos_class",
                "pos_shares",
                "line_no",
                "instruction_id",
                "choice",
                "shares",
                "qty",
                "d_bucket",
                holder_type=_holder_type(el.nominee),
            )
        )

    found = p.fetch("bad_lines", bad_lines) if p.count("bad_groups", bad_keys) else []
    fixed = reconcile_groups(found, p.meeting.over_vote_policy)

    def kept() -> ir.Table:
        return groups.filter(~groups.bad).drop("bad", "full_min", "full_max")

    if not fixed.groups:
        return p.materialize("final_groups", kept, False), fixed.rejections, fixed.adjustments
    settled = _as_groups(p, fixed.groups, groups.drop("bad", "full_min", "full_max").schema())
    final = p.materialize("final_groups", lambda: kept().union(settled), True)
    return final, fixed.rejections, fixed.adjustments


def _revocations(
    p: Pipeline,
    lost: Callable[[], ir.Table],
    effective: ir.Table,
    winners: ir.Table | None,
) -> pa.Table:
    """Every candidate that lost, with what revoked it, in (voter, class, instruction) order.

    The stage works on numbers; the texts of the (many) rows are then taken by number, since
    an instruction's and a position's number are their rows in the name and register tables:
    a join on the text tables would read all of them."""

    def numbered() -> ir.Table:
        eff = effective.select(r_pos_id="pos_id", by_ins_no="ins_no", by_in_person="in_person")
        found = lost().select("ins_no", "pos_id", "class_key", "channel_no", "in_person")
        found = found.left_join(eff, found.pos_id == eff.r_pos_id)
        reason = ibis.cases(
            (found.by_ins_no.isnull(), "superseded; the later instructions conflict"),
            (~found.in_person & found.by_in_person, "revoked by a ballot cast in person"),
            else_="revoked by a later instruction",
        )
        return found.select(
            "ins_no", "by_ins_no", "pos_id", "class_key", "channel_no", reason=reason
        )

    found = p.fetch_arrow("revocations", numbered, winners is not None)
    instruction_ids = p.codes.names["instruction_id"].column("instruction_id")
    table = pa.table(
        {
            "instruction_id": instruction_ids.take(found.column("ins_no")),
            "voter": p.register.table.column("holder_id").take(found.column("pos_id")),
            "class_id": p.class_ids.take(found.column("class_key")),
            "channel": p.codes.names["channel"].column("channel").take(found.column("channel_no")),
            "superseded_by": instruction_ids.take(found.column("by_ins_no")),
            "reason": found.column("reason"),
        }
    )
    return table.sort_by([(c, "ascending") for c in ("voter", "class_id", "instruction_id")])


def _as_groups(p: Pipeline, rows: list[dict[str, Any]], schema: Any) -> ir.Table:
    arrow_schema = schema.to_pyarrow()
    table = pa.Table.from_pylist(
        [{n: r[n] for n in arrow_schema.names} for r in rows], schema=arrow_schema
    )
    return p.input("fixed_groups", table)


def _totals(p: Pipeline, final: ir.Table, effective: ir.Table) -> dict[str, Any]:
    def present_by_class() -> ir.Table:
        # Cards are registered positions, present for the whole position; every other
        # position's reach is in `final`.
        reach = final.group_by(r_pos_id=final.pos_id).aggregate(
            reach=(final.voted + final.q_bnv).max()
        )
        eff = effective.left_join(reach, effective.pos_id == reach.r_pos_id)
        zero = ibis.literal(Decimal(0), type=SHARES_TYPE_NAME)
        present = ibis.ifelse(
            eff.nominee,
            ibis.least(eff.pos_shares, eff.reach.fill_null(zero)),
            eff.pos_shares,
        )
        eff = eff.mutate(present=present.cast(SHARES_TYPE_NAME))
        sums = eff.group_by("class_key", "nominee").aggregate(
            present=eff.present.sum(),
            positions=eff.count(where=eff.present > 0),
        )
        classes = p.dims["class_names"]
        sums = sums.join(classes, sums.class_key == classes.n_class_key)
        return sums.select(
            "present",
            "positions",
            class_id=sums.pos_class,
            holder_type=_holder_type(sums.nominee),
        )

    def outstanding() -> ir.Table:
        pos = p.positions
        return pos.group_by("class_id").aggregate(outstanding=pos.shares.sum(), holders=pos.count())

    card_groups = p.materialize("cards", lambda: p.card_groups(effective))

    def item_totals() -> ir.Table:
        keys = ["proposal_id", "item_id", "pos_class", "holder_type"]
        columns = (*Q_COLUMNS, "q_bnv", "voted")
        from_groups = final.group_by(keys).aggregate(
            **{c: final[c].sum().cast(SHARES_TYPE_NAME) for c in columns},
            marked=final.pos_shares.sum().cast(SHARES_TYPE_NAME),
            marked_positions=final.count(),
        )
        both = from_groups.union(p.card_totals(card_groups))
        return both.group_by(keys).aggregate(
            **{c: both[c].sum() for c in (*columns, "marked")},
            marked_positions=both.marked_positions.sum().cast("int64"),
        )

    def overcount() -> ir.Table:
        # A card counts each item once for the whole position; reconciled groups are checked.
        return final.aggregate(worst=(final.voted - final.pos_shares).max())

    max_overcount = p.fetch("overcount", overcount)[0]["worst"]
    check(max_overcount is None or max_overcount <= 0, "a position counted above its shares")
    return {
        "present_by_class": p.fetch("present_by_class", present_by_class),
        "outstanding_by_class": p.fetch("outstanding", outstanding),
        "item_totals": p.fetch("item_totals", item_totals),
        "max_overcount": max_overcount,
    }
