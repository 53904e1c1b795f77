"""The SQS endpoint's HTTP/1.1 server (localenv/sqs_server.py), over real sockets on loopback
with a stand-in application, driven by the standard library's HTTP client and by raw bytes.
LocalStack behind it is covered by test_sqs_endpoint.py."""

from __future__ import annotations

import contextlib
import http.client
import re
import socket
import threading
import time
from collections.abc import Iterator

import pytest

from localenv.sqs_server import (
    IDLE_TIMEOUT_S,
    MAX_LINE_BYTES,
    RequestHead,
    ThreadPerConnectionServer,
    wsgi_environ,
)

pytestmark = pytest.mark.timeout(30)


class Recorder:
    """Echoes each request back and records what the application was called with."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, bytes]] = []

    def __call__(self, head: RequestHead, body: bytes) -> tuple[str, list[tuple[str, str]], bytes]:
        self.calls.append((head.method, head.target, body))
        if head.target == "/boom":
            raise RuntimeError("the application failed")
        if head.target == "/empty":
            return "204 No Content", [("Content-Length", "0")], b""
        headers = [("Content-Type", "text/plain"), ("Content-Length", "999"),
                   ("Transfer-Encoding", "chunked"), ("X-Seen-Length", str(len(body)))]
        return "201 Created", headers, b"echo:" + body


def start(server: ThreadPerConnectionServer) -> threading.Thread:
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    return thread


@contextlib.contextmanager
def serving(app: Recorder, idle_timeout_s: float = IDLE_TIMEOUT_S
            ) -> Iterator[ThreadPerConnectionServer]:
    server = ThreadPerConnectionServer(("127.0.0.1", 0), app, idle_timeout_s=idle_timeout_s)
    start(server)
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def served() -> Iterator[tuple[Recorder, int]]:
    app = Recorder()
    with serving(app) as server:
        yield app, server.server_address[1]


def read_until_closed(sock: socket.socket, reply: bytes = b"") -> bytes:
    """What the server still sends, until it closes the connection."""
    while chunk := sock.recv(65536):
        reply += chunk
    return reply


def raw_exchange(port: int, payload: bytes) -> bytes:
    """Send `payload`, half-close, and read until the server closes the connection."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(payload)
        sock.shutdown(socket.SHUT_WR)
        return read_until_closed(sock)


def test_requests_on_one_connection_are_answered_in_order_and_the_connection_kept(
    served: tuple[Recorder, int],
) -> None:
    app, port = served
    client = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    client.connect()
    first_socket = client.sock
    for n in range(3):
        client.request("POST", f"/q?n={n}", body=f"body-{n}".encode())
        response = client.getresponse()
        assert response.status == 201
        assert response.read() == f"echo:body-{n}".encode()
        # The server frames the response itself: the application's framing headers are gone.
        assert response.getheader("Content-Length") == str(len(f"echo:body-{n}"))
        assert response.getheader("Transfer-Encoding") is None
        assert response.getheader("X-Seen-Length") == str(len(f"body-{n}"))
        assert response.getheader("Connection") is None
    assert client.sock is first_socket  # http.client reconnects if the server closed
    client.close()
    assert app.calls == [("POST", f"/q?n={n}", f"body-{n}".encode()) for n in range(3)]


def test_pipelined_requests_each_get_their_response(served: tuple[Recorder, int]) -> None:
    app, port = served
    request = b"POST /p HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n"
    closing = b"POST /p HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 2\r\n\r\n"
    reply = raw_exchange(port, request + b"ab" + closing + b"cd")
    assert reply.count(b"HTTP/1.1 201 Created\r\n") == 2
    assert reply.endswith(b"echo:cd")
    assert [body for _, _, body in app.calls] == [b"ab", b"cd"]


@pytest.mark.parametrize(
    ("request_bytes", "status"),
    [
        (b"POST /x HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 1\r\n\r\nz", b"201"),
        (b"POST /x HTTP/1.0\r\nContent-Length: 1\r\n\r\nz", b"201"),
    ],
    ids=["connection-close", "http-1.0"],
)
def test_a_client_that_does_not_keep_alive_is_answered_and_closed(
    served: tuple[Recorder, int], request_bytes: bytes, status: bytes
) -> None:
    _, port = served
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(request_bytes)  # no half-close: only the server can end the read
        reply = read_until_closed(sock)
    assert reply.startswith(b"HTTP/1.1 " + status)
    assert b"\r\nConnection: close\r\n" in reply


