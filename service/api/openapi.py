"""What the OpenAPI document says beyond what Litestar infers from the handlers.

Every error is RFC 9457 problem+json with a stable `type` URI, listed per status; the
Idempotency-Key header is required; order endpoints need a bearer JWT; the order request
body carries the real field rules; and links chain a placed order to reading, cancelling
and its audit trail, so a stateful fuzzer (schemathesis) can follow them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

from litestar.openapi.spec import (
    Components,
    Link,
    OpenAPIHeader,
    OpenAPIMediaType,
    OpenAPIResponse,
    OpenAPIType,
    Operation,
    Reference,
    Schema,
    SecurityScheme,
)

from service.api.problems import PROBLEM_BASE, PROBLEM_MEDIA_TYPE
from service.domain.validation import ISO_4217

BEARER = "BearerJWT"
SECURITY: list[dict[str, list[str]]] = [{BEARER: []}]
STRING, INTEGER, OBJECT, ARRAY, NULL = (
    OpenAPIType.STRING, OpenAPIType.INTEGER, OpenAPIType.OBJECT, OpenAPIType.ARRAY,
    OpenAPIType.NULL,
)
# Custom formats: schemathesis is given strategies for them (tests/service), other tools
# fall back to the pattern.
ISIN_FORMAT = "isin"
POSITIVE_DECIMAL_FORMAT = "positive-decimal"



def positive_decimal_pattern(integer_digits: int = 18, fraction_digits: int = 8) -> str:
    """The API's decimal rule as one regular expression (no lookaround, so generators can
    use it): at most `integer_digits` before and `fraction_digits` after the point, and
    > 0, spelled out by the position of the first non-zero digit."""

    def first_nonzero_at(digits: int) -> str:
        return "|".join(f"0{{{k}}}[1-9][0-9]{{0,{digits - 1 - k}}}" for k in range(digits))

    integer = f"(?:{first_nonzero_at(integer_digits)})(?:\\.[0-9]{{1,{fraction_digits}}})?"
    fraction = f"0{{1,{integer_digits}}}\\.(?:{first_nonzero_at(fraction_digits)})"
    return f"^(?:{integer}|{fraction})$"


DECIMAL = positive_decimal_pattern()


def _string(pattern: str, description: str, fmt: str | None = None) -> Schema:
    return Schema(type=STRING, pattern=pattern, description=description, format=cast(Any, fmt))


def _nullable(schema: Schema) -> Schema:
    return Schema(one_of=[schema, Schema(type=NULL)])


PROBLEM_SCHEMA = Schema(
    type=OBJECT,
    required=["type", "title", "status", "detail", "instance"],
    properties={
        "type": Schema(type=STRING, description=f"a URI under {PROBLEM_BASE}"),
        "title": Schema(type=STRING),
        "status": Schema(type=INTEGER),
        "detail": Schema(type=STRING),
        "instance": Schema(type=STRING, description="the request path"),
        "request_id": Schema(type=STRING, description="also sent as X-Request-ID"),
        "errors": Schema(
            type=ARRAY, description="validation-error: one entry per invalid field",
            items=Schema(type=OBJECT, properties={
                "field": _nullable(Schema(type=STRING)), "message": Schema(type=STRING),
                "source": _nullable(Schema(type=STRING)),
            }),
        ),
        "existing_order_id": Schema(type=STRING, description="client-order-id-taken"),
        "current_status": Schema(type=STRING, description="illegal-transition"),
    },
    description="RFC 9457 problem details",
)

ORDER_REQUEST_SCHEMA = Schema(
    type=OBJECT,
    additional_properties=False,
    required=["account_id", "instrument", "side", "order_type", "quantity", "currency",
              "time_in_force"],
    properties={
        "account_id": _string(r"^[A-Za-z0-9_-]{1,64}$", "an account listed in the token"),
        "instrument": _string(r"^[A-Z]{2}[A-Z0-9]{9}[0-9]$", "ISIN; the ISO 6166 check digit "
                              "is verified", ISIN_FORMAT),
        "side": Schema(type=STRING, enum=["buy", "sell"]),
        "order_type": Schema(type=STRING, enum=["market", "limit"]),
        "quantity": _string(DECIMAL, "decimal string > 0", POSITIVE_DECIMAL_FORMAT),
        "limit_price": _nullable(
            _string(DECIMAL, "decimal string > 0", POSITIVE_DECIMAL_FORMAT)
        ),
        "currency": Schema(type=STRING, enum=sorted(ISO_4217), description="active ISO 4217"),
        "time_in_force": Schema(type=STRING, enum=["DAY", "GTC", "IOC", "FOK"]),
        "client_order_id": _nullable(
            _string(r"^[A-Za-z0-9._:-]{1,64}$", "unique per account")
        ),
    },
    one_of=[
        Schema(
            description="limit orders carry a limit price",
            properties={"order_type": Schema(const="limit"),
                        "limit_price": Schema(type=STRING)},
            required=["limit_price"],
        ),
        Schema(
            description="market orders carry none",
            properties={"order_type": Schema(const="market"), "limit_price": Schema(type=NULL)},
        ),
    ],
)

PROBLEM_HEADERS = {
    "Retry-After": OpenAPIHeader(
        schema=Schema(type=STRING, pattern=r"^[0-9]+$"), description="seconds to wait"
    ),
}
REQUEST_ID_HEADER = OpenAPIHeader(schema=Schema(type=STRING), description="the request id")

PLACED_HEADERS = {
    "Location": OpenAPIHeader(schema=Schema(type=STRING), required=True,
                              description="/v1/orders/{id}"),
    "Idempotent-Replayed": OpenAPIHeader(
        schema=Schema(type=STRING, enum=["true"]),
        description="present when this is the stored response of an earlier request",
    ),
}


def problem_response(status: int, slugs: tuple[str, ...], description: str) -> OpenAPIResponse:
    schema = Schema(all_of=[
        PROBLEM_SCHEMA,
        Schema(type=OBJECT, properties={
            "type": Schema(type=STRING, enum=[PROBLEM_BASE + slug for slug in slugs]),
            "status": Schema(type=INTEGER, const=status),
        }),
    ])
    headers: dict[str, OpenAPIHeader | Reference] = {"X-Request-ID": REQUEST_ID_HEADER}
    if status in (409, 429, 503):
        headers.update(PROBLEM_HEADERS)
    if status == 401:
        headers["WWW-Authenticate"] = OpenAPIHeader(schema=Schema(type=STRING))
    return OpenAPIResponse(
        description=description,
        content={PROBLEM_MEDIA_TYPE: OpenAPIMediaType(schema=schema)},
        headers=headers,
    )


PROBLEMS: dict[int, tuple[tuple[str, ...], str]] = {
    400: (("validation-error", "malformed-body", "idempotency-key-missing",
           "idempotency-key-malformed", "duplicate-authorization", "invalid-cursor",
           "ambiguous-framing", "bad-request"), "Malformed or invalid request"),
    401: (("unauthorized",), "Missing, invalid or expired bearer token"),
    403: (("account-forbidden",), "The token does not list this account"),
    404: (("order-not-found", "not-found", "no-checkpoint", "tree-size-unknown"),
          "No such order for this caller, or (audit log) no checkpoint or tree size yet"),
    408: (("request-timeout",), "The request body did not arrive in time"),
    409: (("idempotency-key-in-flight", "client-order-id-taken", "illegal-transition"),
          "Conflict with the current state"),
    413: (("payload-too-large",), "Body over the size limit"),
    415: (("unsupported-media-type",), "The body is not application/json"),
    422: (("idempotency-key-reused", "invalid-range"),
          "Idempotency-Key already used with another body, or (audit log) first > second"),
    429: (("rate-limited",), "Above the caller's rate limit"),
    503: (("database-unavailable",), "The order store is failing over; retry"),
}
READ_PROBLEMS = (400, 401, 404, 429, 503)
LIST_PROBLEMS = (400, 401, 403, 429, 503)
CANCEL_PROBLEMS = (400, 401, 404, 409, 429, 503)
PLACE_PROBLEMS = (400, 401, 403, 408, 409, 413, 415, 422, 429, 503)


def order_links() -> dict[str, Link | Reference]:
    """From a placed order (its id in the 201 body) to the operations that take its id."""
    parameters = {"order_id": "$response.body#/id"}
    return {
        "ReadOrder": Link(operation_id="readOrder", parameters=parameters),
        "CancelOrder": Link(operation_id="cancelOrder", parameters=parameters),
        "OrderEvents": Link(operation_id="orderEvents", parameters=parameters),
    }


IDEMPOTENCY_KEY_SCHEMA = Schema(
    type=STRING,
    pattern=r'^[A-Za-z0-9._:-]{8,128}$|^"[A-Za-z0-9._:-]{8,128}"$',
    description="8-128 of A-Z a-z 0-9 . _ : - (bare or as a structured-field string)",
)
CURSOR_FORMAT = "cursor"
PARAMETER_SCHEMAS = {
    "Idempotency-Key": IDEMPOTENCY_KEY_SCHEMA,
    "cursor": Schema(
        type=STRING, min_length=1, format=cast(Any, CURSOR_FORMAT),
        description="opaque and signed: only a next_cursor value returned by this endpoint",
    ),
    "account_id": Schema(type=STRING, pattern=r"^[A-Za-z0-9_-]{1,64}$"),
}


def documented(
    *,
    problems: tuple[int, ...],
    success: int = 200,
    links: dict[str, Link | Reference] | None = None,
    success_headers: dict[str, OpenAPIHeader] | None = None,
    required_headers: frozenset[str] = frozenset(),
    request_schema: Schema | None = None,
) -> type[Operation]:
    """An Operation class completing what Litestar generated for one handler."""

    @dataclass
    class DocumentedOperation(Operation):
        def __post_init__(self) -> None:
            responses = dict(self.responses or {})
            for status in problems:
                slugs, description = PROBLEMS[status]
                responses[str(status)] = problem_response(status, slugs, description)
            ok = responses[str(success)]
            if isinstance(ok, OpenAPIResponse):
                ok.links = links
                ok.headers = {"X-Request-ID": REQUEST_ID_HEADER, **(success_headers or {})}
            self.responses = responses
            for parameter in self.parameters or []:
                if isinstance(parameter, Reference):
                    continue
                if parameter.name in required_headers:
                    parameter.required = True
                if parameter.name in PARAMETER_SCHEMAS:
                    parameter.schema = PARAMETER_SCHEMAS[parameter.name]
            if request_schema is not None and self.request_body is not None:
                body = self.request_body
                if not isinstance(body, Reference):
                    body.content = {"application/json": OpenAPIMediaType(schema=request_schema)}
                    body.required = True
            self.security = SECURITY

    return DocumentedOperation


COMPONENTS = Components(
    security_schemes={
        BEARER: SecurityScheme(
            type="http", scheme="bearer", bearer_format="JWT",
            description="HS256 JWT with iss, aud, sub, integer exp and an accounts list",
        )
    },
)
