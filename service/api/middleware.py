"""Per-request id, structured access log, duration histogram and a server span, around the
whole application (so 404 and 405 answered by the router are logged and counted too).

Statuses are recorded as what happened, so client behaviour cannot burn the error budget:
a client that goes away before its response is `499` (client closed request), a body that
does not arrive within the read timeout is `408`, and a request whose chunked framing the
HTTP parser rejected is `400`. A request carrying both Content-Length and Transfer-Encoding
is refused and its connection closed (RFC 9112 section 6.3).
"""

from __future__ import annotations

import asyncio
import json
import re
import time
import uuid
from dataclasses import dataclass
from typing import Any

import structlog
from litestar.types import ASGIApp, Message, Receive, ReceiveMessage, Scope, Send

from service.api.problems import PROBLEM_BASE, PROBLEM_MEDIA_TYPE, Problem
from service.observability import Metrics, log, span

REQUEST_ID_PATTERN = re.compile(r"[A-Za-z0-9._:-]{1,128}", re.ASCII)
CLIENT_CLOSED_REQUEST = 499
QUIET_ROUTES = ("/health", "/metrics")
# Set in the scope's state by the HTTP protocol when the parser rejects the request.
FRAMING_ERROR_STATE = "framing_error"


class BodyReadTimeout(Problem):
    def __init__(self, timeout_s: float) -> None:
        super().__init__(
            408, "request-timeout", "Request timeout",
            f"the request body did not arrive within {timeout_s:g} s",
            headers={"Connection": "close"},
        )


@dataclass
class Exchange:
    """What one request/response exchange did, for the log line and the histogram."""

    status: int | None = None
    body_complete: bool = False
    disconnected_early: bool = False
    timed_out: bool = False

    def outcome(self, scope: Scope) -> tuple[int, str]:
        if scope.get("state", {}).get(FRAMING_ERROR_STATE):
            return 400, "framing_error"
        if self.timed_out:
            return 408, "body_read_timeout"
        if self.disconnected_early:
            return CLIENT_CLOSED_REQUEST, "client_aborted"
        return (self.status or 500), "request"


def ambiguous_framing(scope: Scope) -> bool:
    names = {name.lower() for name, _ in scope.get("headers", [])}
    return b"content-length" in names and b"transfer-encoding" in names


def ambiguous_framing_body(request_id: str, path: str) -> bytes:
    return json.dumps({
        "type": f"{PROBLEM_BASE}ambiguous-framing", "title": "Ambiguous message framing",
        "status": 400,
        "detail": "a request must not carry both Content-Length and Transfer-Encoding",
        "instance": path, "request_id": request_id,
    }, separators=(",", ":")).encode()


def ambiguous_framing_response(request_id: str, path: str) -> bytes:
    """The whole HTTP/1.1 response, for a parser that refuses the request itself."""
    body = ambiguous_framing_body(request_id, path)
    return (
        b"HTTP/1.1 400 Bad Request\r\ncontent-type: " + PROBLEM_MEDIA_TYPE.encode()
        + b"\r\nconnection: close\r\nx-request-id: " + request_id.encode()
        + b"\r\ncontent-length: " + str(len(body)).encode() + b"\r\n\r\n" + body
    )


async def refuse_ambiguous_framing(request_id: str, path: str, send: Send) -> int:
    body = ambiguous_framing_body(request_id, path)
    start: Any = {
        "type": "http.response.start", "status": 400,
        "headers": [
            (b"content-type", PROBLEM_MEDIA_TYPE.encode()), (b"connection", b"close"),
            (b"content-length", str(len(body)).encode()),
        ],
    }
    await send(start)
    await send({"type": "http.response.body", "body": body, "more_body": False})
    return 400


class RequestContext:
    def __init__(self, app: ASGIApp, metrics: Metrics, body_read_timeout_s: float) -> None:
        self.app = app
        self.metrics = metrics
        self.body_read_timeout_s = body_read_timeout_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        request_id = incoming if REQUEST_ID_PATTERN.fullmatch(incoming) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        method = str(scope.get("method", ""))
        exchange = Exchange()
        started = time.perf_counter()
        structlog.contextvars.bind_contextvars(request_id=request_id)
        try:
            with span(f"{method}", **{"http.method": method}) as current:
                if ambiguous_framing(scope):
                    exchange.status = await refuse_ambiguous_framing(
                        request_id, scope.get("path", ""), send
                    )
                else:
                    await self.app(
                        scope, self._receive(receive, exchange),
                        self._send(send, exchange, request_id),
                    )
                route = scope.get("path_template") or "unmatched"
                current.update_name(f"{method} {route}")
                current.set_attribute("http.route", route)
        finally:
            self._record(scope, method, exchange, time.perf_counter() - started)
            structlog.contextvars.unbind_contextvars("request_id")

    def _receive(self, receive: Receive, exchange: Exchange) -> Receive:
        deadline = asyncio.get_running_loop().time() + self.body_read_timeout_s

        async def receive_within_deadline() -> ReceiveMessage:
            if exchange.body_complete:
                return await receive()
            # asyncio.timeout, not wait_for: no task wrapped around every receive.
            try:
                async with asyncio.timeout_at(deadline):
                    message = await receive()
            except TimeoutError:
                exchange.timed_out = True
                raise BodyReadTimeout(self.body_read_timeout_s) from None
            if message["type"] == "http.disconnect" and exchange.status is None:
                exchange.disconnected_early = True
            elif not message.get("more_body", False):
                exchange.body_complete = True
            return message

        return receive_within_deadline

    @staticmethod
    def _send(send: Send, exchange: Exchange, request_id: str) -> Send:
        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                exchange.status = message["status"]
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", request_id.encode()))
                message["headers"] = headers
            await send(message)

        return send_with_id

    def _record(self, scope: Scope, method: str, exchange: Exchange, elapsed: float) -> None:
        route = scope.get("path_template") or "unmatched"
        status, event = exchange.outcome(scope)
        self.metrics.request_duration.labels(method, route, str(status)).observe(elapsed)
        if event != "request":
            self.metrics.client_errors.labels(event).inc()
        if route.startswith(QUIET_ROUTES) and status < 400:
            return
        fields = {"method": method, "route": route, "status": status,
                  "duration_ms": round(elapsed * 1000, 2)}
        if route == "unmatched":
            fields["path"] = str(scope.get("path", ""))[:200]
        log.info(event, **fields)
