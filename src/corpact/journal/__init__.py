"""The journal kernel: RFC 6962 Merkle log, proofs, signed checkpoints, canonical leaves.

Pure functions and values only; storage lives in `corpact.store`.
"""

from corpact.journal.checkpoint import (
    Checkpoint,
    CheckpointError,
    parse_checkpoint_text,
    sign_checkpoint,
    verify_checkpoint,
)
from corpact.journal.events import (
    Guard,
    JsonValue,
    NewEvent,
    Receipt,
    StoredEvent,
    decode_leaf,
    encode_event,
)
from corpact.journal.hashing import EMPTY_ROOT, leaf_hash, node_hash
from corpact.journal.keys import SignatureError, Signer, Verifier
from corpact.journal.memory import MemoryTree
from corpact.journal.verify import (
    ProofError,
    VerificationError,
    verify_consistency,
    verify_inclusion,
)

__all__ = [
    "EMPTY_ROOT",
    "Checkpoint",
    "CheckpointError",
    "Guard",
    "JsonValue",
    "MemoryTree",
    "NewEvent",
    "ProofError",
    "Receipt",
    "SignatureError",
    "Signer",
    "StoredEvent",
    "VerificationError",
    "Verifier",
    "decode_leaf",
    "encode_event",
    "leaf_hash",
    "node_hash",
    "parse_checkpoint_text",
    "sign_checkpoint",
    "verify_checkpoint",
    "verify_consistency",
    "verify_inclusion",
]
