"""Compact ranges: a range of leaves as the fewest aligned perfect subtrees.

A node id is `(level, index)`: the perfect subtree over leaves
`[index << level, (index + 1) << level)`. Level 0 is a leaf.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field

from corpact.errors import check
from corpact.journal.hashing import EMPTY_ROOT, NODE_PREFIX, fold_right, node_hash

_sha256 = hashlib.sha256

NodeId = tuple[int, int]


def range_nodes(first: int, last: int) -> list[NodeId]:
    """The largest aligned power-of-two blocks covering `[first, last)`, left to right."""
    check(0 <= first <= last, f"bad leaf range [{first}, {last})")
    nodes: list[NodeId] = []
    while first < last:
        level = (last - first).bit_length() - 1
        if first:
            level = min(level, (first & -first).bit_length() - 1)
        nodes.append((level, first >> level))
        first += 1 << level
    return nodes


def is_perfect(first: int, last: int) -> bool:
    size = last - first
    return size > 0 and size & (size - 1) == 0 and first % size == 0


@dataclass(slots=True)
class CompactRange:
    """The right edge of a growing tree: the perfect nodes covering `[0, size)`.

    Appending a leaf returns the perfect nodes (level >= 1) it completes, which is exactly what
    storage must insert. The root is the right-to-left fold of `hashes`.
    """

    size: int = 0
    hashes: list[bytes] = field(default_factory=list)

    @classmethod
    def from_hashes(cls, size: int, hashes: list[bytes]) -> CompactRange:
        check(len(hashes) == size.bit_count(), "a compact range of [0, n) has popcount(n) nodes")
        return cls(size=size, hashes=list(hashes))

    def copy(self) -> CompactRange:
        return CompactRange(size=self.size, hashes=list(self.hashes))

    def append(self, leaf: bytes) -> list[tuple[int, int, bytes]]:
        completed: list[tuple[int, int, bytes]] = []
        index, level, current = self.size, 0, leaf
        while index & 1:  # a right child completes its parent
            current = node_hash(self.hashes.pop(), current)
            level, index = level + 1, index >> 1
            completed.append((level, index, current))
        self.hashes.append(current)
        self.size += 1
        return completed

    def extend(self, leaves: Sequence[bytes]) -> list[tuple[int, int, bytes]]:
        """`append` of each leaf in turn, worked level by level: the same perfect nodes (listed
        level by level rather than leaf by leaf) and the same edge. A bulk import hashes a
        million nodes, and one list comprehension per level costs less than a call per node."""
        by_level = self._by_level()
        completed: list[tuple[int, int, bytes]] = []
        level, first, row = 0, self.size, list(leaves)
        while len(row) > 1 or (row and first & 1):
            if first & 1:  # the first is a right child: its left sibling waits on the edge
                row.insert(0, by_level.pop(level))
                first -= 1
            if len(row) & 1:  # the last has no right sibling yet: it joins the edge
                by_level[level] = row.pop()
            parents = [
                _sha256(NODE_PREFIX + row[i] + row[i + 1]).digest() for i in range(0, len(row), 2)
            ]
            level, first, row = level + 1, first >> 1, parents
            completed += [(level, index, h) for index, h in enumerate(parents, first)]
        if row:
            by_level[level] = row[0]
        self.size += len(leaves)
        self.hashes = [by_level[lv] for lv in sorted(by_level, reverse=True)]
        check(len(self.hashes) == self.size.bit_count(), "extended edge lost a node")
        return completed

    def _by_level(self) -> dict[int, bytes]:
        """The edge's nodes by level: one per bit set in the size, highest level first."""
        levels = [lv for lv in range(self.size.bit_length() - 1, -1, -1) if self.size >> lv & 1]
        return dict(zip(levels, self.hashes, strict=True))

    def root(self) -> bytes:
        return fold_right(self.hashes) if self.hashes else EMPTY_ROOT