@pytest.mark.parametrize(
    ("request_bytes", "status"),
    [
        (b"GARBAGE\r\n\r\n", b"400"),
        (b"GET / HTTP/2.0\r\n\r\n", b"400"),
        (b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab", b"400"),
        (b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n", b"400"),
        (b"POST / HTTP/1.1\r\nHost: x\r\nno colon here\r\n\r\n", b"400"),
        (b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n0\r\n\r\n", b"501"),
        (b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 999999999\r\n\r\n", b"413"),
        (b"GET /" + b"a" * MAX_LINE_BYTES + b" HTTP/1.1\r\n\r\n", b"414"),
        (b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * MAX_LINE_BYTES + b"\r\n\r\n", b"431"),
        (b"GET / HTTP/1.1\r\nHost: x\r\n" + b"X-Many: 1\r\n" * 100 + b"\r\n", b"431"),
        (b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: \xb2\r\n\r\n", b"400"),
        (b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: " + b"9" * 5000 + b"\r\n\r\n", b"400"),
        (b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length : 1\r\n\r\nz", b"400"),
        (b"GET / HTTP/1.1\r\nHost: x\r\nX: a\r\n b\r\n\r\n", b"400"),
        (b"GET / HTTP/1.1\r\nHost: x\r\nX: a\rb\r\n\r\n", b"400"),
        (b"GET / HTTP/1.1\r\nHost: x\r\nBad Name: 1\r\n\r\n", b"400"),
        (b"GET / HTTP/1.1\r\n\r\n", b"400"),
        (b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", b"400"),
    ],
    ids=["no-request-line", "http-2", "two-lengths", "negative-length", "header-without-colon",
         "chunked", "body-too-large", "uri-too-long", "header-too-long", "too-many-headers",
         "superscript-length", "5000-digit-length", "space-before-colon", "obs-fold",
         "bare-cr-in-value", "name-not-a-token", "no-host", "two-hosts"],
)
def test_a_request_the_server_does_not_take_gets_a_clear_status_and_never_reaches_the_app(
    served: tuple[Recorder, int], request_bytes: bytes, status: bytes
) -> None:
    app, port = served
    reply = raw_exchange(port, request_bytes)
    assert reply.startswith(b"HTTP/1.1 " + status + b" ")
    assert b"\r\nConnection: close\r\n" in reply
    assert app.calls == []


def test_a_hundred_headers_host_included_are_taken(served: tuple[Recorder, int]) -> None:
    app, port = served
    reply = raw_exchange(port, b"GET / HTTP/1.1\r\nHost: x\r\n" + b"X-Many: 1\r\n" * 99 + b"\r\n")
    assert reply.startswith(b"HTTP/1.1 201 ")
    assert len(app.calls) == 1


def test_expect_100_continue_gets_the_interim_response_first(served: tuple[Recorder, int]) -> None:
    _, port = served
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(b"PUT /c HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n")
        assert sock.recv(65536) == b"HTTP/1.1 100 Continue\r\n\r\n"
        sock.sendall(b"xyz")
        reply = sock.recv(65536)
    assert reply.startswith(b"HTTP/1.1 201 ") and reply.endswith(b"echo:xyz")


def test_head_gets_the_length_but_no_body(served: tuple[Recorder, int]) -> None:
    _, port = served
    reply = raw_exchange(port, b"HEAD /h HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    head, _, body = reply.partition(b"\r\n\r\n")
    assert b"\r\nContent-Length: 5\r\n" in head + b"\r\n"  # len(b"echo:")
    assert body == b""


def test_an_application_error_is_a_500_and_the_next_connection_is_served(
    served: tuple[Recorder, int],
) -> None:
    app, port = served
    reply = raw_exchange(port, b"GET /boom HTTP/1.1\r\nHost: x\r\n\r\nGET /after HTTP/1.1\r\nHost: x\r\n\r\n")
    assert reply.startswith(b"HTTP/1.1 500 ")
    assert reply.count(b"HTTP/1.1") == 1  # the request after it on that connection is dropped
    assert raw_exchange(port, b"GET /ok HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").startswith(
        b"HTTP/1.1 201 ")
    assert [target for _, target, _ in app.calls] == ["/boom", "/ok"]


def test_a_client_gone_inside_the_body_is_not_answered(served: tuple[Recorder, int]) -> None:
    app, port = served
    reply = raw_exchange(port, b"POST /cut HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc")
    assert reply == b""
    assert app.calls == []


def test_the_wsgi_environment_follows_pep_3333_and_keeps_the_raw_request() -> None:
    head = RequestHead(
        method="POST", target="/queue/us-east-1/000000000000/a%20b.fifo?x=1&y=%2F",
        version="HTTP/1.1", peer=("127.0.0.1", 50123),
        headers=[("Host", "127.0.0.1:4566"), ("X_Under", "dropped"), ("Content-Type", "application/x-amz-json-1.0"),
                 ("Content-Length", "2"), ("X-Amz-Target", "AmazonSQS.SendMessage"),
                 ("X-Dup", "a"), ("x-dup", "b")],
        content_length=2,
    )
    environ = wsgi_environ(head, b"{}", ("127.0.0.1", 4566))
    assert environ["REQUEST_METHOD"] == "POST"
    assert environ["SCRIPT_NAME"] == ""
    assert environ["PATH_INFO"] == "/queue/us-east-1/000000000000/a b.fifo"  # decoded
    assert environ["QUERY_STRING"] == "x=1&y=%2F"  # as sent
    assert environ["RAW_URI"] == head.target
    assert environ["CONTENT_TYPE"] == "application/x-amz-json-1.0"
    assert environ["CONTENT_LENGTH"] == "2"
    assert "HTTP_CONTENT_TYPE" not in environ and "HTTP_CONTENT_LENGTH" not in environ
    assert environ["HTTP_HOST"] == "127.0.0.1:4566"
    assert environ["HTTP_X_AMZ_TARGET"] == "AmazonSQS.SendMessage"
    assert environ["HTTP_X_DUP"] == "a,b"  # repeated fields joined, as RFC 9110 allows
    assert environ["asgi.headers"][4] == (b"X-Amz-Target", b"AmazonSQS.SendMessage")
    assert "HTTP_X_UNDER" not in environ  # as werkzeug: X_Under and X-Under would collide
    assert (environ["REMOTE_ADDR"], environ["REMOTE_PORT"]) == ("127.0.0.1", "50123")
    assert environ["wsgi.input"].read() == b"{}"
    assert (environ["SERVER_NAME"], environ["SERVER_PORT"]) == ("127.0.0.1", "4566")


def test_every_response_is_dated_and_a_204_has_neither_length_nor_body(
    served: tuple[Recorder, int],
) -> None:
    _, port = served
    reply = raw_exchange(port, b"GET /empty HTTP/1.1\r\nHost: x\r\n\r\n"
                               b"GET /q HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    first, _, second = reply.partition(b"HTTP/1.1 201 ")
    assert first.startswith(b"HTTP/1.1 204 ") and first.endswith(b"\r\n\r\n")
    assert b"Content-Length" not in first
    assert re.search(rb"\r\nDate: \w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} GMT\r\n", first)
    assert b"\r\nDate: " in second and second.endswith(b"echo:")


def test_an_empty_line_before_a_request_is_ignored(served: tuple[Recorder, int]) -> None:
    app, port = served
    reply = raw_exchange(port, b"\r\nGET /q HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert reply.startswith(b"HTTP/1.1 201 ")
    assert [target for _, target, _ in app.calls] == ["/q"]


def test_expect_100_continue_is_ignored_in_http_1_0(served: tuple[Recorder, int]) -> None:
    _, port = served
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(b"PUT /c HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n")
        sock.settimeout(0.5)
        with pytest.raises(TimeoutError):
            sock.recv(65536)  # no interim response: the server waits for the body
        sock.settimeout(5)
        sock.sendall(b"xyz")
        reply = sock.recv(65536)
    assert reply.startswith(b"HTTP/1.1 201 ") and reply.endswith(b"echo:xyz")


def test_after_refusing_a_request_the_server_drains_the_rest_instead_of_resetting(
    served: tuple[Recorder, int],
) -> None:
    """RFC 9112 section 9.6: closing with unread bytes would reset the connection, and a reset
    can destroy the answer before the client reads it. The server stops sending, then reads
    and drops what the client still sends for a moment, so the client's sends succeed and it
    sees an orderly close."""
    _, port = served
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
        reply = sock.recv(65536)
        assert reply.startswith(b"HTTP/1.1 501 ")
        for _ in range(3):  # the rest of the body the client was sending
            time.sleep(0.05)
            sock.sendall(b"f" * 100_000)
        reply = read_until_closed(sock, reply)
    assert reply.count(b"HTTP/1.1 ") == 1


def test_an_idle_connection_is_closed_after_the_idle_timeout() -> None:
    with serving(Recorder(), idle_timeout_s=0.3) as server, \
            socket.create_connection(server.server_address, timeout=5) as sock:
        started = time.monotonic()
        assert sock.recv(1) == b""  # closed by the server, not by the 5 s client timeout
        assert 0.25 <= time.monotonic() - started < 3


def test_a_connection_held_open_does_not_hold_up_the_shutdown() -> None:
    server = ThreadPerConnectionServer(("127.0.0.1", 0), Recorder())
    thread = start(server)
    with socket.create_connection(server.server_address, timeout=5) as sock:
        sock.sendall(b"GET /q HTTP/1.1\r\nHost: x\r\n\r\n")
        assert sock.recv(65536).startswith(b"HTTP/1.1 201 ")  # kept alive, now idle
        started = time.monotonic()
        server.shutdown()
        server.server_close()
        thread.join(timeout=3)
        assert not thread.is_alive()
        assert time.monotonic() - started < 2
