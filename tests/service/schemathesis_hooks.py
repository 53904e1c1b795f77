"""Schemathesis hooks (loaded through SCHEMATHESIS_HOOKS) for the order API's custom formats.

The document marks ISINs (`format: isin`) and positive decimals (`format: positive-decimal`)
because a pattern cannot express a check digit or "greater than zero"; these strategies
generate values the API must accept, so positive_data_acceptance tests real rules.
"""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime
from typing import Any

import schemathesis
from hypothesis import strategies as st

from service.api.cursors import CursorCodec
from service.domain.validation import ACCOUNT_PATTERN, isin_check_digit_ok

ACCOUNT = "ACC-1"  # the one account the fuzzer's token lists

ISIN_BODY = st.tuples(
    st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=2, max_size=2),
    st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", min_size=9, max_size=9),
).map("".join)


def _with_check_digit(body: str) -> str:
    return next(body + d for d in "0123456789" if isin_check_digit_ok(body + d))


POSITIVE_DECIMAL = st.builds(
    lambda whole, fraction: f"{whole}.{fraction}".rstrip(".") if fraction else str(whole),
    st.integers(min_value=1, max_value=10**18 - 1),
    st.one_of(st.just(""), st.from_regex(re.compile(r"[0-9]{1,8}", re.ASCII), fullmatch=True)),
)

# Cursors are signed; a valid one is any position signed with the service's secret.
CURSOR = st.builds(
    lambda moment, ident: CursorCodec(os.environ["ORDERS_JWT_SECRET"]).encode((moment, ident)),
    st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1),
                 timezones=st.just(UTC)),
    st.uuids(),
)

schemathesis.openapi.format("isin", ISIN_BODY.map(_with_check_digit))
schemathesis.openapi.format("cursor", CURSOR)
schemathesis.openapi.format("positive-decimal", POSITIVE_DECIMAL)


@schemathesis.hook
def map_body(context: Any, body: Any) -> Any:
    """Orders for a well-formed account go to the token's account (else every valid order
    would be a 403); malformed account ids stay malformed for negative testing."""
    if isinstance(body, dict) and isinstance(body.get("account_id"), str) and (
        ACCOUNT_PATTERN.fullmatch(body["account_id"])
    ):
        return {**body, "account_id": ACCOUNT}
    return body
