"""HTTP framing, read timeouts and honest statuses, over raw sockets to the real server."""

from __future__ import annotations

import contextlib
import re
import secrets
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from localenv.postgres import OWNER_ROLE, PostgresServer
from localenv.redis import RedisServer
from tests.service.conftest import (
    TEMPLATE_DB,
    Database,
    LiveServer,
    live_env,
    new_key,
    token_for,
)

TIMEOUT_S = 1.0


@pytest.fixture(scope="module", params=["uvloop-httptools", "asyncio-h11"])
def server(
    request: pytest.FixtureRequest, pg: PostgresServer, redis_server: RedisServer, work_dir: Path
) -> Iterator[LiveServer]:
    """One server per HTTP stack for the module (each test reads metric deltas): start-up is
    the cost. Both stacks must time out slow heads, refuse CL+TE and count framing errors."""
    name = f"orders_http_{secrets.token_hex(3)}"
    pg.psql(f"CREATE DATABASE {name} TEMPLATE {TEMPLATE_DB} OWNER {OWNER_ROLE}",
            database="postgres")
    env = live_env(
        Database(pg, name), redis_server.url,
        ORDERS_HEADER_READ_TIMEOUT_S=str(TIMEOUT_S), ORDERS_BODY_READ_TIMEOUT_S=str(TIMEOUT_S),
        ORDERS_HTTP_SERVER=request.param,
    )
    live = LiveServer(env, work_dir / f"api-http-{secrets.token_hex(3)}.log").start()
    yield live
    live.process.stop()
    pg.psql(f"DROP DATABASE {name} WITH (FORCE)", database="postgres")


def metrics_of(server: LiveServer) -> str:
    return httpx.get(f"{server.url}/metrics").text


def exchange(port: int, *chunks: bytes, pause_s: float = 0.0, wait_s: float = 5.0) -> tuple[bytes, bool]:
    """Send the chunks, read until the server closes or `wait_s` passes.
    Returns what was read and whether the server closed the connection."""
    with socket.create_connection(("127.0.0.1", port), timeout=wait_s) as sock:
        for chunk in chunks:
            sock.sendall(chunk)
            time.sleep(pause_s)
        received = b""
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline:
            sock.settimeout(max(0.05, deadline - time.monotonic()))
            try:
                data = sock.recv(65536)
            except TimeoutError:
                return received, False
            if not data:
                return received, True
            received += data
            if b"\r\n\r\n" in received and _complete(received):
                sock.settimeout(0.5)  # the whole response is in: does the server close?
                try:
                    return received, sock.recv(1) == b""
                except TimeoutError:
                    return received, False
        return received, False


def _complete(response: bytes) -> bool:
    head, _, body = response.partition(b"\r\n\r\n")
    match = re.search(rb"content-length: *(\d+)", head, re.IGNORECASE)
    return match is not None and len(body) >= int(match.group(1))


def head(method: str, path: str, *headers: str) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", *headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def bearer() -> str:
    return f"Authorization: Bearer {token_for('ACC-1')}"


def counter(metrics_text: str, name: str, **labels: str) -> float:
    total = 0.0
    for line in metrics_text.splitlines():
        if line.startswith(name + "{") and all(f'{k}="{v}"' in line for k, v in labels.items()):
            total += float(line.rsplit(" ", 1)[1])
    return total


def delta(before: str, after: str, name: str, **labels: str) -> float:
    return counter(after, name, **labels) - counter(before, name, **labels)


def test_content_length_with_transfer_encoding_is_refused_and_closed(server: LiveServer) -> None:
    request = head(
        "POST", "/v1/orders", bearer(), f"Idempotency-Key: {new_key()}",
        "Content-Type: application/json", "Content-Length: 4", "Transfer-Encoding: chunked",
    ) + b"0\r\n\r\n"
    response, closed = exchange(server.port, request)
    assert response.startswith(b"HTTP/1.1 400"), response
    assert b"ambiguous-framing" in response
    assert closed, "the connection must be closed after a CL+TE request (RFC 9112 6.3)"


def test_two_authorization_headers_are_400(server: LiveServer) -> None:
    response, _ = exchange(
        server.port, head("GET", "/v1/orders", bearer(), "Authorization: Bearer forged")
    )
    assert response.startswith(b"HTTP/1.1 400"), response
    assert b"duplicate-authorization" in response


def test_slow_request_head_times_out(server: LiveServer) -> None:
    started = time.monotonic()
    response, closed = exchange(
        server.port, b"GET /health/live HTTP/1.1\r\nHost: 127.0.0.1\r\n", wait_s=10
    )
    elapsed = time.monotonic() - started
    assert closed and elapsed < TIMEOUT_S + 2, (elapsed, response)
    assert response.startswith(b"HTTP/1.1 408"), response


