"""The SQS endpoint's server process: LocalStack's SQS provider behind a lean HTTP/1.1 server.

`localenv/sqs.py` runs this file as a script under `.venv-sqs` (LocalStack needs Python >= 3.13;
the project runs on 3.11). Before handing over to LocalStack's own main it changes two things
in LocalStack 2026.3.0:

- **The HTTP server.** LocalStack's gateways cost about 2 ms of CPU per SQS call on this
  machine: twisted's reactor hands every request to a WSGI thread and every write back to the
  reactor; hypercorn bridges asyncio to a WSGI thread and back; werkzeug's development server
  closes the connection after every response. Here each client connection gets one thread that
  reads a request, runs LocalStack's gateway (its handler chain: AWS protocol parsing, the SQS
  provider, serialisation) and writes the response, keeping the connection open. The SQS
  semantics stay LocalStack's. In `python -m bench.sqs_endpoint`, 6,000 messages on the
  drills' queue pattern, the process spent 3.1-3.3 s of CPU on twisted and 1.8-2.0 s here.
  The server binds GATEWAY_LISTEN's host only (twisted bound every interface). It frames
  requests as RFC 9112 says and refuses, with a status and a closed connection, what SQS
  clients never send (chunked bodies, among others).
- **The FIFO deduplication index** is bounded to SQS's 5-minute window (LocalStack keeps every
  FIFO message there forever, ~2 KB each).

The HTTP layer is plain functions over file objects so the project's tests exercise it under
the project's Python with a stand-in application (`tests/localenv/test_sqs_server_http.py`);
LocalStack is imported only when the server starts.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import signal
import socket
import socketserver
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.utils import formatdate
from typing import Any, Protocol
from urllib.parse import unquote_to_bytes

MAX_LINE_BYTES = 65_536
MAX_HEADERS = 100
MAX_BODY_BYTES = 16 * 1024 * 1024  # an SQS request is at most 1 MiB of payload
IDLE_TIMEOUT_S = 300.0  # a kept-alive connection with no request for this long is closed
LINGER_S = 1.0  # after the last response, how long unread request bytes are drained
LISTEN_BACKLOG = 128  # every client reconnects at once after a drill thaws a frozen endpoint
DEDUP_PRUNE_INTERVAL_S = 10.0

_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")  # RFC 9110 section 5.6.2
_LENGTH = re.compile(r"[0-9]{1,10}")


class HttpError(Exception):
    """A request this server refuses: answered with `status` and the connection closed."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(f"{status} {reason}")
        self.status, self.reason = status, reason


@dataclass
class RequestHead:
    method: str
    target: str
    version: str
    headers: list[tuple[str, str]] = field(default_factory=list)
    content_length: int = 0
    keep_alive: bool = True
    expect_continue: bool = False
    peer: tuple[str, int] = ("", 0)


class Reader(Protocol):
    """The buffered reading side of a connection (a socket's makefile("rb"), or BytesIO)."""

    def readline(self, size: int = -1, /) -> bytes: ...
    def read(self, size: int = -1, /) -> bytes: ...


# (head, body) -> (status line text such as "200 OK", headers, body)
Application = Callable[[RequestHead, bytes], tuple[str, list[tuple[str, str]], bytes]]


def _line(rfile: Reader, status: int, reason: str) -> str:
    """One line of the head; a longer one is refused with `status`."""
    raw = rfile.readline(MAX_LINE_BYTES + 1)
    if len(raw) > MAX_LINE_BYTES:
        raise HttpError(status, reason)
    return raw.decode("latin-1")


