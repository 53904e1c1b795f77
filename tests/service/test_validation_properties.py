"""Property-based tests (hypothesis) of the input rules, against oracles written apart."""

from __future__ import annotations

import json
import re
import string
import uuid
from datetime import UTC
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from service.api.cursors import CursorCodec
from service.api.openapi import DECIMAL
from service.api.problems import Problem
from service.domain.idempotency import body_fingerprint, scoped_key
from service.domain.validation import (
    ACCOUNT_PATTERN,
    CLIENT_ORDER_ID_PATTERN,
    FieldError,
    parse_positive_decimal,
    validate_isin,
    validate_pattern,
)

PROPERTY_SETTINGS = settings(
    max_examples=300, deadline=None, derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
# Characters that tempt a lax rule: Unicode digits, whitespace, signs and exponents.
TRICKY = "0123456789.\u0660\u0661\u0665\uff15\u06f9\n\r\t -+eE_"
decimal_like = st.one_of(
    st.text(alphabet=TRICKY, max_size=30),
    st.from_regex(re.compile(r"[0-9]{1,20}(\.[0-9]{1,10})?\n?", re.ASCII), fullmatch=True),
)


def decimal_oracle(text: str) -> bool:
    whole, dot, fraction = text.partition(".")
    ascii_digits = set(string.digits)
    if not whole or not set(whole) <= ascii_digits or len(whole) > 18:
        return False
    if dot and (not fraction or not set(fraction) <= ascii_digits or len(fraction) > 8):
        return False
    return Decimal(text) > 0


def accepts(rule: object, *args: object) -> bool:
    try:
        rule(*args)  # type: ignore[operator]
    except FieldError:
        return False
    return True


@PROPERTY_SETTINGS
@given(decimal_like)
@example("10\n")
@example("\u0661\u0660")
@example("0.00000001")
def test_decimal_rule_matches_the_oracle_and_the_documented_pattern(text: str) -> None:
    expected = decimal_oracle(text)
    assert accepts(parse_positive_decimal, "quantity", text) == expected
    assert (re.fullmatch(DECIMAL, text) is not None) == expected
    if expected:
        assert parse_positive_decimal("quantity", text) == Decimal(text)


def isin_oracle_check_digit(body: str) -> str:
    """ISO 6166 written independently: expand letters, Luhn from the right."""
    digits = "".join(str(ord(c) - 55) if c.isalpha() else c for c in body)
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char) * (2 if position % 2 == 0 else 1)
        total += value // 10 + value % 10
    return str((10 - total % 10) % 10)


isin_bodies = st.tuples(
    st.text(string.ascii_uppercase, min_size=2, max_size=2),
    st.text(string.ascii_uppercase + string.digits, min_size=9, max_size=9),
).map("".join)


@PROPERTY_SETTINGS
@given(isin_bodies, st.sampled_from(string.digits))
@example("US037833100", "5")
def test_isin_accepted_exactly_with_its_check_digit(body: str, digit: str) -> None:
    assert accepts(validate_isin, "instrument", body + digit) == (
        digit == isin_oracle_check_digit(body)
    )


@PROPERTY_SETTINGS
@given(st.text(alphabet=string.ascii_uppercase + string.digits + "\u0665\n ", max_size=14))
def test_isin_rule_never_fails_with_anything_but_a_field_error(text: str) -> None:
    if accepts(validate_isin, "instrument", text):
        assert re.fullmatch(r"[A-Z]{2}[A-Z0-9]{9}[0-9]", text, re.ASCII)
        assert text[-1] == isin_oracle_check_digit(text[:-1])


@pytest.mark.parametrize(
    ("pattern", "alphabet", "longest"),
    [(ACCOUNT_PATTERN, string.ascii_letters + string.digits + "_-", 64),
     (CLIENT_ORDER_ID_PATTERN, string.ascii_letters + string.digits + "._:-", 64)],
    ids=["account_id", "client_order_id"],
)
def test_identifier_patterns_are_ascii_and_full_match(
    pattern: re.Pattern[str], alphabet: str, longest: int
) -> None:
    @PROPERTY_SETTINGS
    @given(st.text(alphabet=alphabet + "\u0665\u00e9\n :/", max_size=longest + 2))
    def check(text: str) -> None:
        expected = 1 <= len(text) <= longest and set(text) <= set(alphabet)
        assert accepts(validate_pattern, "f", text, pattern, "hint") == expected

    check()


json_scalars = st.one_of(st.none(), st.booleans(), st.text(max_size=10),
                         st.integers(-(10**6), 10**6))


@PROPERTY_SETTINGS
@given(st.dictionaries(st.text(max_size=8), json_scalars, max_size=8), st.randoms())
def test_fingerprint_ignores_member_order_and_whitespace(document: dict[str, object],
                                                         rng: object) -> None:
    items = list(document.items())
    rng.shuffle(items)  # type: ignore[attr-defined]
    reordered = json.loads(json.dumps(dict(items), indent=2))
    assert body_fingerprint(reordered) == body_fingerprint(document)


@PROPERTY_SETTINGS
@given(st.text(max_size=12), st.text(max_size=12), st.text(max_size=12), st.text(max_size=12))
@example("svc", "batch:K", "svc:batch", "K")
def test_scoped_keys_never_collide(p1: str, k1: str, p2: str, k2: str) -> None:
    assert (scoped_key(p1, k1) == scoped_key(p2, k2)) == ((p1, k1) == (p2, k2))


@PROPERTY_SETTINGS
@given(st.datetimes(timezones=st.just(UTC)), st.uuids(), st.data())
def test_cursors_round_trip_and_any_change_is_refused(
    moment: object, ident: uuid.UUID, data: st.DataObject
) -> None:
    codec = CursorCodec("a-secret-of-sufficient-length-for-tests-0123")
    cursor = codec.encode((moment, ident))  # type: ignore[arg-type]
    assert codec.decode(cursor) == (moment, ident)
    position = data.draw(st.integers(0, len(cursor) - 1))
    replacement = data.draw(st.sampled_from(string.ascii_letters + string.digits + "-_."))
    tampered = cursor[:position] + replacement + cursor[position + 1:]
    if tampered != cursor:
        with pytest.raises(Problem) as refused:
            codec.decode(tampered)
        assert refused.value.status == 400
