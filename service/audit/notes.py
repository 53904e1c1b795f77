"""C2SP signed notes (c2sp.org/signed-note) carrying tlog checkpoints (c2sp.org/tlog-checkpoint).

A checkpoint's note text is three lines: origin, tree size, base64 root hash. It is signed
with Ed25519 (signature type 0x01): the signature line is `— <key name> base64(key ID ||
signature)`, key ID = SHA-256(name || 0x0A || 0x01 || public key)[:4]. The key name is
the origin. Locally the key is a PEM file; on AWS it is a KMS ECC_NIST_EDWARDS25519 key
(algorithm ED25519_SHA_512, message type RAW: pure Ed25519, the same signature bytes).
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from service.audit.merkle import HASH_SIZE

ED25519_TYPE = 0x01
SIGNATURE_PREFIX = "\u2014 "  # em dash, space


class NoteError(ValueError):
    """A malformed note, or one no trusted key signed."""


def key_id(name: str, public_key: bytes) -> bytes:
    return hashlib.sha256(name.encode() + b"\n" + bytes([ED25519_TYPE]) + public_key).digest()[:4]


def verifier_key(name: str, public_key: bytes) -> str:
    """The note verifier key string: name+hex(key ID)+base64(0x01 || public key)."""
    encoded = base64.b64encode(bytes([ED25519_TYPE]) + public_key).decode()
    return f"{name}+{key_id(name, public_key).hex()}+{encoded}"


def raw_public_key(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


class Signer(Protocol):
    name: str

    def public_key(self) -> bytes: ...

    def sign(self, message: bytes) -> bytes: ...


class FileSigner:
    """Ed25519 private key from a PEM (PKCS#8) file."""

    def __init__(self, name: str, pem_path: Path) -> None:
        key = serialization.load_pem_private_key(pem_path.read_bytes(), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise NoteError(f"{pem_path} is not an Ed25519 private key")
        self.name = name
        self._key = key

    def public_key(self) -> bytes:
        return raw_public_key(self._key.public_key())

    def sign(self, message: bytes) -> bytes:
        return self._key.sign(message)


class KmsSigner:
    """An AWS KMS asymmetric key (ECC_NIST_EDWARDS25519): the private key never leaves KMS."""

    def __init__(self, name: str, client: Any, key_id: str) -> None:
        self.name = name
        self._client = client
        self._key_id = key_id
        self._public: bytes | None = None

    def public_key(self) -> bytes:
        if self._public is None:
            der = self._client.get_public_key(KeyId=self._key_id)["PublicKey"]
            key = serialization.load_der_public_key(der)
            if not isinstance(key, Ed25519PublicKey):
                raise NoteError(f"KMS key {self._key_id} is not an Ed25519 key")
            self._public = raw_public_key(key)
        return self._public

    def sign(self, message: bytes) -> bytes:
        response = self._client.sign(
            KeyId=self._key_id, Message=message, MessageType="RAW",
            SigningAlgorithm="ED25519_SHA_512",
        )
        return bytes(response["Signature"])


def sign_note(text: str, signer: Signer) -> str:
    if not text.endswith("\n"):
        raise NoteError("note text must end with a newline")
    signature = signer.sign(text.encode())
    blob = key_id(signer.name, signer.public_key()) + signature
    return f"{text}\n{SIGNATURE_PREFIX}{signer.name} {base64.b64encode(blob).decode()}\n"


@dataclass(frozen=True)
class Verifier:
    name: str
    public_key: bytes

    @classmethod
    def from_pem(cls, name: str, pem: bytes) -> Verifier:
        key = serialization.load_pem_public_key(pem)
        if not isinstance(key, Ed25519PublicKey):
            raise NoteError("the public key is not Ed25519")
        return cls(name, raw_public_key(key))

    @classmethod
    def from_vkey(cls, vkey: str) -> Verifier:
        try:
            name, hex_id, encoded = vkey.split("+")
            blob = base64.b64decode(encoded, validate=True)
        except ValueError as error:
            raise NoteError(f"malformed verifier key: {error}") from None
        if len(blob) != 33 or blob[0] != ED25519_TYPE:
            raise NoteError("verifier key is not an Ed25519 key")
        verifier = cls(name, blob[1:])
        if key_id(name, verifier.public_key).hex() != hex_id:
            raise NoteError("verifier key ID does not match its key")
        return verifier


def open_note(note: str, verifier: Verifier) -> str:
    """The note's text if `verifier` signed it; NoteError otherwise."""
    if any(ord(c) < 0x20 and c != "\n" for c in note):
        raise NoteError("note contains control characters")
    split = note.rfind("\n\n")
    if split < 0 or not note.endswith("\n"):
        raise NoteError("malformed note: no signature block")
    text, signatures = note[: split + 1], note[split + 2 :]
    wanted_id = key_id(verifier.name, verifier.public_key)
    public = Ed25519PublicKey.from_public_bytes(verifier.public_key)
    verified = False
    for line in signatures.splitlines():
        if not line.startswith(SIGNATURE_PREFIX):
            raise NoteError(f"malformed signature line {line!r}")
        name, _, encoded = line[len(SIGNATURE_PREFIX):].rpartition(" ")
        try:
            blob = base64.b64decode(encoded, validate=True)
        except ValueError:
            raise NoteError(f"malformed signature for {name}") from None
        if name != verifier.name or blob[:4] != wanted_id:
            continue  # an unknown key (a witness, a rotated key): ignored, as the spec says
        try:
            public.verify(blob[4:], text.encode())
        except InvalidSignature:
            raise NoteError(f"invalid signature for key {name}") from None
        verified = True
    if not verified:
        raise NoteError(f"no signature by {verifier.name} on the note")
    return text


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    tree_size: int
    root_hash: bytes

    def text(self) -> str:
        return f"{self.origin}\n{self.tree_size}\n{base64.b64encode(self.root_hash).decode()}\n"

    @classmethod
    def parse(cls, text: str) -> Checkpoint:
        lines = text.split("\n")
        if len(lines) < 4 or lines[-1] != "" or not all(lines[:-1]):
            raise NoteError("a checkpoint has origin, size and root lines")
        origin, size_text, root_text = lines[0], lines[1], lines[2]
        if not size_text.isdigit() or (size_text.startswith("0") and size_text != "0"):
            raise NoteError(f"malformed tree size {size_text!r}")
        root = base64.b64decode(root_text, validate=True)
        if len(root) != HASH_SIZE:
            raise NoteError("root hash is not 32 bytes")
        return cls(origin, int(size_text), root)


def sign_checkpoint(checkpoint: Checkpoint, signer: Signer) -> str:
    return sign_note(checkpoint.text(), signer)


def open_checkpoint(note: str, verifier: Verifier, origin: str) -> Checkpoint:
    checkpoint = Checkpoint.parse(open_note(note, verifier))
    if checkpoint.origin != origin:
        raise NoteError(f"checkpoint of another log: {checkpoint.origin!r}")
    return checkpoint
