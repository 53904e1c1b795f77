"""C2SP signed notes and tlog checkpoints, against the spec's example and Go's sumdb/note."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from service.audit import notes
from service.audit.checkpoints import CheckpointConflict, LocalCheckpointStore

# golang.org/x/mod/sumdb/note note_test.go: a signer key (0x01 || 32-byte seed), its
# verifier key, the text and the exact signed output.
GO_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
GO_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_TEXT = ("If you think cryptography is the answer to your problem,\n"
           "then you don't know what your problem is.\n")
GO_SIGNATURE = ("\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZ"
                "SNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n")
GO_ENOCH_SIGNATURE = ("\u2014 EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGr"
                      "Q5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n")
# c2sp.org/signed-note, "Example".
C2SP_VKEY = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"
C2SP_NOTE = ("This is an example message.\n\n\u2014 example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1Y"
             "Eq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n")


class SeedSigner:
    def __init__(self, name: str, seed: bytes) -> None:
        self.name = name
        self._key = Ed25519PrivateKey.from_private_bytes(seed)

    def public_key(self) -> bytes:
        return notes.raw_public_key(self._key.public_key())

    def sign(self, message: bytes) -> bytes:
        return self._key.sign(message)


def go_signer() -> SeedSigner:
    _, _, name, _, encoded = GO_SKEY.split("+", 4)
    return SeedSigner(name, base64.b64decode(encoded)[1:])


def test_signing_reproduces_go_sumdb_note_byte_for_byte() -> None:
    signer = go_signer()
    assert notes.key_id(signer.name, signer.public_key()).hex() == "c74f20a3"
    assert notes.verifier_key(signer.name, signer.public_key()) == GO_VKEY
    assert notes.sign_note(GO_TEXT, signer) == GO_TEXT + "\n" + GO_SIGNATURE


def test_open_ignores_unknown_keys_and_rejects_bad_signatures() -> None:
    verifier = notes.Verifier.from_vkey(GO_VKEY)
    assert notes.open_note(GO_TEXT + "\n" + GO_SIGNATURE + GO_ENOCH_SIGNATURE, verifier) == GO_TEXT
    with pytest.raises(notes.NoteError, match="no signature by"):
        notes.open_note(GO_TEXT + "\n" + GO_ENOCH_SIGNATURE, verifier)
    tampered = GO_TEXT.replace("cryptography", "cryptographY")
    with pytest.raises(notes.NoteError, match="invalid signature"):
        notes.open_note(tampered + "\n" + GO_SIGNATURE, verifier)
    for malformed in (GO_TEXT, GO_TEXT + "\n", "\x01" + GO_TEXT + "\n" + GO_SIGNATURE,
                      GO_TEXT + "\n" + GO_SIGNATURE + "Unexpected line.\n"):
        with pytest.raises(notes.NoteError):
            notes.open_note(malformed, verifier)


def test_the_c2sp_example_note_verifies() -> None:
    verifier = notes.Verifier.from_vkey(C2SP_VKEY)
    assert notes.open_note(C2SP_NOTE, verifier) == "This is an example message.\n"


def test_checkpoint_text_follows_tlog_checkpoint() -> None:
    signer = go_signer()
    root = bytes(range(32))
    checkpoint = notes.Checkpoint("example.com/log42", 20852163, root)
    assert checkpoint.text() == f"example.com/log42\n20852163\n{base64.b64encode(root).decode()}\n"
    signer.name = "example.com/log42"
    note = notes.sign_checkpoint(checkpoint, signer)
    verifier = notes.Verifier("example.com/log42", signer.public_key())
    assert notes.open_checkpoint(note, verifier, "example.com/log42") == checkpoint
    with pytest.raises(notes.NoteError, match="another log"):
        notes.open_checkpoint(note, verifier, "example.com/other")
    for bad in ("o\n01\nAAAA\n", "o\n1\n", "o\n-1\n" + base64.b64encode(root).decode() + "\n"):
        with pytest.raises((notes.NoteError, ValueError)):
            notes.Checkpoint.parse(bad)


def test_local_store_is_append_only_and_idempotent(tmp_path: Path) -> None:
    store = LocalCheckpointStore(tmp_path / "checkpoints")
    assert store.publish("00000000000000000001.x.note", b"one\n") is True
    assert store.publish("00000000000000000001.x.note", b"one\n") is False  # a retry
    with pytest.raises(CheckpointConflict):
        store.publish("00000000000000000001.x.note", b"forged\n")
    assert store.read("00000000000000000001.x.note") == b"one\n"
    assert store.names() == ["00000000000000000001.x.note"]
    assert (tmp_path / "checkpoints" / "00000000000000000001.x.note").stat().st_mode & 0o222 == 0


def test_keygen_writes_a_private_key_only_its_owner_reads(tmp_path: Path) -> None:
    from service.__main__ import main

    private, public = tmp_path / "k.pem", tmp_path / "k.pub.pem"
    args = ["audit", "keygen", "--private-key", str(private), "--public-key", str(public)]
    assert main(args) == 0
    assert private.stat().st_mode & 0o777 == 0o600
    signer = notes.FileSigner("example.com/log", private)
    verifier = notes.Verifier.from_pem("example.com/log", public.read_bytes())
    assert notes.open_note(notes.sign_note("hello\n", signer), verifier) == "hello\n"
    before = private.read_bytes()
    assert main(args) == 1  # never replaces an existing key
    assert private.read_bytes() == before
