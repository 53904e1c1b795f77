"""Uvicorn's HTTP/1.1 protocols with the two behaviours the service relies on.

- A deadline for the request head (request line and headers): uvicorn has none of its own,
  so a client trickling a head (slowloris) would hold a connection forever. Idle keep-alive
  between requests stays uvicorn's `timeout_keep_alive`.
- A request whose handler is already running when the parser rejects its framing (bad
  chunked encoding) is marked in the scope's state, so the middleware counts a 400, not a 500.

`TimedHttpToolsProtocol` (llhttp, C) is the default; `TimedH11Protocol` (pure Python) is
kept as a fallback selected by ORDERS_HTTP_SERVER.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import h11
import httptools
from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from service.api.middleware import FRAMING_ERROR_STATE, ambiguous_framing_response

TIMEOUT_RESPONSE = (
    b"HTTP/1.1 408 Request Timeout\r\ncontent-type: text/plain; charset=utf-8\r\n"
    b"connection: close\r\ncontent-length: 23\r\n\r\nrequest header timeout\n"
)
# llhttp refuses a request carrying both framings before the application sees it; it gets
# the same problem document the middleware answers with under h11.
CL_TE_PARSER_ERROR = "Transfer-Encoding can't be present with Content-Length"


class HeadTimer:
    """One timer per connection, armed while a request head is awaited."""

    def __init__(self, loop: asyncio.AbstractEventLoop, timeout_s: float) -> None:
        self.loop, self.timeout_s = loop, timeout_s
        self.handle: asyncio.TimerHandle | None = None

    def arm(self, transport: asyncio.BaseTransport, on_late: Any) -> None:
        if self.handle is None and not transport.is_closing():
            self.handle = self.loop.call_later(self.timeout_s, on_late)

    def cancel(self) -> None:
        if self.handle is not None:
            self.handle.cancel()
            self.handle = None


class TimedHttpToolsProtocol(HttpToolsProtocol):
    """httptools with a deadline for the request head."""

    header_read_timeout_s = 5.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._head_timer = HeadTimer(self.loop, self.header_read_timeout_s)
        self._head_pending = False

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._head_timer.arm(transport, self._head_late)  # the first head is awaited

    def connection_lost(self, exc: Exception | None) -> None:
        self._head_timer.cancel()
        super().connection_lost(exc)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._head_pending = True
        self._head_timer.arm(self.transport, self._head_late)

    def on_headers_complete(self) -> None:
        self._head_pending = False
        self._head_timer.cancel()
        super().on_headers_complete()

    def on_response_complete(self) -> None:
        if not self._head_pending:
            self._head_timer.cancel()  # idle keep-alive is uvicorn's timeout_keep_alive
        super().on_response_complete()

    def data_received(self, data: bytes) -> None:
        # uvicorn's own, but a CL+TE request gets the service's problem document.
        self._unset_keepalive_if_required()
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as error:
            if str(error) == CL_TE_PARSER_ERROR:
                self._refuse_ambiguous_framing()
            else:
                self.send_400_response("Invalid HTTP request received.")
        except httptools.HttpParserUpgrade:
            if self._should_upgrade():
                self.handle_websocket_upgrade()
            else:
                self._unsupported_upgrade_warning()

    def _refuse_ambiguous_framing(self) -> None:
        path = self.url.decode("latin-1").split("?", 1)[0] if self.url else ""
        self.transport.write(ambiguous_framing_response(uuid.uuid4().hex, path))
        self.transport.close()

    def send_400_response(self, msg: str) -> None:
        if self.cycle is not None and not self.cycle.response_complete:
            self.cycle.scope.setdefault("state", {})[FRAMING_ERROR_STATE] = True
        super().send_400_response(msg)

    def _head_late(self) -> None:
        self._head_timer.handle = None
        if self.transport.is_closing():
            return
        if self.cycle is None or self.cycle.response_complete:
            self.transport.write(TIMEOUT_RESPONSE)
        self.transport.close()


class TimedH11Protocol(H11Protocol):
    """h11 with a deadline for the request head."""

    header_read_timeout_s = 5.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._head_timer = HeadTimer(self.loop, self.header_read_timeout_s)

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._head_timer.arm(transport, self._head_late)

    def connection_lost(self, exc: Exception | None) -> None:
        self._head_timer.cancel()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self.conn.their_state is h11.IDLE:
            self._head_timer.arm(self.transport, self._head_late)  # a next head is pending
        else:
            self._head_timer.cancel()

    def on_response_complete(self) -> None:
        self._head_timer.cancel()  # idle keep-alive is uvicorn's timeout_keep_alive
        super().on_response_complete()

    def send_400_response(self, msg: str) -> None:
        if self.cycle is not None and not self.cycle.response_complete:
            self.scope.setdefault("state", {})[FRAMING_ERROR_STATE] = True
        super().send_400_response(msg)

    def _head_late(self) -> None:
        self._head_timer.handle = None
        if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
            if self.conn.our_state is h11.IDLE:
                self.transport.write(TIMEOUT_RESPONSE)
            self.transport.close()