def test_the_selected_http_stack_serves(server: LiveServer, request: pytest.FixtureRequest) -> None:
    stack = request.node.callspec.params["server"]
    assert f'"stack": "{stack}"' in server.process.log_path.read_text()


def test_silent_connection_times_out(server: LiveServer) -> None:
    started = time.monotonic()
    response, closed = exchange(server.port, b"", wait_s=10)
    assert closed and time.monotonic() - started < TIMEOUT_S + 2, response
    assert response.startswith(b"HTTP/1.1 408"), response


def test_trickled_head_times_out_although_bytes_keep_arriving(server: LiveServer) -> None:
    """The deadline covers the whole head: a byte every 0.2 s does not extend it."""
    started = time.monotonic()
    trickle = [bytes([byte]) for byte in b"GET /health/live HTTP/1.1\r\nHost: 127.0.0.1\r\n"]
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        with contextlib.suppress(OSError):
            for byte in trickle:
                sock.sendall(byte)
                time.sleep(0.2)
        received = sock.recv(65536)
    elapsed = time.monotonic() - started
    assert received.startswith(b"HTTP/1.1 408"), received
    assert elapsed < TIMEOUT_S + 2, elapsed


def read_until_closed(sock: socket.socket, wait_s: float) -> tuple[bytes, bool]:
    received, deadline = b"", time.monotonic() + wait_s
    while time.monotonic() < deadline:
        sock.settimeout(max(0.05, deadline - time.monotonic()))
        try:
            data = sock.recv(65536)
        except TimeoutError:
            break
        if not data:
            return received, True
        received += data
    return received, False


def test_second_head_on_a_keep_alive_connection_has_a_deadline(server: LiveServer) -> None:
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(head("GET", "/health/live"))
        time.sleep(0.3)  # answered; the connection idles in keep-alive
        started = time.monotonic()
        sock.sendall(b"GET /health/live HTTP/1.1\r\n")  # a second head that never ends
        response, closed = read_until_closed(sock, wait_s=10)
    elapsed = time.monotonic() - started
    assert response.startswith(b"HTTP/1.1 200"), response
    assert b"HTTP/1.1 408" in response and closed, response
    assert elapsed < TIMEOUT_S + 2, elapsed


def test_slow_body_times_out_and_is_counted_as_408(server: LiveServer) -> None:
    before = metrics_of(server)
    started = time.monotonic()
    response, closed = exchange(
        server.port,
        head("POST", "/v1/orders", bearer(), f"Idempotency-Key: {new_key()}",
             "Content-Type: application/json", "Content-Length: 200") + b'{"account_id":',
        wait_s=10,
    )
    elapsed = time.monotonic() - started
    assert response.startswith(b"HTTP/1.1 408"), response
    assert b"request-timeout" in response
    assert closed and elapsed < TIMEOUT_S + 2, elapsed
    after = metrics_of(server)
    assert delta(before, after, "http_request_duration_seconds_count", status="408") == 1
    assert counter(after, "http_request_duration_seconds_count", status="500") == 0


def test_client_aborts_and_bad_chunked_framing_are_not_500s(server: LiveServer) -> None:
    before = metrics_of(server)
    post = head(
        "POST", "/v1/orders", bearer(), f"Idempotency-Key: {new_key()}",
        "Content-Type: application/json", "Content-Length: 200",
    )
    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        sock.sendall(post + b'{"account_id":')
        time.sleep(0.3)  # the handler is now waiting for the rest of the body
    chunked = head(
        "POST", "/v1/orders", bearer(), f"Idempotency-Key: {new_key()}",
        "Content-Type: application/json", "Transfer-Encoding: chunked",
    )
    response, closed = exchange(server.port, chunked, b"5\r\n{\"acc\r\nzz-not-a-size\r\n",
                                pause_s=0.3)
    assert response.startswith(b"HTTP/1.1 400") and closed, response
    time.sleep(0.3)
    after = metrics_of(server)
    assert counter(after, "http_request_duration_seconds_count", status="500") == 0, after
    assert delta(before, after, "http_request_duration_seconds_count", status="499") == 1
    assert delta(before, after, "http_request_duration_seconds_count", status="400") == 1
    assert delta(before, after, "http_client_errors_total", reason="client_aborted") == 1
    assert delta(before, after, "http_client_errors_total", reason="framing_error") == 1
    log = server.process.log_path.read_text()
    assert '"event": "client_aborted"' in log and '"event": "framing_error"' in log
    assert "unhandled_error" not in log
