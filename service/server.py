"""Uvicorn with a drain phase and read timeouts.

On SIGTERM readiness fails first, then in-flight requests finish and the process exits, so
a rolling update or a drained node loses no request. A client must send its request line
and headers within the header read timeout (slowloris); the body read timeout is enforced
by the request middleware. When the parser rejects a request whose handler is already
running (bad chunked framing), the request is marked so it is counted as a 400, not a 500.
"""

from __future__ import annotations

import asyncio
import signal
import threading
from types import FrameType
from typing import Any

import h11
import uvicorn
from litestar import Litestar
from uvicorn.protocols.http.h11_impl import H11Protocol

from service.api.middleware import FRAMING_ERROR_STATE
from service.observability import log

TIMEOUT_RESPONSE = (
    b"HTTP/1.1 408 Request Timeout\r\ncontent-type: text/plain; charset=utf-8\r\n"
    b"connection: close\r\ncontent-length: 23\r\n\r\nrequest header timeout\n"
)


class TimedH11Protocol(H11Protocol):
    """h11 with a deadline for the request head (uvicorn has none of its own)."""

    header_read_timeout_s = 5.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._head_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm_head_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_head_timer()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self.conn.their_state is h11.IDLE:
            self._arm_head_timer()  # a (partial) head of the next request is pending
        else:
            self._cancel_head_timer()

    def on_response_complete(self) -> None:
        self._cancel_head_timer()  # idle keep-alive is uvicorn's timeout_keep_alive
        super().on_response_complete()

    def send_400_response(self, msg: str) -> None:
        if self.cycle is not None and not self.cycle.response_complete:
            self.scope.setdefault("state", {})[FRAMING_ERROR_STATE] = True
        super().send_400_response(msg)

    def _arm_head_timer(self) -> None:
        if self._head_timer is None and not self.transport.is_closing():
            self._head_timer = self.loop.call_later(self.header_read_timeout_s, self._head_late)

    def _cancel_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_late(self) -> None:
        self._head_timer = None
        if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
            if self.conn.our_state is h11.IDLE:
                self.transport.write(TIMEOUT_RESPONSE)
            self.transport.close()


class DrainingServer(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, app: Litestar, drain_s: float) -> None:
        super().__init__(config)
        self._app = app
        self._drain_s = drain_s
        self._draining = False

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        if self._draining:
            # A second signal means "now": let uvicorn stop (or force-quit on SIGINT).
            super().handle_exit(sig, frame)
            return
        self._draining = True
        state = getattr(self._app.state, "orders", None)
        if state is not None:
            state.draining = True
        log.info("draining", signal=signal.Signals(sig).name, drain_s=self._drain_s)
        # Load balancers notice the failing readiness probe during the drain period; only
        # then does uvicorn stop accepting and wait for in-flight requests to complete.
        timer = threading.Timer(self._drain_s, self._stop)
        timer.daemon = True
        timer.start()

    def _stop(self) -> None:
        self.should_exit = True


def serve(
    app: Litestar, host: str, port: int, drain_s: float, header_read_timeout_s: float = 5.0
) -> None:
    protocol = type("HeaderTimedH11", (TimedH11Protocol,),
                    {"header_read_timeout_s": header_read_timeout_s})
    config = uvicorn.Config(
        app, host=host, port=port, log_config=None, access_log=False,
        timeout_graceful_shutdown=30, lifespan="on", http=protocol,
    )
    DrainingServer(config, app, drain_s).run()
