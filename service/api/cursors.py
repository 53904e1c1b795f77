"""Signed keyset cursors: opaque to clients, and a tampered or odd one is a 400."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import uuid
from datetime import UTC, datetime

from service.api.problems import Problem

MAC_BYTES = 16
TOKEN_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,512}", re.ASCII)


def _b64encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def invalid_cursor() -> Problem:
    return Problem(
        400, "invalid-cursor", "Invalid cursor",
        "cursor must be a next_cursor value returned by this endpoint",
    )


class CursorCodec:
    """`<payload>.<mac>`, base64url; the MAC (HMAC-SHA256, truncated to 128 bits) is keyed
    by a key derived from the service secret, so only cursors we issued are accepted."""

    def __init__(self, secret: str) -> None:
        self._key = hmac.new(secret.encode(), b"orders-list-cursor-v1", hashlib.sha256).digest()

    def _mac(self, payload: bytes) -> bytes:
        return hmac.new(self._key, payload, hashlib.sha256).digest()[:MAC_BYTES]

    def encode(self, position: tuple[datetime, uuid.UUID]) -> str:
        payload = f"{position[0].astimezone(UTC).isoformat()}|{position[1]}".encode()
        return f"{_b64encode(payload)}.{_b64encode(self._mac(payload))}"

    def decode(self, cursor: str) -> tuple[datetime, uuid.UUID]:
        payload_text, _, mac_text = cursor.partition(".")
        if not (TOKEN_PATTERN.fullmatch(payload_text) and TOKEN_PATTERN.fullmatch(mac_text)):
            raise invalid_cursor()
        try:
            payload, mac = _b64decode(payload_text), _b64decode(mac_text)
        except ValueError:
            raise invalid_cursor() from None
        # Only the canonical encoding: base64 padding bits could otherwise be flipped.
        canonical = _b64encode(payload) == payload_text and _b64encode(mac) == mac_text
        if not canonical or not hmac.compare_digest(mac, self._mac(payload)):
            raise invalid_cursor()
        return parse_position(payload)


def parse_position(payload: bytes) -> tuple[datetime, uuid.UUID]:
    """A UTC timestamp and an order id; anything else (even signed) is refused."""
    try:
        stamp, _, ident = payload.decode("ascii").partition("|")
        moment = datetime.fromisoformat(stamp)
        if moment.tzinfo is None:
            raise ValueError("no timezone")
        return moment.astimezone(UTC), uuid.UUID(ident)
    except (ValueError, OverflowError):
        raise invalid_cursor() from None
