"""Uvicorn with a drain phase: on SIGTERM readiness fails first, then in-flight requests
finish and the process exits, so a rolling update or a drained node loses no request."""

from __future__ import annotations

import signal
import threading
from types import FrameType

import uvicorn
from litestar import Litestar

from service.observability import log


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


def serve(app: Litestar, host: str, port: int, drain_s: float) -> None:
    config = uvicorn.Config(
        app, host=host, port=port, log_config=None, access_log=False,
        timeout_graceful_shutdown=30, lifespan="on",
    )
    DrainingServer(config, app, drain_s).run()