def read_request_head(rfile: Reader) -> RequestHead | None:
    """The request line and headers (RFC 9112), or None when the client closed the connection
    between requests. Raises HttpError for anything this server does not take."""
    line = _line(rfile, 414, "URI Too Long")
    if line in ("\r\n", "\n"):  # section 2.2: an empty line before a request is ignored
        line = _line(rfile, 414, "URI Too Long")
    if not line:
        return None
    parts = line.rstrip("\r\n").split(" ")
    if len(parts) != 3 or parts[2] not in ("HTTP/1.1", "HTTP/1.0") or not parts[1] \
            or not _TOKEN.fullmatch(parts[0]):
        raise HttpError(400, "Bad Request")
    head = RequestHead(method=parts[0], target=parts[1], version=parts[2])
    head.keep_alive = head.version == "HTTP/1.1"
    lengths, hosts = set(), 0
    for name, value in _read_headers(rfile, head):
        if name == "content-length":
            lengths.add(value)
        hosts += name == "host"
    # Section 3.2: exactly one Host in HTTP/1.1; section 6.3: one valid Content-Length.
    if hosts > 1 or (hosts == 0 and head.version == "HTTP/1.1") or len(lengths) > 1 \
            or not all(_LENGTH.fullmatch(v) for v in lengths):
        raise HttpError(400, "Bad Request")
    head.content_length = int(lengths.pop()) if lengths else 0
    if head.content_length > MAX_BODY_BYTES:
        raise HttpError(413, "Content Too Large")
    return head


def _read_headers(rfile: Reader, head: RequestHead) -> Iterator[tuple[str, str]]:
    """Append each header to `head.headers`, note the ones that change how the request is
    read or answered, and yield (lower-case name, value)."""
    too_large = 431, "Request Header Fields Too Large"
    while True:
        line = _line(rfile, *too_large)
        if line in ("\r\n", "\n"):
            return
        if not line:
            raise HttpError(400, "Bad Request")  # closed inside the head
        if len(head.headers) >= MAX_HEADERS:
            raise HttpError(*too_large)
        name, colon, value = line.removesuffix("\n").removesuffix("\r").partition(":")
        # A name must be a token: no space before the colon, no obs-fold continuation line.
        if not colon or not _TOKEN.fullmatch(name) or "\r" in value:
            raise HttpError(400, "Bad Request")
        value, lower = value.strip(" \t"), name.lower()
        head.headers.append((name, value))
        if lower == "transfer-encoding":
            raise HttpError(501, "Not Implemented")  # SQS clients send Content-Length
        if lower == "connection" and "close" in value.lower():
            head.keep_alive = False
        if lower == "expect" and value.lower() == "100-continue" and head.version == "HTTP/1.1":
            head.expect_continue = True
        yield lower, value


def render_response(
    status: str, headers: list[tuple[str, str]], body: bytes, *, keep_alive: bool, head_only: bool
) -> bytes:
    """One HTTP/1.1 response framed by this server: the application's framing headers are
    dropped, Content-Length is its own, and a 1xx, 204 or 304 carries neither a length nor a
    body (RFC 9110 sections 8.6 and 6.4.1)."""
    lines = [f"HTTP/1.1 {status}\r\n"]
    dated = False
    for name, value in headers:
        lower = name.lower()
        if lower not in ("content-length", "connection", "transfer-encoding"):
            lines.append(f"{name}: {value}\r\n")
            dated = dated or lower == "date"
    if not dated:  # RFC 9110 section 6.6.1
        lines.append(f"Date: {formatdate(usegmt=True)}\r\n")
    code = int(status[:3])
    bodiless = code < 200 or code in (204, 304)
    if not bodiless:
        lines.append(f"Content-Length: {len(body)}\r\n")
    if not keep_alive:
        lines.append("Connection: close\r\n")
    lines.append("\r\n")
    return "".join(lines).encode("latin-1") + (b"" if head_only or bodiless else body)


def _error_response(status: int, reason: str) -> bytes:
    body = f"{status} {reason}\n".encode()
    return render_response(f"{status} {reason}", [("Content-Type", "text/plain")], body,
                           keep_alive=False, head_only=False)


