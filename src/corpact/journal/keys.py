"""Ed25519 keys in the golang.org/x/mod/sumdb/note text format (signed-note, C2SP).

Signer key:   PRIVATE+KEY+<name>+<key ID, 8 hex digits>+<base64(0x01 || 32-byte seed)>
Verifier key: <name>+<key ID, 8 hex digits>+<base64(0x01 || 32-byte public key)>
Key ID = first 4 bytes of SHA-256(name || 0x0A || 0x01 || public key).
The private key lives in a file the operator keeps; never in the database.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)

from corpact.errors import InputError
from corpact.journal.verify import VerificationError

ALGORITHM_ED25519 = 0x01
SIGNING_KEY_ENV = "CORPACT_SIGNING_KEY_FILE"


class SignatureError(VerificationError):
    """A signature from a known key does not verify."""


def valid_key_name(name: str) -> bool:
    return bool(name) and "+" not in name and not any(c.isspace() for c in name)


def key_id(name: str, public_key: bytes) -> bytes:
    return hashlib.sha256(name.encode() + b"\n" + bytes([ALGORITHM_ED25519]) + public_key).digest()[
        :4
    ]


def _bad_key(message: str, source: str | None) -> InputError:
    return InputError.single("key-format", message, source=source)


def _decode_key_parts(name: str, id_hex: str, b64: str, source: str | None) -> tuple[bytes, bytes]:
    if not valid_key_name(name):
        raise _bad_key(f"invalid key name {name!r} (no '+', no spaces, not empty)", source)
    try:
        raw = base64.b64decode(b64, validate=True)
        wanted_id = bytes.fromhex(id_hex) if len(id_hex) == 8 else b""
    except (binascii.Error, ValueError):
        raise _bad_key("key is not valid base64 / hex", source) from None
    if len(wanted_id) != 4:
        raise _bad_key("key ID must be 8 hex digits", source)
    if len(raw) != 33 or raw[0] != ALGORITHM_ED25519:
        raise _bad_key("key must be 0x01 (Ed25519) followed by 32 bytes", source)
    return wanted_id, raw[1:]


@dataclass(frozen=True, slots=True)
class Verifier:
    name: str
    key_id: bytes
    public_key: bytes

    @classmethod
    def from_text(cls, text: str, *, source: str | None = None) -> Verifier:
        parts = text.strip().split("+", 2)
        if len(parts) != 3:
            raise _bad_key("a verifier key reads <name>+<key ID>+<base64>", source)
        wanted_id, public_key = _decode_key_parts(parts[0], parts[1], parts[2], source)
        if key_id(parts[0], public_key) != wanted_id:
            raise _bad_key("key ID does not match the name and public key", source)
        return cls(parts[0], wanted_id, public_key)

    @classmethod
    def from_file(cls, path: Path) -> Verifier:
        return cls.from_text(_read_key_file(path), source=str(path))

    def to_text(self) -> str:
        encoded = base64.b64encode(bytes([ALGORITHM_ED25519]) + self.public_key).decode()
        return f"{self.name}+{self.key_id.hex()}+{encoded}"

    def verify(self, signature: bytes, message: bytes) -> None:
        """Raise `SignatureError` unless `signature` is this key's signature of `message`."""
        try:
            Ed25519PublicKey.from_public_bytes(self.public_key).verify(signature, message)
        except InvalidSignature:
            raise SignatureError(f"signature by key {self.name!r} does not verify") from None


@dataclass(frozen=True, slots=True)
class Signer:
    name: str
    seed: bytes

    @classmethod
    def generate(cls, name: str) -> Signer:
        if not valid_key_name(name):
            raise _bad_key(f"invalid key name {name!r} (no '+', no spaces, not empty)", None)
        raw = Ed25519PrivateKey.generate().private_bytes(
            Encoding.Raw, PrivateFormat.Raw, NoEncryption()
        )
        return cls(name, raw)

    @classmethod
    def from_text(cls, text: str, *, source: str | None = None) -> Signer:
        parts = text.strip().split("+", 4)
        if len(parts) != 5 or parts[:2] != ["PRIVATE", "KEY"]:
            raise _bad_key("a signer key reads PRIVATE+KEY+<name>+<key ID>+<base64>", source)
        wanted_id, seed = _decode_key_parts(parts[2], parts[3], parts[4], source)
        signer = cls(parts[2], seed)
        if signer.key_id != wanted_id:
            raise _bad_key("key ID does not match the name and key", source)
        return signer

    @classmethod
    def from_file(cls, path: Path) -> Signer:
        return cls.from_text(_read_key_file(path), source=str(path))

    @classmethod
    def from_env(cls) -> Signer | None:
        path = os.environ.get(SIGNING_KEY_ENV)
        return cls.from_file(Path(path)) if path else None

    @property
    def public_key(self) -> bytes:
        private = Ed25519PrivateKey.from_private_bytes(self.seed)
        return private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)

    @property
    def key_id(self) -> bytes:
        return key_id(self.name, self.public_key)

    def verifier(self) -> Verifier:
        return Verifier(self.name, self.key_id, self.public_key)

    def to_text(self) -> str:
        encoded = base64.b64encode(bytes([ALGORITHM_ED25519]) + self.seed).decode()
        return f"PRIVATE+KEY+{self.name}+{self.key_id.hex()}+{encoded}"

    def sign(self, message: bytes) -> bytes:
        return Ed25519PrivateKey.from_private_bytes(self.seed).sign(message)


def _read_key_file(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise InputError.single(
            "key-file", f"cannot read key file: {err}", source=str(path)
        ) from None


def key_file_stem(name: str) -> str:
    """Key names are often origins such as `example.com/log`; keep file names flat."""
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name)


def save_keypair(signer: Signer, directory: Path) -> tuple[Path, Path]:
    """Write `<stem>.key` (private, mode 0600) and `<stem>.pub`; refuse to overwrite."""
    directory.mkdir(parents=True, exist_ok=True)
    stem = key_file_stem(signer.name)
    private_path = directory / f"{stem}.key"
    public_path = directory / f"{stem}.pub"
    for path in (private_path, public_path):
        if path.exists():
            raise InputError.single("key-exists", "refusing to overwrite a key", source=str(path))
    descriptor = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(signer.to_text() + "\n")
    public_path.write_text(signer.verifier().to_text() + "\n", encoding="utf-8")
    return private_path, public_path
