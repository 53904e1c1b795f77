"""The premise of the SLI's HAProxy term, checked on the real Debian HAProxy: its backend's
5xx counter holds every 5xx a client got, and its servers' counters only those the servers
answered, so the difference is exactly the 5xx HAProxy wrote itself (no server up: 503;
a server that hangs up: 502; one too slow: 504), and a 503 the API answers is never counted
twice."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from localenv.procs import free_port
from tests.observability.haproxy import exported, running, write_config


def answer_503(conn: socket.socket) -> None:
    conn.sendall(b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n"
                 b"Connection: close\r\n\r\n")


def hang_up(conn: socket.socket) -> None:
    """Reads the request and closes without a reply, as a killed replica does."""


def too_slow(conn: socket.socket) -> None:
    time.sleep(1.5)  # past the backend's 0.5 s server timeout


@pytest.fixture
def backend_server() -> Iterator[Callable[[Callable[[socket.socket], None]], int]]:
    listeners: list[socket.socket] = []

    def start(behaviour: Callable[[socket.socket], None]) -> int:
        listener = socket.create_server(("127.0.0.1", 0))
        listeners.append(listener)

        def serve() -> None:
            while True:
                try:
                    conn, _ = listener.accept()
                except OSError:
                    return
                with conn:
                    conn.recv(65536)
                    behaviour(conn)

        threading.Thread(target=serve, daemon=True).start()
        port: int = listener.getsockname()[1]
        return port

    yield start
    for listener in listeners:
        listener.close()


def status_of(port: int) -> int:
    return httpx.post(f"http://127.0.0.1:{port}/v1/orders", json={}, timeout=5).status_code


def five_xx(metrics_port: int) -> dict[str, float]:
    text = exported(metrics_port)
    counts: dict[str, float] = {}
    for line in text.splitlines():
        if 'proxy="api_replicas"' in line and 'code="5xx"' in line:
            level = line.split("_http_responses_total")[0].removeprefix("haproxy_")
            counts[level] = counts.get(level, 0.0) + float(line.rsplit(" ", 1)[1])
    return counts


@pytest.mark.parametrize(("behaviour", "servers_down", "status", "own"), [
    (answer_503, False, 503, 0),  # the API's own 503: its server counter has it
    (hang_up, False, 502, 3),
    (too_slow, False, 504, 3),
    (answer_503, True, 503, 3),  # every server down (unready): HAProxy answers itself
], ids=["api-503", "hang-up-502", "timeout-504", "no-server-503"])
def test_backend_minus_servers_is_what_haproxy_wrote_itself(
    backend_server: Callable[[Callable[[socket.socket], None]], int], tmp_path: Path,
    behaviour: Callable[[socket.socket], None], servers_down: bool, status: int, own: int,
) -> None:
    api_port, metrics_port = free_port(), free_port()
    server_port = free_port() if servers_down else backend_server(behaviour)
    config = write_config(tmp_path / "haproxy.cfg", metrics_port, [
        "defaults", "    mode http", "    timeout connect 1s", "    timeout client 5s",
        "    timeout server 500ms",
        "frontend api", f"    bind 127.0.0.1:{api_port}", "    default_backend api_replicas",
        # the server names and proxy name the local stack uses; checks mark a dead one down
        "backend api_replicas", "    option httpchk GET /health/ready",
        "    default-server inter 100ms fall 1 rise 1",
        f"    server api-a 127.0.0.1:{server_port}" + (" check" if servers_down else ""),
    ])
    with running(config, metrics_port):
        if servers_down:
            time.sleep(0.5)  # the first failed check marks the server down
        assert [status_of(api_port) for _ in range(3)] == [status] * 3
        counts = five_xx(metrics_port)
    assert counts["backend"] == 3, counts
    assert counts["backend"] - counts["server"] == own, counts