def serve_connection(
    rfile: Reader, send: Callable[[bytes], Any], app: Application, peer: tuple[str, int] = ("", 0)
) -> None:
    """Answer the requests of one connection in order until the client closes it, asks to
    close it, or sends a request this server refuses. An application that raises gets a 500
    and the connection is closed."""
    while True:
        try:
            head = read_request_head(rfile)
            if head is None:
                return
            head.peer = peer
            if head.expect_continue and head.content_length:
                send(b"HTTP/1.1 100 Continue\r\n\r\n")
            body = rfile.read(head.content_length) if head.content_length else b""
            if len(body) != head.content_length:
                return  # the client closed inside the body: nobody to answer
        except HttpError as refused:
            send(_error_response(refused.status, refused.reason))
            return
        try:
            status, headers, payload = app(head, body)
        except Exception as exc:  # the gateway's own handlers answer errors: this is a bug
            print(f"sqs-endpoint: {head.method} {head.target}: {exc!r}", file=sys.stderr)
            send(_error_response(500, "Internal Server Error"))
            return
        send(render_response(status, headers, payload, keep_alive=head.keep_alive,
                             head_only=head.method == "HEAD"))
        if not head.keep_alive:
            return


def _linger(sock: socket.socket) -> None:
    """Close politely (RFC 9112 section 9.6): stop sending, then read and drop what the client
    still sends for a moment, so that closing with unread bytes does not reset the connection
    before the client has read the last response."""
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_WR)
        sock.settimeout(LINGER_S)
        deadline, drained = time.monotonic() + LINGER_S, 0
        while time.monotonic() < deadline and drained <= MAX_BODY_BYTES:
            chunk = sock.recv(65_536)
            if not chunk:
                return
            drained += len(chunk)


class _Handler(socketserver.StreamRequestHandler):
    app: Application

    def handle(self) -> None:
        sock = self.connection
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with contextlib.suppress(OSError):  # reset by the client, or idle past the timeout
            serve_connection(self.rfile, sock.sendall, self.app, self.client_address)
        _linger(sock)


class ThreadPerConnectionServer(socketserver.ThreadingTCPServer):
    daemon_threads = True  # a client holding a connection open must not block the shutdown
    allow_reuse_address = True
    request_queue_size = LISTEN_BACKLOG

    def __init__(
        self, address: tuple[str, int], app: Application, *, idle_timeout_s: float = IDLE_TIMEOUT_S
    ) -> None:
        handler = type("Handler", (_Handler,), {"app": staticmethod(app),
                                                "timeout": idle_timeout_s})
        super().__init__(address, handler)


# -- inside LocalStack ------------------------------------------------------------------------
def wsgi_environ(head: RequestHead, body: bytes, server_address: tuple[str, int]) -> dict[str, Any]:
    """The WSGI environment (PEP 3333) of a request, as LocalStack's own WSGI path receives it
    from its servers: the raw target in RAW_URI and the headers as sent in "asgi.headers"."""
    path, _, query = head.target.partition("?")
    environ: dict[str, Any] = {
        "REQUEST_METHOD": head.method,
        "SCRIPT_NAME": "",
        "PATH_INFO": unquote_to_bytes(path).decode("latin-1"),
        "QUERY_STRING": query,
        "RAW_URI": head.target,
        "REQUEST_URI": head.target,
        "SERVER_NAME": server_address[0],
        "SERVER_PORT": str(server_address[1]),
        "SERVER_PROTOCOL": head.version,
        "REMOTE_ADDR": head.peer[0],
        "REMOTE_PORT": str(head.peer[1]),
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
        "wsgi.input_terminated": True,
        "asgi.headers": [(n.encode("latin-1"), v.encode("latin-1")) for n, v in head.headers],
    }
    for name, value in head.headers:
        if "_" in name:  # as werkzeug: HTTP_X_A would not tell X-A from X_A
            continue
        key = name.upper().replace("-", "_")
        if key == "CONTENT_LENGTH":
            continue
        if key != "CONTENT_TYPE":
            key = "HTTP_" + key
        environ[key] = f"{environ[key]},{value}" if key in environ else value
    return environ


