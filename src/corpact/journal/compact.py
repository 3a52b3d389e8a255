"""Compact ranges: a range of leaves as the fewest aligned perfect subtrees.

A node id is `(level, index)`: the perfect subtree over leaves
`[index << level, (index + 1) << level)`. Level 0 is a leaf.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from corpact.errors import check
from corpact.journal.hashing import EMPTY_ROOT, fold_right, node_hash

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

    def root(self) -> bytes:
        return fold_right(self.hashes) if self.hashes else EMPTY_ROOT
