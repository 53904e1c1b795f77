#!/usr/bin/env python3
"""Verify an order's audit proof bundle with no database and no service code.

Needs only Python 3.11+ and the `cryptography` package. Inputs: the bundle written by
`python -m service audit prove ORDER_ID`, the log's public key (PEM), and optionally a
checkpoint note obtained independently (for example from the Object Lock bucket); without
one the checkpoint embedded in the bundle is used, after checking its signature.

    python auditor/verify_bundle.py bundle.json --public-key audit.pub.pem \
        [--checkpoint checkpoint.note] [--origin orders.example/audit-log]

Checks: the checkpoint is a C2SP tlog-checkpoint signed (Ed25519 signed note) by the key;
every event's leaf bytes hash (RFC 9162: SHA-256(0x00 || bytes)) to a leaf whose inclusion
proof leads to the checkpoint's root; every event belongs to the bundle's order.
Exit 0 verified, 1 a check failed, 2 unusable input.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import sys
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

BUNDLE_FORMAT = "orders-audit-bundle/1"


class Failed(Exception):
    pass


def _sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def open_checkpoint(note: str, public_key: Ed25519PublicKey, origin: str) -> tuple[int, bytes]:
    """(tree size, root) of a checkpoint note signed by `public_key` under `origin`."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    key_id = _sha256(origin.encode() + b"\n\x01" + raw)[:4]
    split = note.rfind("\n\n")
    if split < 0 or not note.endswith("\n"):
        raise Failed("the checkpoint is not a signed note")
    text, signatures = note[: split + 1], note[split + 2 :]
    verified = False
    for line in signatures.splitlines():
        if not line.startswith("\u2014 "):
            raise Failed(f"malformed signature line {line!r}")
        name, _, encoded = line[2:].rpartition(" ")
        blob = base64.b64decode(encoded, validate=True)
        if name != origin or blob[:4] != key_id:
            continue  # somebody else's signature (a witness): not ours to judge
        try:
            public_key.verify(blob[4:], text.encode())
        except InvalidSignature:
            raise Failed("the checkpoint's signature is invalid") from None
        verified = True
    if not verified:
        raise Failed(f"the checkpoint carries no signature by {origin} with this key")
    lines = text.split("\n")
    if len(lines) < 4 or lines[0] != origin or not lines[1].isdigit():
        raise Failed("the signed text is not a checkpoint of this log")
    return int(lines[1]), base64.b64decode(lines[2], validate=True)


def root_from_inclusion(index: int, size: int, leaf: bytes, proof: list[bytes]) -> bytes:
    """RFC 9162 section 2.1.3.2."""
    if not 0 <= index < size:
        raise Failed(f"leaf index {index} is outside a tree of {size}")
    fn, sn, node = index, size - 1, leaf
    for sibling in proof:
        if sn == 0:
            raise Failed("inclusion proof too long")
        if fn & 1 or fn == sn:
            node = _sha256(b"\x01" + sibling + node)
            while fn and not fn & 1:
                fn, sn = fn >> 1, sn >> 1
        else:
            node = _sha256(b"\x01" + node + sibling)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise Failed("inclusion proof too short")
    return node


def verify(
    bundle: dict[str, Any], note: str, public_key: Ed25519PublicKey, origin: str
) -> list[str]:
    if bundle.get("format") != BUNDLE_FORMAT:
        raise Failed(f"not a {BUNDLE_FORMAT} bundle")
    size, root = open_checkpoint(note, public_key, origin)
    if bundle["checkpoint"]["tree_size"] != size:
        raise Failed(f"the bundle proves against tree size {bundle['checkpoint']['tree_size']},"
                     f" the checkpoint has size {size}: ask for a bundle at that checkpoint")
    lines = []
    for entry in bundle["events"]:
        data = base64.b64decode(entry["leaf_data"], validate=True)
        event = json.loads(data)
        if event.get("order_id") != bundle["order_id"]:
            raise Failed(f"leaf {entry['leaf_index']} belongs to another order")
        proof = [base64.b64decode(p, validate=True) for p in entry["inclusion_proof"]]
        leaf = _sha256(b"\x00" + data)
        if root_from_inclusion(entry["leaf_index"], size, leaf, proof) != root:
            raise Failed(f"leaf {entry['leaf_index']} is not in the tree of the checkpoint")
        lines.append(f"  leaf {entry['leaf_index']}: {event['occurred_at']} {event['event_type']}"
                     f" {event.get('from_status')} -> {event['to_status']} by {event['actor']}")
    if not lines:
        raise Failed("the bundle proves no event")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("bundle", type=Path)
    parser.add_argument("--public-key", type=Path, required=True, help="Ed25519 PEM public key")
    parser.add_argument("--checkpoint", type=Path, help="a signed checkpoint note (file)")
    parser.add_argument("--origin", help="the log's origin (default: the bundle's)")
    args = parser.parse_args(argv)
    try:
        bundle = json.loads(args.bundle.read_text())
        key = serialization.load_pem_public_key(args.public_key.read_bytes())
        if not isinstance(key, Ed25519PublicKey):
            raise ValueError("the public key is not Ed25519")
        note = args.checkpoint.read_text() if args.checkpoint else bundle["checkpoint"]["note"]
        origin = args.origin or bundle["origin"]
    except (OSError, ValueError, KeyError) as error:
        print(f"unusable input: {error}", file=sys.stderr)
        return 2
    try:
        lines = verify(bundle, note, key, origin)
    except (Failed, ValueError, KeyError) as error:
        print(f"NOT VERIFIED: {error}")
        return 1
    print(f"verified: {len(lines)} events of order {bundle['order_id']} are in {origin}"
          f" at tree size {bundle['checkpoint']['tree_size']}")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
