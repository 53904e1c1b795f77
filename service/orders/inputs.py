"""What a placement request must satisfy before any work: the Idempotency-Key header and
every field rule of the body, checked at once so the client sees all of its mistakes."""

from __future__ import annotations

import re
from typing import Any

from service.api.problems import Problem
from service.api.schemas import CreateOrderRequest
from service.domain.orders import NewOrder
from service.domain.validation import (
    ACCOUNT_PATTERN,
    CLIENT_ORDER_ID_PATTERN,
    FieldError,
    parse_positive_decimal,
    validate_currency,
    validate_isin,
    validate_pattern,
)

# Documented bounds: 8..128 characters of letters, digits and . _ : - (UUIDs fit).
IDEMPOTENCY_KEY_PATTERN = re.compile(r"[A-Za-z0-9._:-]{8,128}", re.ASCII)


def parse_idempotency_key(raw: str | None) -> str:
    if raw is None:
        raise Problem(
            400, "idempotency-key-missing", "Idempotency-Key required",
            "POST /v1/orders needs an Idempotency-Key header (8-128 of A-Z a-z 0-9 . _ : -)",
        )
    value = raw.strip()
    # draft-ietf-httpapi-idempotency-key-header: the value is a structured-field string.
    if len(value) >= 2 and value[0] == value[-1] == '"':
        value = value[1:-1]
    if not IDEMPOTENCY_KEY_PATTERN.fullmatch(value):
        raise Problem(
            400, "idempotency-key-malformed", "Malformed Idempotency-Key",
            "the Idempotency-Key must be 8-128 characters of A-Z a-z 0-9 . _ : -",
        )
    return value


def to_new_order(data: CreateOrderRequest) -> NewOrder:
    """Every field rule at once, so the client sees all of its mistakes in one answer."""
    errors: list[FieldError] = []

    def check(fn: Any, *args: Any) -> Any:
        try:
            return fn(*args)
        except FieldError as error:
            errors.append(error)
            return None

    account = check(
        validate_pattern, "account_id", data.account_id, ACCOUNT_PATTERN,
        "must be 1-64 characters of letters, digits, _ and -",
    )
    instrument = check(validate_isin, "instrument", data.instrument)
    quantity = check(parse_positive_decimal, "quantity", data.quantity)
    currency = check(validate_currency, "currency", data.currency)
    limit_price = None
    if data.order_type == "limit":
        if data.limit_price is None:
            errors.append(FieldError("limit_price", "is required for limit orders"))
        else:
            limit_price = check(parse_positive_decimal, "limit_price", data.limit_price)
    elif data.limit_price is not None:
        errors.append(FieldError("limit_price", "must be absent for market orders"))
    if data.client_order_id is not None:
        check(
            validate_pattern, "client_order_id", data.client_order_id, CLIENT_ORDER_ID_PATTERN,
            "must be 1-64 characters of letters, digits, . _ : -",
        )
    if errors:
        raise Problem(
            400, "validation-error", "Invalid request", "some fields are invalid; see errors",
            extra={"errors": [{"field": e.field, "message": e.message} for e in errors]},
        )
    return NewOrder(
        account_id=account, instrument=instrument, side=data.side, order_type=data.order_type,
        quantity=quantity, limit_price=limit_price, currency=currency,
        time_in_force=data.time_in_force, client_order_id=data.client_order_id,
    )
