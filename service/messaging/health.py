"""Liveness and metrics for the relay and worker, which serve no API.

Each loop beats a heartbeat on every iteration (a process with several loops, such as the
worker's receives, gives each its own slot); `/health/live` fails when the oldest slot's last
beat is older than `max_age_s`, so one wedged loop (not just a dead process) gets the
process restarted even while its siblings turn. The
server runs in a thread so it answers even while the loop is busy.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST


class Heartbeat:
    def __init__(self) -> None:
        self._lock = threading.Lock()  # the health server reads from its own thread
        self._beats: dict[int, float] = {0: time.monotonic()}

    def beat(self, slot: int = 0) -> None:
        with self._lock:
            self._beats[slot] = time.monotonic()

    def age_s(self) -> float:
        """Age of the stalest slot's last beat."""
        with self._lock:
            oldest = min(self._beats.values())
        return time.monotonic() - oldest


def serve_health(
    host: str, port: int, registry: CollectorRegistry, heartbeat: Heartbeat, max_age_s: float
) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path == "/health/live":
                age = heartbeat.age_s()
                status = 200 if age <= max_age_s else 503
                state = "live" if status == 200 else "stalled"
                body = json.dumps({"status": state, "heartbeat_age_s": round(age, 1)})
                self._reply(status, body.encode(), "application/json")
            elif self.path == "/metrics":
                self._reply(200, generate_latest(registry), CONTENT_TYPE_LATEST)
            else:
                self._reply(404, b'{"status": "not found"}', "application/json")

        def _reply(self, status: int, body: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            return  # probes every few seconds would drown the structured log

    server = ThreadingHTTPServer((host, port), Handler)
    threading.Thread(target=server.serve_forever, name="health", daemon=True).start()
    return server