def gateway_application(gateway: Any, server_address: tuple[str, int]) -> Application:
    """Adapt LocalStack's gateway (rolo) to `Application`, building its request the way
    rolo's WsgiGateway does."""
    from rolo.response import Response
    from werkzeug.datastructures import Headers
    from werkzeug.wrappers import Request

    def app(head: RequestHead, body: bytes) -> tuple[str, list[tuple[str, str]], bytes]:
        request = Request(wsgi_environ(head, body, server_address))
        request.headers = Headers(head.headers)
        response = Response()
        try:
            gateway.process(request, response)
            return response.status, list(response.headers.items()), response.get_data()
        finally:
            response.close()  # its call_on_close callbacks, as WsgiGateway's caller runs them

    return app


def _use_thread_per_connection_server() -> None:
    """Make LocalStack's runtime serve its gateway through ThreadPerConnectionServer."""
    try:
        from localstack.runtime import components
        from localstack.runtime.server.core import RuntimeServer
    except ImportError as exc:  # another LocalStack than the pinned one
        raise SystemExit(f"sqs-endpoint: cannot install the HTTP server: {exc!r}") from exc

    class Runtime(RuntimeServer):
        def __init__(self) -> None:
            self.servers: list[ThreadPerConnectionServer] = []

        def register(self, gateway: Any, listen: Any, ssl_creds: Any = None) -> None:
            for address in listen:  # plain HTTP: the endpoint is on loopback only
                bound = (address.host, address.port)
                self.servers.append(
                    ThreadPerConnectionServer(bound, gateway_application(gateway, bound)))

        def run(self) -> None:
            if len(self.servers) != 1:
                raise SystemExit(f"sqs-endpoint: expected one listen address, got "
                                 f"{len(self.servers)}")
            self.servers[0].serve_forever()

        def shutdown(self) -> None:  # LocalStack calls it from a thread of its own
            for server in self.servers:
                server.shutdown()
                server.server_close()

    runtime = Runtime()
    components.BaseComponents.runtime_server = property(lambda self: runtime)


def _prune_dedup_index(index: dict[str, Any], cutoff: float) -> int:
    """Drop entries first sent at or before `cutoff`; they can no longer deduplicate anything."""
    removed = 0
    for key, message in list(index.items()):
        if message.priority <= cutoff and index.get(key) is message:
            index.pop(key, None)
            removed += 1
    return removed


def _bound_fifo_dedup_index() -> None:
    try:
        from localstack.services.sqs import constants, models

        fifo_queue = models.FifoQueue
        window = float(constants.DEDUPLICATION_INTERVAL_IN_SEC)
        original_put = fifo_queue.put
    except (ImportError, AttributeError) as exc:  # another LocalStack than the pinned one
        print(f"sqs-endpoint: FIFO dedup index left unbounded: {exc!r}", file=sys.stderr)
        return

    def put(self: Any, *args: Any, **kwargs: Any) -> Any:
        now = time.time()
        if now - getattr(self, "_dedup_pruned_at", 0.0) >= DEDUP_PRUNE_INTERVAL_S:
            self._dedup_pruned_at = now
            _prune_dedup_index(self.deduplication, now - window)
        return original_put(self, *args, **kwargs)

    fifo_queue.put = put


def _serve() -> None:
    import faulthandler

    faulthandler.register(signal.SIGUSR1)  # `kill -USR1 PID` dumps every thread to the log
    if not os.environ.get("GATEWAY_LISTEN"):
        raise SystemExit("sqs-endpoint: GATEWAY_LISTEN is not set")
    _bound_fifo_dedup_index()
    _use_thread_per_connection_server()
    from localstack.runtime.main import main

    main()


if __name__ == "__main__" and sys.argv[1:] == ["serve"]:
    _serve()
