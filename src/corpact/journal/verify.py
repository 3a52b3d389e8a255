"""Proof verifiers (RFC 9162 §2.1.3.2 and §2.1.4.2). They return nothing or raise.

A boolean result can be ignored by mistake; an exception cannot. Check proofs only against a
root taken from a verified checkpoint, never one that came with the proof.
"""

from __future__ import annotations

import hmac
from collections.abc import Sequence

from corpact.errors import CorpactError
from corpact.journal.hashing import HASH_SIZE, node_hash


class VerificationError(CorpactError):
    """Something the journal, a receipt or a checkpoint claims does not hold."""


class ProofError(VerificationError):
    """An inclusion or consistency proof does not verify."""


class IndexOutOfRange(ProofError):
    pass


class BadTreeSizes(ProofError):
    pass


class BadHashLength(ProofError):
    pass


class ProofTooLong(ProofError):
    pass


class ProofTooShort(ProofError):
    pass


class RootMismatch(ProofError):
    pass


def _require_hash_lengths(path: Sequence[bytes]) -> None:
    for position, element in enumerate(path):
        if len(element) != HASH_SIZE:
            raise BadHashLength(f"proof element {position} has {len(element)} bytes, not 32")


def root_from_inclusion_proof(
    index: int, size: int, leaf_hash: bytes, path: Sequence[bytes]
) -> bytes:
    """The root that `path` implies for leaf `index` of a tree of `size` leaves."""
    if len(leaf_hash) != HASH_SIZE:
        raise BadHashLength(f"leaf hash has {len(leaf_hash)} bytes, not 32")
    _require_hash_lengths(path)
    if index < 0 or index >= size:
        raise IndexOutOfRange(f"leaf index {index} is not below tree size {size}")
    fn, sn, result = index, size - 1, leaf_hash
    for element in path:
        if sn == 0:
            raise ProofTooLong(f"inclusion proof has more than the {len(path) - 1} elements needed")
        if fn & 1 or fn == sn:
            result = node_hash(element, result)
            while fn != 0 and not fn & 1:
                fn, sn = fn >> 1, sn >> 1
        else:
            result = node_hash(result, element)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ProofTooShort("inclusion proof is missing elements")
    return result


def verify_inclusion(
    index: int, size: int, leaf_hash: bytes, path: Sequence[bytes], root: bytes
) -> None:
    """Raise `ProofError` unless `path` proves leaf `index` is in the tree with `root`."""
    computed = root_from_inclusion_proof(index, size, leaf_hash, path)
    if not hmac.compare_digest(computed, root):
        raise RootMismatch(f"inclusion proof for leaf {index} does not lead to the trusted root")


def verify_consistency(
    first: int, second: int, first_root: bytes, second_root: bytes, path: Sequence[bytes]
) -> None:
    """Raise `ProofError` unless `path` proves the tree of size `second` extends `first`."""
    if first < 0 or first > second:
        raise BadTreeSizes(f"tree size {second} is smaller than {first}: a log never shrinks")
    if first == 0:
        raise BadTreeSizes("a consistency proof from the empty tree is meaningless")
    if first == second:
        if path:
            raise ProofTooLong("equal tree sizes need an empty consistency proof")
        if not hmac.compare_digest(first_root, second_root):
            raise RootMismatch(f"two different roots for the same tree size {first}")
        return
    _require_hash_lengths(path)
    if not path:
        raise ProofTooShort("empty consistency proof between different tree sizes")
    elements = list(path)
    if first & (first - 1) == 0:
        elements.insert(0, first_root)
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    first_result = second_result = elements[0]
    for element in elements[1:]:
        if sn == 0:
            raise ProofTooLong("consistency proof has trailing elements")
        if fn & 1 or fn == sn:
            first_result = node_hash(element, first_result)
            second_result = node_hash(element, second_result)
            while fn != 0 and not fn & 1:
                fn, sn = fn >> 1, sn >> 1
        else:
            second_result = node_hash(second_result, element)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ProofTooShort("consistency proof is missing elements")
    if not hmac.compare_digest(first_result, first_root):
        raise RootMismatch(f"consistency proof does not lead to the trusted root of size {first}")
    if not hmac.compare_digest(second_result, second_root):
        raise RootMismatch(f"consistency proof does not lead to the trusted root of size {second}")
