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

from dataclasses import dataclass

import ibis
import ibis.expr.types as ir
import pyarrow as pa

from corpact.errors import check
from corpact.meeting.model import CHOICE_BUCKET, Meeting

CHOICE_CODES = {choice: code for code, choice in enumerate(CHOICE_BUCKET)}
# An agenda item packed in one BIGINT by a CASE over the (few) items, cheaper than a join:
# item key (bits 0-15) and the choices its ballot offers (a bit per choice code from bit 16).
ITEM_KEY_MASK = 0xFFFF
CHOICE_SHIFT = 16
ITEMS_PER_WORD = 15  # 4-bit nibbles, clear of the sign bit
NIBBLE_BITS = 4
NIBBLE_MASK = (1 << NIBBLE_BITS) - 1


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


def item_code(layout: CardLayout, t: ir.Table) -> ir.IntegerValue:
    """Packed code of the line's (proposal, item), NULL when the agenda has no such item."""
    by_proposal = [
        (
            t.proposal_id == proposal_id,
            ibis.cases(*((t.item_id == item, code) for item, code in items.items())),
        )
        for proposal_id, items in layout.codes.items()
    ]
    if not by_proposal:
        return ibis.null("int64")
    code: ir.IntegerValue = ibis.cases(*by_proposal).cast("int64")
    return code


def choice_code(t: ir.Table) -> ir.IntegerValue:
    code: ir.IntegerValue = ibis.cases(
        *((t.choice == choice, code) for choice, code in CHOICE_CODES.items())
    ).cast("int64")
    return code


def line_aggregates(layout: CardLayout, lines: ir.Table) -> dict[str, ir.Value]:
    """Per-instruction aggregates over its lines: how many, how many plain, the card words."""
    code = item_code(layout, lines)
    key = code & ITEM_KEY_MASK
    choice = choice_code(lines)
    offered = ((code >> (choice + CHOICE_SHIFT)) & 1) == 1
    plain: ir.BooleanValue = (
        offered & lines.line_error.isnull() & lines.shares.isnull() & ~lines.discretionary
    ).fill_null(False)
    nibble = (choice + 1) << ((key % ITEMS_PER_WORD) * NIBBLE_BITS)
    words = {
        word: ibis.ifelse(plain & (key // ITEMS_PER_WORD == w), nibble, 0).bit_or()
        for w, word in enumerate(layout.words)
    }
    return {"n_lines": lines.count(), "plain_lines": lines.count(where=plain), **words}


def combined_aggregates(layout: CardLayout, parts: ir.Table) -> dict[str, ir.Value]:
    """`line_aggregates` of the parts of one instruction, combined."""
    return {
        "n_lines": parts.n_lines.sum(),
        "plain_lines": parts.plain_lines.sum(),
        **{word: parts[word].bit_or() for word in layout.words},
    }


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
        & (t.holder_type == "registered")
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
