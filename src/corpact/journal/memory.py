"""An in-memory Merkle log holding every perfect node: the offline verifier's tree.

Same layout as storage (level 0 = leaf hashes, perfect nodes above), so proofs come out of
the same range arithmetic as in the database.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from corpact.errors import check
from corpact.journal.compact import CompactRange, NodeId, range_nodes
from corpact.journal.hashing import EMPTY_ROOT, fold_right, leaf_hash
from corpact.journal.proofs import consistency_ranges, hashes_for, inclusion_ranges, nodes_for


@dataclass(slots=True)
class MemoryTree:
    levels: list[list[bytes]] = field(default_factory=lambda: [[]])
    edge: CompactRange = field(default_factory=CompactRange)

    @classmethod
    def from_leaf_data(cls, leaves: list[bytes]) -> MemoryTree:
        tree = cls()
        for data in leaves:
            tree.append_hash(leaf_hash(data))
        return tree

    @property
    def size(self) -> int:
        return self.edge.size

    def append_hash(self, leaf: bytes) -> None:
        self.levels[0].append(leaf)
        for level, index, digest in self.edge.append(leaf):
            if level == len(self.levels):
                self.levels.append([])
            check(len(self.levels[level]) == index, "perfect nodes must arrive in order")
            self.levels[level].append(digest)

    def node(self, node: NodeId) -> bytes:
        level, index = node
        return self.levels[level][index]

    def root(self, size: int | None = None) -> bytes:
        size = self.size if size is None else size
        check(0 <= size <= self.size, f"tree size {size} is beyond {self.size}")
        if size == 0:
            return EMPTY_ROOT
        return fold_right([self.node(n) for n in range_nodes(0, size)])

    def inclusion_proof(self, index: int, size: int) -> list[bytes]:
        check(size <= self.size, f"tree size {size} is beyond {self.size}")
        ranges = inclusion_ranges(index, size)
        return hashes_for(ranges, {n: self.node(n) for n in nodes_for(ranges)})

    def consistency_proof(self, old_size: int, new_size: int) -> list[bytes]:
        check(new_size <= self.size, f"tree size {new_size} is beyond {self.size}")
        ranges = consistency_ranges(old_size, new_size)
        return hashes_for(ranges, {n: self.node(n) for n in nodes_for(ranges)})
