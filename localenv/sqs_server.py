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
  drills' queue pattern, the process spent 3.1-3.3 s of CPU on twisted and 2.0 s here.
  The server binds GATEWAY_LISTEN's host only (twisted bound every interface).
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
import signal
import socket
import socketserver
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import unquote_to_bytes

MAX_LINE_BYTES = 65_536
MAX_HEADERS = 100
MAX_BODY_BYTES = 16 * 1024 * 1024  # an SQS request is at most 1 MiB of payload
IDLE_TIMEOUT_S = 300.0  # a kept-alive connection with no request for this long is closed
DEDUP_PRUNE_INTERVAL_S = 10.0


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


class Reader(Protocol):
    """The buffered reading side of a connection (a socket's makefile("rb"), or BytesIO)."""

    def readline(self, size: int = -1, /) -> bytes: ...
    def read(self, size: int = -1, /) -> bytes: ...


# (head, body) -> (status line text such as "200 OK", headers, body)
Application = Callable[[RequestHead, bytes], tuple[str, list[tuple[str, str]], bytes]]


def read_request_head(rfile: Reader) -> RequestHead | None:
    """The request line and headers, or None when the client closed the connection between
    requests. Raises HttpError for anything this server does not take."""
    line = rfile.readline(MAX_LINE_BYTES + 1)
    if not line:
        return None
    if len(line) > MAX_LINE_BYTES:
        raise HttpError(414, "URI Too Long")
    parts = line.decode("latin-1").rstrip("\r\n").split(" ")
    if len(parts) != 3 or parts[2] not in ("HTTP/1.1", "HTTP/1.0") or not parts[1]:
        raise HttpError(400, "Bad Request")
    head = RequestHead(method=parts[0], target=parts[1], version=parts[2])
    head.keep_alive = head.version == "HTTP/1.1"
    lengths = {value for name, value in _read_headers(rfile, head) if name == "content-length"}
    if len(lengths) > 1 or any(not v.isdigit() for v in lengths):
        raise HttpError(400, "Bad Request")
    head.content_length = int(lengths.pop()) if lengths else 0
    if head.content_length > MAX_BODY_BYTES:
        raise HttpError(413, "Content Too Large")
    return head


def _read_headers(rfile: Reader, head: RequestHead) -> Iterator[tuple[str, str]]:
    """Append each header to `head.headers`, note the ones that change how the request is
    read or answered, and yield (lower-case name, value)."""
    while True:
        raw = rfile.readline(MAX_LINE_BYTES + 1)
        if len(raw) > MAX_LINE_BYTES:
            raise HttpError(431, "Request Header Fields Too Large")
        if raw in (b"\r\n", b"\n"):
            return
        if not raw:
            raise HttpError(400, "Bad Request")  # closed inside the head
        if len(head.headers) >= MAX_HEADERS:
            raise HttpError(431, "Request Header Fields Too Large")
        name, colon, value = raw.decode("latin-1").partition(":")
        if not colon or not name or name != name.strip():
            raise HttpError(400, "Bad Request")
        value, lower = value.strip(), name.lower()
        head.headers.append((name, value))
        if lower == "transfer-encoding":
            raise HttpError(501, "Not Implemented")  # SQS clients send Content-Length
        if lower == "connection" and "close" in value.lower():
            head.keep_alive = False
        if lower == "expect" and value.lower() == "100-continue":
            head.expect_continue = True
        yield lower, value


def render_response(
    status: str, headers: list[tuple[str, str]], body: bytes, *, keep_alive: bool, head_only: bool
) -> bytes:
    """One HTTP/1.1 response with its own Content-Length (the application's framing headers
    are dropped: this server frames every response itself)."""
    lines = [f"HTTP/1.1 {status}\r\n"]
    for name, value in headers:
        if name.lower() not in ("content-length", "connection", "transfer-encoding"):
            lines.append(f"{name}: {value}\r\n")
    lines.append(f"Content-Length: {len(body)}\r\n")
    if not keep_alive:
        lines.append("Connection: close\r\n")
    lines.append("\r\n")
    return "".join(lines).encode("latin-1") + (b"" if head_only else body)


def _error_response(status: int, reason: str) -> bytes:
    body = f"{status} {reason}\n".encode()
    return render_response(f"{status} {reason}", [("Content-Type", "text/plain")], body,
                           keep_alive=False, head_only=False)


def serve_connection(rfile: Reader, send: Callable[[bytes], Any], app: Application) -> None:
    """Answer the requests of one connection in order until the client closes it, asks to
    close it, or sends a request this server refuses. An application that raises gets a 500
    and the connection is closed."""
    while True:
        try:
            head = read_request_head(rfile)
            if head is None:
                return
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


class _Handler(socketserver.StreamRequestHandler):
    app: Application
    timeout = IDLE_TIMEOUT_S

    def handle(self) -> None:
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with contextlib.suppress(OSError):  # reset by the client, or idle past IDLE_TIMEOUT_S
            serve_connection(self.rfile, self.connection.sendall, self.app)


class ThreadPerConnectionServer(socketserver.ThreadingTCPServer):
    daemon_threads = True  # a client holding a connection open must not block the shutdown
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], app: Application) -> None:
        handler = type("Handler", (_Handler,), {"app": staticmethod(app)})
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
        gateway.process(request, response)
        return response.status, list(response.headers.items()), response.get_data()

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
