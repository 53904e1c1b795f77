"""The Debian HAProxy with the local stack's exporter frontend, for tests that read what the
real binary exports."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from chaos.stack.drivers.haproxy import exporter_section
from localenv.procs import port_open

HAPROXY = "/usr/sbin/haproxy"


def write_config(path: Path, metrics_port: int, sections: list[str]) -> Path:
    """`sections` (defaults, frontends, backends) plus the stack's exporter frontend."""
    path.write_text("\n".join([*sections, *exporter_section(f"127.0.0.1:{metrics_port}"), ""]))
    return path


@contextmanager
def running(config: Path, metrics_port: int) -> Iterator[None]:
    """HAProxy on `config` until the block ends, once its exporter accepts connections."""
    haproxy = subprocess.Popen([HAPROXY, "-db", "-f", str(config)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while not port_open(metrics_port):
            assert haproxy.poll() is None and time.monotonic() < deadline, "HAProxy did not start"
            time.sleep(0.05)
        yield
    finally:
        haproxy.terminate()
        haproxy.wait(10)


def exported(metrics_port: int) -> str:
    return httpx.get(f"http://127.0.0.1:{metrics_port}/metrics", timeout=5).text
