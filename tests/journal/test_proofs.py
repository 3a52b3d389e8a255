"""Oracle comparison with the RFC definitions, and mutation properties for the verifiers."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from corpact.errors import InvariantViolation
from corpact.journal.compact import range_nodes
from corpact.journal.hashing import leaf_hash
from corpact.journal.memory import MemoryTree
from corpact.journal.proofs import consistency_ranges, inclusion_ranges
from corpact.journal.verify import (
    BadTreeSizes,
    IndexOutOfRange,
    ProofError,
    verify_consistency,
    verify_inclusion,
)
from tests.journal import reference

LEAVES = [f"leaf-{i}".encode() for i in range(70)]
TREE = MemoryTree.from_leaf_data(LEAVES)


def test_every_proof_up_to_70_leaves_equals_the_rfc_definition() -> None:
    for n in range(1, 71):
        root = reference.mth(LEAVES[:n])
        assert TREE.root(n) == root
        for m in range(n):
            path = TREE.inclusion_proof(m, n)
            assert path == reference.path(m, LEAVES[:n])
            verify_inclusion(m, n, leaf_hash(LEAVES[m]), path, root)
        for m in range(1, n + 1):
            proof = TREE.consistency_proof(m, n)
            assert proof == reference.proof(m, LEAVES[:n])
            verify_consistency(m, n, reference.mth(LEAVES[:m]), root, proof)


def test_at_most_one_ephemeral_node_per_proof() -> None:
    for n in range(1, 71):
        for m in range(n):
            ranges = inclusion_ranges(m, n)
            assert sum(len(range_nodes(a, b)) > 1 for a, b in ranges) <= 1
        for m in range(1, n + 1):
            ranges = consistency_ranges(m, n)
            assert sum(len(range_nodes(a, b)) > 1 for a, b in ranges) <= 1


def test_generation_refuses_impossible_requests() -> None:
    with pytest.raises(InvariantViolation):
        inclusion_ranges(5, 5)
    with pytest.raises(InvariantViolation):
        consistency_ranges(0, 3)


def test_empty_tree_edge_cases() -> None:
    with pytest.raises(BadTreeSizes):
        verify_consistency(0, 0, TREE.root(0), TREE.root(0), [])
    with pytest.raises(IndexOutOfRange):
        verify_inclusion(0, 0, leaf_hash(b""), [], TREE.root(0))


def _flip(blob: bytes, position: int) -> bytes:
    position %= len(blob)
    return blob[:position] + bytes([blob[position] ^ 0x01]) + blob[position + 1 :]


sizes = st.integers(min_value=1, max_value=70).flatmap(
    lambda n: st.tuples(st.integers(min_value=0, max_value=n - 1), st.just(n))
)
mutations = st.sampled_from(["flip", "index", "size", "add", "drop", "leaf"])


@given(sizes, mutations, st.integers(min_value=0, max_value=10_000))
def test_mutated_inclusion_proofs_are_rejected(
    pair: tuple[int, int], mutation: str, salt: int
) -> None:
    m, n = pair
    path, leaf, root = TREE.inclusion_proof(m, n), leaf_hash(LEAVES[m]), TREE.root(n)
    index, size = m, n
    if mutation == "flip" and path:
        path[salt % len(path)] = _flip(path[salt % len(path)], salt)
    elif mutation == "index":
        index = (m + 1 + salt % n) % (n + 1) if n > 1 else 1
    elif mutation == "size":
        # Another size claims another tree: pair it with that tree's root.
        size = 1 + (n + salt % 69) % 70
        root = TREE.root(size)
    elif mutation == "add":
        path.insert(salt % (len(path) + 1), leaf_hash(b"extra"))
    elif mutation == "drop" and path:
        del path[salt % len(path)]
    else:
        leaf = _flip(leaf, salt)
    if (
        (index, size) == (m, n)
        and path == TREE.inclusion_proof(m, n)
        and leaf == leaf_hash(LEAVES[m])
    ):
        return  # the mutation did not apply (empty path)
    with pytest.raises(ProofError):
        verify_inclusion(index, size, leaf, path, root)


consistency_pairs = st.integers(min_value=2, max_value=70).flatmap(
    lambda n: st.tuples(st.integers(min_value=1, max_value=n - 1), st.just(n))
)


@given(consistency_pairs, mutations, st.integers(min_value=0, max_value=10_000))
def test_mutated_consistency_proofs_are_rejected(
    pair: tuple[int, int], mutation: str, salt: int
) -> None:
    m, n = pair
    proof = TREE.consistency_proof(m, n)
    first, second, root1, root2 = m, n, TREE.root(m), TREE.root(n)
    if mutation == "flip":
        proof[salt % len(proof)] = _flip(proof[salt % len(proof)], salt)
    elif mutation == "index":
        first = 1 + (m + salt % (n - 1)) % (n - 1)
        first = first if first != m else n
        root1 = TREE.root(first)
    elif mutation == "size":
        second = 1 + (n + salt % 69) % 70
        root2 = TREE.root(second)
    elif mutation == "add":
        proof.insert(salt % (len(proof) + 1), leaf_hash(b"extra"))
    elif mutation == "drop":
        del proof[salt % len(proof)]
    else:
        root1 = _flip(root1, salt)
    with pytest.raises(ProofError):
        verify_consistency(first, second, root1, root2, proof)
