"""Uvicorn with a drain phase and read timeouts, on uvloop and httptools by default.

On SIGTERM readiness fails first, then in-flight requests finish and the process exits, so
a rolling update or a drained node loses no request. A client must send its request line
and headers within the header read timeout (slowloris); the body read timeout is enforced
by the request middleware. When the parser rejects a request whose handler is already
running (bad chunked framing), the request is marked so it is counted as a 400, not a 500
(`service/http_protocols.py`).
"""

from __future__ import annotations

import signal
import threading
from types import FrameType

import uvicorn
from litestar import Litestar

from service.http_protocols import TimedH11Protocol, TimedHttpToolsProtocol
from service.observability import log

# ORDERS_HTTP_SERVER: the event loop and HTTP parser pair (uvloop + llhttp by default; the
# pure-Python pair stays selectable as a fallback and for side-by-side measurement).
HTTP_SERVERS = {
    "uvloop-httptools": ("uvloop", TimedHttpToolsProtocol),
    "asyncio-h11": ("asyncio", TimedH11Protocol),
}


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
    app: Litestar, host: str, port: int, drain_s: float, header_read_timeout_s: float = 5.0,
    http_server: str = "uvloop-httptools",
) -> None:
    loop, base = HTTP_SERVERS[http_server]
    protocol = type(f"HeaderTimed{base.__name__}", (base,),
                    {"header_read_timeout_s": header_read_timeout_s})
    config = uvicorn.Config(
        app, host=host, port=port, log_config=None, access_log=False,
        timeout_graceful_shutdown=30, lifespan="on", http=protocol, loop=loop,
    )
    log.info("http_server", stack=http_server, protocol=base.__name__)
    DrainingServer(config, app, drain_s).run()
