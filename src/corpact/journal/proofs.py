"""Inclusion and consistency proofs (RFC 6962 §2.1.1-2): which ranges, then which stored nodes.

Generation works in two steps so storage can fetch every node in one query: first the leaf
ranges `[first, last)` whose hashes make up the proof, then the perfect nodes behind them. At
most one range is not itself a perfect node (the one straddling the right edge); its hash is
folded from its compact range.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from corpact.errors import check
from corpact.journal.compact import NodeId, range_nodes
from corpact.journal.hashing import fold_right, split_point

LeafRange = tuple[int, int]


def inclusion_ranges(index: int, size: int) -> list[LeafRange]:
    """The ranges whose hashes form the audit path of leaf `index` in a tree of `size` leaves."""
    check(0 <= index < size, f"leaf {index} is not in a tree of size {size}")
    path: list[LeafRange] = []
    for level in range((size - 1).bit_length()):
        sibling = (index >> level) ^ 1
        first = sibling << level
        if first >= size:
            continue  # no sibling at this level: the node is carried up unchanged
        path.append((first, min((sibling + 1) << level, size)))
    return path


def consistency_ranges(old_size: int, new_size: int) -> list[LeafRange]:
    """The ranges of PROOF(old_size, D[0:new_size]) (RFC 6962 §2.1.2), in proof order."""
    check(0 < old_size <= new_size, f"no consistency proof from {old_size} to {new_size}")
    return _subproof(old_size, 0, new_size, complete=True)


def _subproof(old_size: int, start: int, end: int, *, complete: bool) -> list[LeafRange]:
    size = end - start
    if old_size == size:
        return [] if complete else [(start, end)]
    k = split_point(size)
    if old_size <= k:
        return [*_subproof(old_size, start, start + k, complete=complete), (start + k, end)]
    return [*_subproof(old_size - k, start + k, end, complete=False), (start, start + k)]


def nodes_for(ranges: Iterable[LeafRange]) -> set[NodeId]:
    return {node for first, last in ranges for node in range_nodes(first, last)}


def hashes_for(ranges: Iterable[LeafRange], nodes: Mapping[NodeId, bytes]) -> list[bytes]:
    """Resolve each range to its hash from the fetched perfect nodes."""
    result: list[bytes] = []
    for first, last in ranges:
        ids = range_nodes(first, last)
        missing = [node for node in ids if node not in nodes]
        check(not missing, f"perfect nodes {missing} are not stored")
        result.append(fold_right([nodes[node] for node in ids]))
    return result
