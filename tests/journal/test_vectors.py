"""Known answers and the 196 upstream probes (transparency-dev/merkle testdata)."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from corpact.journal.compact import CompactRange, range_nodes
from corpact.journal.hashing import EMPTY_ROOT, leaf_hash, node_hash
from corpact.journal.memory import MemoryTree
from corpact.journal.verify import ProofError, verify_consistency, verify_inclusion

DATA = Path(__file__).parent / "data"
KNOWN = json.loads((DATA / "rfc6962-known-answers.json").read_text())
LEAVES = [bytes.fromhex(h) for h in KNOWN["tree"]["leaf_inputs"]]
PROBES = sorted(
    p.relative_to(DATA).as_posix()
    for folder in ("inclusion", "consistency")
    for p in (DATA / folder).rglob("*.json")
)


def _b64(value: str) -> bytes:
    return base64.b64decode(value)


def test_all_196_probe_files_are_present() -> None:
    assert len(PROBES) == 196


@pytest.mark.parametrize("name", [h["name"] for h in KNOWN["hasher"]])
def test_hasher_known_answers(name: str) -> None:
    case = next(h for h in KNOWN["hasher"] if h["name"] == name)
    if case["function"] == "empty_root":
        got = EMPTY_ROOT
    elif case["function"] == "leaf_hash":
        got = leaf_hash(bytes.fromhex(case["data"]))
    else:
        got = node_hash(bytes.fromhex(case["left"]), bytes.fromhex(case["right"]))
    assert got.hex() == case["want"]


def test_must_differ_pairs() -> None:
    hello, world = leaf_hash(b"Hello"), leaf_hash(b"World")
    computed = [
        (EMPTY_ROOT, leaf_hash(b"")),
        (node_hash(hello, world), leaf_hash(hello + world)),
        (node_hash(hello, world), node_hash(world, hello)),
    ]
    for case, (a, b) in zip(KNOWN["must_differ"], computed, strict=True):
        assert (a.hex(), b.hex()) == (case["a"], case["b"])
        assert a != b


def test_perfect_nodes_roots_and_compact_ranges() -> None:
    tree = MemoryTree.from_leaf_data(LEAVES)
    want_levels = KNOWN["tree"]["perfect_nodes_by_level"]
    assert [[h.hex() for h in level] for level in tree.levels] == want_levels
    for size, want in enumerate(KNOWN["tree"]["root_by_size"]):
        assert tree.root(size).hex() == want
        edge = CompactRange()
        for data in LEAVES[:size]:
            edge.append(leaf_hash(data))
        assert edge.root().hex() == want
        want_range = KNOWN["tree"]["compact_range_by_size"][size]
        got = [(lv, ix, tree.node((lv, ix)).hex()) for lv, ix in range_nodes(0, size)]
        assert got == [(n["level"], n["index"], n["hash"]) for n in want_range]
        assert [h.hex() for h in edge.hashes] == [n["hash"] for n in want_range]


def test_generated_inclusion_proofs_match_all_36() -> None:
    tree = MemoryTree.from_leaf_data(LEAVES)
    assert len(KNOWN["inclusion_proofs"]) == 36
    for case in KNOWN["inclusion_proofs"]:
        got = tree.inclusion_proof(case["leaf_index"], case["tree_size"])
        assert [h.hex() for h in got] == case["path"]
        verify_inclusion(
            case["leaf_index"],
            case["tree_size"],
            bytes.fromhex(case["leaf_hash"]),
            got,
            bytes.fromhex(case["root"]),
        )


def test_generated_consistency_proofs_match_all_36() -> None:
    tree = MemoryTree.from_leaf_data(LEAVES)
    assert len(KNOWN["consistency_proofs"]) == 36
    for case in KNOWN["consistency_proofs"]:
        got = tree.consistency_proof(case["size1"], case["size2"])
        assert [h.hex() for h in got] == case["proof"]
        verify_consistency(
            case["size1"],
            case["size2"],
            bytes.fromhex(case["root1"]),
            bytes.fromhex(case["root2"]),
            got,
        )


def _run_probe(probe: dict[str, Any], kind: str) -> None:
    path = [_b64(p) for p in probe["proof"] or []]
    if kind == "inclusion":
        verify_inclusion(
            probe["leafIdx"], probe["treeSize"], _b64(probe["leafHash"]), path, _b64(probe["root"])
        )
    else:
        verify_consistency(
            probe["size1"], probe["size2"], _b64(probe["root1"]), _b64(probe["root2"]), path
        )


@pytest.mark.parametrize("relative", PROBES)
def test_upstream_probe(relative: str) -> None:
    probe = json.loads((DATA / relative).read_text())
    kind = relative.split("/", maxsplit=1)[0]
    if probe["wantErr"]:
        with pytest.raises(ProofError):
            _run_probe(probe, kind)
    else:
        _run_probe(probe, kind)
