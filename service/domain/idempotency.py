"""Idempotency keys: how a (principal, key) pair is scoped and how a request is fingerprinted."""

from __future__ import annotations

import hashlib
import json
from typing import Any


def scoped_key(principal: str, key: str) -> str:
    """One string per (principal, key) pair that no other pair maps to.

    Both parts may contain ':', so joining them with a separator is ambiguous
    (`svc` + `batch:K` and `svc:batch` + `K`). Prefixing the principal's length makes the
    split point explicit, so the encoding is injective.
    """
    return f"{len(principal)}:{principal}:{key}"


def body_fingerprint(document: Any) -> str:
    """SHA-256 over the canonical JSON of the body as sent (RFC 8785 for string-valued
    objects: sorted keys, no insignificant whitespace, UTF-8, minimal escapes).

    Computed from the decoded body, never from the parsed request struct: a new optional
    field in the schema must not change the fingerprint of a body that does not use it,
    or every retry across a deploy would be refused as "key reused with another body".
    """
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()
