"""Plain instructions as packed integers, so that most votes never need a per-line join.

A *plain* line is a full-position mark (no quantity, not discretionary, no parse error) of a
choice that the item's ballot offers. An instruction whose lines are all plain, and which marks
each item at most once, is a vote card: for each item, one choice or nothing. Such a card packs
into a few BIGINTs (a nibble per item: choice code + 1, 0 = unmarked), computed while the lines
are grouped per instruction anyway. For a registered position entitled to every item marked,
each mark is a whole (position, item) group of the position's shares, so the totals of all
such positions come from grouping them by card and unpacking each distinct card once.

Everything else (nominee positions, split or discretionary votes, rejected marks, items marked
twice) goes through the general per-line path; this module only decides, conservatively, what
is plain. Any NULL makes a line not plain.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from math import prod

import ibis
import ibis.expr.types as ir
import pyarrow as pa

from corpact.errors import check
from corpact.meeting.duckdb_functions import (
    integer_divide,
    integer_variable,
    integers_variable,
    list_extract,
)
from corpact.meeting.model import CHOICE_BUCKET, Meeting

CHOICE_CODES = {choice: code for code, choice in enumerate(CHOICE_BUCKET)}
# An agenda item packed in one BIGINT by a CASE over the (few) items, cheaper than a join:
# item key (bits 0-15) and the choices its ballot offers (a bit per choice code from bit 16).
ITEM_KEY_MASK = 0xFFFF
CHOICE_SHIFT = 16
ITEMS_PER_WORD = 15  # 4-bit nibbles, clear of the sign bit
NIBBLE_BITS = 4
NIBBLE_MASK = (1 << NIBBLE_BITS) - 1
OTHER_LINE = 1 << 32  # an instruction has far fewer lines than this
DIRECT_LOOKUP_LIMIT = 1 << 16  # entries of a constant list written into the SQL


@dataclass(frozen=True, slots=True)
class CardLayout:
    """Item codes of one meeting (proposal -> item id -> code), and per class key the card
    nibbles of the items that class votes on."""

    codes: dict[str, dict[str, int]]
    item_count: int
    entitled_items: tuple[frozenset[int], ...]

    @property
    def words(self) -> tuple[str, ...]:
        count = -(-self.item_count // ITEMS_PER_WORD)
        return tuple(f"card_{w}" for w in range(count))

    def entitled_mask(self, class_key: int, word: int) -> int:
        """Nibbles of `word` that class `class_key` may mark."""
        items = self.entitled_items[class_key]
        first = word * ITEMS_PER_WORD
        return sum(
            NIBBLE_MASK << (k - first) * NIBBLE_BITS
            for k in range(first, min(first + ITEMS_PER_WORD, self.item_count))
            if k in items
        )


def card_layout(meeting: Meeting, items: pa.Table) -> CardLayout:
    """Codes for the items of `items` (the pipeline's item dimension, so keys agree)."""
    proposals = {p.proposal_id: p for p in meeting.proposals}
    codes: dict[str, dict[str, int]] = {}
    entitled: list[set[int]] = [set() for _ in meeting.classes]
    for row in items.to_pylist():
        proposal = proposals[row["d_item_proposal"]]
        key = row["d_item_key"]
        check(key <= ITEM_KEY_MASK, "too many items on the agenda")
        choices = sum(1 << CHOICE_CODES[c] for c in proposal.allowed_choices)
        codes.setdefault(proposal.proposal_id, {})[row["d_item"]] = key | choices << CHOICE_SHIFT
        for class_key, share_class in enumerate(meeting.classes):
            if share_class.class_id in proposal.classes:
                entitled[class_key].add(key)
    return CardLayout(codes, items.num_rows, tuple(frozenset(e) for e in entitled))


def _lookup(values: ir.ArrayValue, index: ir.IntegerValue) -> ir.IntegerValue:
    """`values[index]` from a constant list indexed per row: cheaper than a CASE or a join."""
    return list_extract(values, index + 1)


def direct_lookup(names: Mapping[str, pa.Table]) -> bool:
    """Whether every (proposal, nominee, choice) text combination fits one short list."""
    sizes: list[int] = [names[c].num_rows for c in ("proposal_id", "item_id", "choice")]
    return prod(sizes) <= DIRECT_LOOKUP_LIMIT


def mark_variables(layout: CardLayout, names: Mapping[str, pa.Table]) -> dict[str, int | list[int]]:
    """The session variables `with_marks` reads: the data-dependent half of the lookup from
    the numbers the vote book gave its proposal, item and choice texts (`names[column]` maps
    each number back to its text) to each line's mark. Kept apart from the expression, so
    that the SQL depends on the meeting only and a compiled plan can be used again for other
    votes.

    When every combination of those texts fits in a short list (`direct_lookup`), one lookup
    per line does it; otherwise each text is first reduced to its place on the agenda (0 when
    it has none)."""
    item_codes: dict[tuple[str | None, str | None], int] = {
        (p, i): code for p, items in layout.codes.items() for i, code in items.items()
    }

    def mark(proposal: str | None, item: str | None, choice: str | None) -> int:
        code = item_codes.get((proposal, item))
        number = CHOICE_CODES.get(choice) if choice is not None else None
        if code is None or number is None or not code >> (number + CHOICE_SHIFT) & 1:
            return 0
        return number + 1 << nibble_shift(code & ITEM_KEY_MASK)

    def word(proposal: str | None, item: str | None) -> int:
        code = item_codes.get((proposal, item), 0)
        return (code & ITEM_KEY_MASK) // ITEMS_PER_WORD

    variables: dict[str, int | list[int]] = {}
    texts = [_texts(names, c) for c in ("proposal_id", "item_id", "choice")]
    if not direct_lookup(names):
        agenda: list[list[str | None]] = [
            [None, *layout.codes],
            [None, *sorted({i for items in layout.codes.values() for i in items})],
            [None, *CHOICE_CODES],
        ]
        for n, (found, known) in enumerate(zip(texts, agenda, strict=True)):
            places = {t: k for k, t in enumerate(known) if k}
            variables[f"corpact_place_{n}"] = [
                places.get(t, 0) if t is not None else 0 for t in found
            ]
        texts = agenda
    proposals, items, choices = texts
    variables["corpact_items"] = len(items)
    variables["corpact_choices"] = len(choices)
    variables["corpact_marks"] = [mark(p, i, c) for p in proposals for i in items for c in choices]
    if len(layout.words) > 1:
        variables["corpact_words"] = [word(p, i) for p in proposals for i in items]
    return variables


def with_marks(layout: CardLayout, lines: ir.Table, direct: bool) -> ir.Table:
    """Each line with `plain` and `nibble` (its mark, already shifted into place in card word
    `mark_word`; 0 when the line is not plain), looked up through the session variables of
    `mark_variables` (`direct` as `direct_lookup` said when they were set)."""
    numbers = [lines.proposal_no, lines.item_no, lines.choice_no]
    if not direct:
        numbers = [
            _lookup(integers_variable(f"corpact_place_{n}"), number)
            for n, number in enumerate(numbers)
        ]
    pair = numbers[0] * integer_variable("corpact_items") + numbers[1]
    marked = lines.mutate(
        mark=_lookup(
            integers_variable("corpact_marks"),
            pair * integer_variable("corpact_choices") + numbers[2],
        ),
        mark_word=_lookup(integers_variable("corpact_words"), pair)
        if len(layout.words) > 1
        else ibis.literal(0, type="int64"),
    )
    plain: ir.BooleanValue = ((marked.mark != 0) & marked.whole).fill_null(False)
    marked = marked.mutate(plain=plain)  # a column of its own, so it is computed once
    return marked.mutate(nibble=ibis.ifelse(marked.plain, marked.mark, 0))


def _texts(names: Mapping[str, pa.Table], column: str) -> list[str | None]:
    found: list[str | None] = names[column].column(column).to_pylist()
    return found


def line_aggregates(layout: CardLayout, lines: ir.Table) -> dict[str, ir.Value]:
    """Per-instruction aggregates over the lines of `with_marks`: the card words, and one sum
    that counts plain lines in its low 32 bits and the others above (see `line_counts`)."""
    words = {
        word: ibis.ifelse(lines.mark_word == w, lines.nibble, 0).bit_or()
        for w, word in enumerate(layout.words)
    }
    if len(layout.words) == 1:  # every item in one word: no test of the word needed
        words = {layout.words[0]: lines.nibble.bit_or()}
    tally = ibis.ifelse(lines.plain, 1, OTHER_LINE).cast("int64").sum()
    return {"line_tally": tally, **words}


def line_counts(t: ir.Table) -> dict[str, ir.IntegerValue]:
    """`n_lines` and `plain_lines` from the `line_tally` of `line_aggregates`."""
    plain = t.line_tally % OTHER_LINE
    return {"plain_lines": plain, "n_lines": plain + integer_divide(t.line_tally, OTHER_LINE)}


def counts_as_card(layout: CardLayout, t: ir.Table) -> ir.BooleanValue:
    """An (instruction, position) whose votes its card carries in full: every line plain,
    each on a different item (a repeated item would merge into one nibble, so the marks in
    the card would be fewer than the lines), every item one the position's class votes on,
    and a registered position."""
    if not layout.words:
        return ibis.literal(False)
    marks = sum(
        (
            ibis.ifelse(((t[layout.words[k // ITEMS_PER_WORD]] >> nibble_shift(k)) & 15) != 0, 1, 0)
            for k in range(layout.item_count)
        ),
        ibis.literal(0),
    )
    entitled = [
        (
            t[word]
            & ~ibis.cases(
                *(
                    (t.class_key == c, layout.entitled_mask(c, w))
                    for c in range(len(layout.entitled_items))
                ),
                else_=0,
            ).cast("int64")
        )
        == 0
        for w, word in enumerate(layout.words)
    ]
    card: ir.BooleanValue = (
        (t.plain_lines == t.n_lines)
        & (marks == t.plain_lines)
        & ~t.nominee
        & t.pos_shares.notnull()
        & ibis.and_(*entitled)
    ).fill_null(False)
    return card


def nibble_shift(key: int) -> int:
    return (key % ITEMS_PER_WORD) * NIBBLE_BITS


def unpack(layout: CardLayout, cards: ir.Table) -> ir.Table:
    """(class_key, card words, shares, positions) -> (item_key, class_key, choice_code, shares,
    positions), one row per distinct card and item marked."""
    parts = []
    for key in range(layout.item_count):
        word = cards[layout.words[key // ITEMS_PER_WORD]]
        nibble = (word >> nibble_shift(key)) & NIBBLE_MASK
        parts.append(
            cards.select(
                item_key=ibis.literal(key).cast("int64"),
                class_key=cards.class_key,
                choice_code=(nibble - 1).cast("int64"),
                shares=cards.shares,
                positions=cards.positions,
            )
        )
    marks = ibis.union(*parts)
    return marks.filter(marks.choice_code >= 0)
