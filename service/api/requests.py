"""Request bodies: JSON only, and a malformed body is a 400/415 problem, never a 500."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.exceptions import SerializationException

from service.api.problems import Problem

JSON_MEDIA_TYPE = "application/json"


def is_json_content_type(value: str | None) -> bool:
    """`application/json`, optionally with `charset=utf-8` (JSON is UTF-8, RFC 8259)."""
    if value is None:
        return False
    media_type, _, parameters = value.partition(";")
    if media_type.strip().lower() != JSON_MEDIA_TYPE:
        return False
    for parameter in parameters.split(";"):
        if not parameter.strip():
            continue
        name, _, raw = parameter.partition("=")
        if name.strip().lower() != "charset" or raw.strip().strip('"').lower() != "utf-8":
            return False
    return True


def unsupported_media_type() -> Problem:
    return Problem(
        415, "unsupported-media-type", "Unsupported media type",
        "the request body must be application/json (charset utf-8)",
        headers={"Accept-Post": JSON_MEDIA_TYPE},
    )


def malformed_body(reason: str) -> Problem:
    return Problem(400, "malformed-body", "Malformed request body", reason)


class OrdersRequest(Request[Any, Any, Any]):
    """Decodes JSON bodies only when declared as JSON, and turns every decoder failure
    (invalid UTF-8 in a string, nesting past the recursion limit, bad syntax) into a 400.

    Litestar calls `json()` while resolving the handler's `data` argument, so this runs
    before the handler: before rate limiting, the database or anything else costly.
    """

    async def json(self) -> Any:
        if not is_json_content_type(self.headers.get("content-type")):
            raise unsupported_media_type()
        try:
            return await super().json()
        except UnicodeDecodeError:
            raise malformed_body("the body is not valid UTF-8 JSON") from None
        except RecursionError:
            raise malformed_body("the body is nested too deeply") from None
        except SerializationException:
            raise malformed_body("the body is not valid JSON") from None
