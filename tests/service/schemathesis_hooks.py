"""Schemathesis hooks (loaded through SCHEMATHESIS_HOOKS): the order API's custom formats.

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


ISIN_SHAPE = re.compile(r"[A-Z]{2}[A-Z0-9]{9}[0-9]", re.ASCII)


@schemathesis.hook
def before_call(context: Any, case: Any, kwargs: dict[str, Any]) -> None:
    """Every phase (the coverage phase builds values from patterns alone) sends orders
    that satisfy the two rules a schema cannot express: the account is one the token lists
    (else every valid order is a 403) and the ISIN's check digit is right. Values that
    break the documented shape are left alone, so negative testing keeps its teeth; the
    check-digit rule itself is tested in tests/service/test_bad_input.py."""
    body = case.body
    if not isinstance(body, dict):
        return
    account, instrument = body.get("account_id"), body.get("instrument")
    if isinstance(account, str) and ACCOUNT_PATTERN.fullmatch(account):
        body["account_id"] = ACCOUNT
    if isinstance(instrument, str) and ISIN_SHAPE.fullmatch(instrument):
        body["instrument"] = _with_check_digit(instrument[:-1])
