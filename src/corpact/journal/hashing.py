"""RFC 6962 §2.1 hashing: the one `leaf_hash` and the one `node_hash` used everywhere.

The 0x00 / 0x01 prefixes separate leaves from interior nodes, so a 64-byte interior node can
never be presented as a leaf (second-preimage attack, RFC 6962 §2.1).
"""

from __future__ import annotations

import hashlib

from corpact.errors import check

HASH_SIZE = 32
LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"
# The root of the empty tree is SHA-256 of the empty string, not the hash of an empty leaf.
EMPTY_ROOT = hashlib.sha256(b"").digest()


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(LEAF_PREFIX + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(NODE_PREFIX + left + right).digest()


def split_point(size: int) -> int:
    """The largest power of two strictly less than `size` (size 8 splits 4 + 4)."""
    check(size > 1, f"a tree of size {size} has no split")
    return 1 << ((size - 1).bit_length() - 1)


def fold_right(hashes: list[bytes]) -> bytes:
    """node_hash(h0, node_hash(h1, ... node_hash(h_{j-1}, h_j))): the root of a compact range."""
    check(len(hashes) > 0, "cannot fold an empty list of hashes")
    result = hashes[-1]
    for left in reversed(hashes[:-1]):
        result = hashlib.sha256(NODE_PREFIX + left + result).digest()
    return result
