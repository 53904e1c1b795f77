"""Small, fast health probes (short timeouts: they run in loops during failovers).

All synchronous so they work from any thread; async callers (the drill) should wrap the
Stack calls that use them in `asyncio.to_thread`.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import httpx
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry


def http_status(url: str, *, method: str = "GET", timeout: float = 1.0) -> int | None:
    try:
        return httpx.request(method, url, timeout=timeout).status_code
    except httpx.HTTPError:
        return None


def http_json(url: str, *, timeout: float = 1.0) -> Any:
    """The JSON body whatever the status (Patroni answers 503 with a useful body)."""
    try:
        response = httpx.get(url, timeout=timeout)
        return response.json()
    except (httpx.HTTPError, ValueError):
        return None


def redis_conn(port: int, timeout: float = 0.5, host: str = "127.0.0.1") -> redis.Redis:
    # redis-py >= 6 retries a refused connection 3 times with backoff by default (~5 s per
    # call here); a probe must answer at once.
    return redis.Redis(
        host=host, port=port, socket_timeout=timeout, socket_connect_timeout=timeout,
        retry=Retry(NoBackoff(), 0),
    )


def redis_info_replication(port: int, host: str = "127.0.0.1") -> dict[str, Any] | None:
    try:
        with redis_conn(port, host=host) as conn:
            info = conn.info("replication")
    except redis.RedisError:
        return None
    return dict(info)


def redis_ping(port: int, host: str = "127.0.0.1") -> bool:
    try:
        with redis_conn(port, host=host) as conn:
            return bool(conn.ping())
    except redis.RedisError:
        return False


def sentinel_primary_port(port: int, master: str, host: str = "127.0.0.1") -> int | None:
    """The primary this sentinel currently names, or None if it cannot be asked."""
    try:
        with redis_conn(port, host=host) as conn:
            addr = conn.execute_command("SENTINEL", "get-master-addr-by-name", master)
    except redis.RedisError:
        return None
    if not addr:
        return None
    return int(addr[1])


def psql(
    bin_dir: Path, dsn: str, sql: str, *, timeout: float = 3.0
) -> tuple[bool, str]:
    """Run one statement with psql; (ok, output or error). A process timeout also covers
    a commit stuck waiting for a synchronous standby."""
    try:
        out = subprocess.run(
            [str(bin_dir / "psql"), "-X", "-qAt", "-v", "ON_ERROR_STOP=1", "-d", dsn, "-c", sql],
            capture_output=True, text=True, timeout=timeout, check=False,
        )
    except subprocess.TimeoutExpired:
        return False, f"psql timed out after {timeout:.0f}s"
    if out.returncode != 0:
        return False, out.stderr.strip().splitlines()[-1] if out.stderr.strip() else "psql failed"
    return True, out.stdout.strip()
