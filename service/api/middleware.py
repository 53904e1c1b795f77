"""Per-request id, structured access log, duration histogram and a server span."""

from __future__ import annotations

import re
import time
import uuid

import structlog
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from service.observability import Metrics, log, span

REQUEST_ID_PATTERN = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


def request_context_middleware(metrics: Metrics) -> type:
    class RequestContext:
        def __init__(self, app: ASGIApp) -> None:
            self.app = app

        async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "http":
                await self.app(scope, receive, send)
                return
            incoming = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
            request_id = incoming if REQUEST_ID_PATTERN.match(incoming) else uuid.uuid4().hex
            scope.setdefault("state", {})["request_id"] = request_id
            method = str(scope.get("method", ""))
            route = scope.get("path_template") or "unmatched"
            status = 500
            started = time.perf_counter()

            async def send_with_id(message: Message) -> None:
                nonlocal status
                if message["type"] == "http.response.start":
                    status = message["status"]
                    headers = list(message.get("headers", []))
                    headers.append((b"x-request-id", request_id.encode()))
                    message["headers"] = headers
                await send(message)

            structlog.contextvars.bind_contextvars(request_id=request_id)
            try:
                with span(f"{method} {route}", **{"http.method": method, "http.route": route}):
                    await self.app(scope, receive, send_with_id)
            finally:
                elapsed = time.perf_counter() - started
                metrics.request_duration.labels(method, route, str(status)).observe(elapsed)
                if not route.startswith(("/health", "/metrics")):
                    log.info(
                        "request", method=method, route=route, status=status,
                        duration_ms=round(elapsed * 1000, 2),
                    )
                structlog.contextvars.unbind_contextvars("request_id")

    return RequestContext
