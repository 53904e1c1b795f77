"""RFC 9457 problem details for every error the API returns."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException

from service.db import DatabaseUnavailable
from service.observability import log

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_BASE = "https://orders.example.com/problems/"


class Problem(Exception):
    def __init__(
        self,
        status: int,
        slug: str,
        title: str,
        detail: str,
        *,
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.slug = slug
        self.title = title
        self.detail = detail
        self.headers = headers or {}
        self.extra = extra or {}


def problem_response(problem: Problem, request: Request[Any, Any, Any]) -> Response[bytes]:
    document: dict[str, Any] = {
        "type": PROBLEM_BASE + problem.slug,
        "title": problem.title,
        "status": problem.status,
        "detail": problem.detail,
        "instance": request.url.path,
        **problem.extra,
    }
    request_id = request.scope.get("state", {}).get("request_id")
    if request_id:
        document["request_id"] = request_id
    return Response(
        content=msgspec.json.encode(document),
        status_code=problem.status,
        media_type=PROBLEM_MEDIA_TYPE,
        headers=problem.headers,
    )


def handle_problem(request: Request[Any, Any, Any], exc: Problem) -> Response[bytes]:
    return problem_response(exc, request)


HTTP_SLUGS = {
    400: ("bad-request", "Bad request"),
    401: ("unauthorized", "Unauthorized"),
    403: ("forbidden", "Forbidden"),
    404: ("not-found", "Not found"),
    405: ("method-not-allowed", "Method not allowed"),
    413: ("payload-too-large", "Request body too large"),
    415: ("unsupported-media-type", "Unsupported media type"),
}


def handle_http_exception(request: Request[Any, Any, Any], exc: HTTPException) -> Response[bytes]:
    slug, title = HTTP_SLUGS.get(exc.status_code, ("http-error", "HTTP error"))
    extra: dict[str, Any] = {}
    detail = str(exc.detail)
    if isinstance(exc, ValidationException):
        slug, title = "validation-error", "Invalid request"
        errors = exc.extra if isinstance(exc.extra, list) else []
        extra["errors"] = [
            {"field": e.get("key"), "message": e.get("message"), "source": e.get("source")}
            if isinstance(e, dict) else {"message": str(e)}
            for e in errors
        ]
        detail = "the request does not match the schema; see errors"
    return problem_response(
        Problem(exc.status_code, slug, title, detail, headers=dict(exc.headers or {}), extra=extra),
        request,
    )


def handle_database_unavailable(
    request: Request[Any, Any, Any], exc: DatabaseUnavailable
) -> Response[bytes]:
    log.warning("database_unavailable", detail=str(exc))
    return problem_response(
        Problem(
            503, "database-unavailable", "Service temporarily unavailable",
            "the order store is failing over; retry with the same Idempotency-Key",
            headers={"Retry-After": "1"},
        ),
        request,
    )


def handle_unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[bytes]:
    log.error("unhandled_error", error=type(exc).__name__, exc_info=exc)
    return problem_response(
        Problem(500, "internal-error", "Internal error", "an unexpected error occurred"),
        request,
    )
