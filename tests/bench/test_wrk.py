"""The wrk side: the Lua script run by the real wrk binary against a recording loopback
server, and the parsing of what wrk prints."""

from __future__ import annotations

import json
import shutil
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from bench import wrk

# Captured from a real run of the generated script (wrk 4.1.0).
REAL_OUTPUT = """\
Running 5s test @ http://127.0.0.1:43973/v1/orders
  2 threads and 16 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    97.58ms   64.83ms 553.48ms   74.06%
    Req/Sec    85.57     23.17   170.00     69.00%
  857 requests in 5.02s, 507.48KB read
Requests/sec:    170.80
Transfer/sec:    101.14KB
BENCH_JSON {"requests": 857, "duration_us": 5017620, "mean_us": 97575, "max_us": 553478, \
"p50": 88773, "p90": 175449, "p99": 317777, "p99.9": 553478, "socket_errors": {"connect": 0, \
"read": 2, "write": 0, "timeout": 1}, "statuses": {"201": 850, "409": 4, "503": 3}}
"""


def test_parse_output_reads_the_result_line_in_milliseconds() -> None:
    result = wrk.parse_output(REAL_OUTPUT)
    assert result.requests == 857
    assert result.duration_s == pytest.approx(5.01762)
    assert result.latency_ms["p50"] == pytest.approx(88.773)
    assert result.latency_ms["p99"] == pytest.approx(317.777)
    assert result.latency_ms["p99_9"] == pytest.approx(553.478)
    assert result.latency_ms["max"] == pytest.approx(553.478)
    assert result.count(201) == 850
    assert result.rate(201) == pytest.approx(850 / 5.01762)
    assert result.errors_by_status(201) == {
        "409": 4, "503": 3, "socket_read": 2, "socket_timeout": 1,
    }


def test_parse_output_without_a_result_line_says_so() -> None:
    with pytest.raises(wrk.WrkOutputError, match="no BENCH_JSON line"):
        wrk.parse_output("PANIC: unprotected error in call to Lua API\n")


def test_rate_of_an_empty_run_is_zero() -> None:
    empty = wrk.WrkResult(requests=0, duration_s=0.0, latency_ms={}, statuses={})
    assert empty.rate() == 0.0
    assert empty.errors_by_status() == {}


def test_slot_interval_spreads_the_target_over_threads() -> None:
    assert wrk.slot_interval_ms(2, 100.0) == pytest.approx(20.0)
    assert wrk.slot_interval_ms(1, 250.0) == pytest.approx(4.0)
    with pytest.raises(ValueError):
        wrk.slot_interval_ms(2, 0)


def test_script_holds_one_valid_order_per_account_and_no_token() -> None:
    accounts = wrk.account_names(16)
    script = wrk.lua_script(accounts)
    assert accounts[0] == "BENCH-0" and len(set(accounts)) == 16
    for account in accounts:
        assert f'\\"account_id\\":\\"{account}\\"' in script
    assert "delay()" not in script
    assert 'os.getenv("BENCH_TOKEN")' in script
    with pytest.raises(ValueError):
        wrk.lua_script([])


def test_paced_script_defines_delay_with_the_interval() -> None:
    script = wrk.lua_script(["A-1"], interval_ms=12.5)
    assert "function delay()" in script
    assert "local interval = 12.500" in script


class Recorder(BaseHTTPRequestHandler):
    requests: list[dict[str, Any]]
    lock = threading.Lock()

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        with self.lock:
            self.requests.append({
                "path": self.path,
                "key": self.headers["Idempotency-Key"],
                "auth": self.headers["Authorization"],
                "type": self.headers["Content-Type"],
                "body": json.loads(body),
            })
            status = 409 if len(self.requests) % 10 == 0 else 201
        self.send_response(status)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def recorder() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    if shutil.which("wrk") is None:
        pytest.fail("wrk is not installed: bash scripts/install-system-deps.sh")
    seen: list[dict[str, Any]] = []
    handler = type("Handler", (Recorder,), {"requests": seen})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1/orders", seen
    finally:
        server.shutdown()
        server.server_close()


def test_real_wrk_sends_fresh_keys_over_every_account(
    recorder: tuple[str, list[dict[str, Any]]], tmp_path: Path
) -> None:
    url, seen = recorder
    accounts = wrk.account_names(4)
    result = wrk.run_wrk(url, wrk.lua_script(accounts), token="t0ken", work_dir=tmp_path,
                         duration_s=1, connections=4, threads=2)
    assert len(seen) >= 20
    keys = [r["key"] for r in seen]
    assert len(set(keys)) == len(keys), "an Idempotency-Key was reused"
    assert all(8 <= len(k) <= 128 for k in keys)
    assert {r["auth"] for r in seen} == {"Bearer t0ken"}
    assert {r["path"] for r in seen} == {"/v1/orders"}
    assert {r["body"]["account_id"] for r in seen} == set(accounts)
    assert all(r["body"]["quantity"] == "10" and r["type"] == "application/json" for r in seen)
    # The counts come back from every thread through done().
    assert result.count(201) + result.count(409) == result.requests
    assert result.count(409) >= 1
    assert result.requests <= len(seen)


def test_real_wrk_paced_never_exceeds_its_slots(
    recorder: tuple[str, list[dict[str, Any]]], tmp_path: Path
) -> None:
    url, seen = recorder
    script = wrk.lua_script(["A-1"], interval_ms=wrk.slot_interval_ms(2, 20.0))
    result = wrk.run_wrk(url, script, token="t", work_dir=tmp_path, duration_s=2,
                         connections=4, threads=2)
    # wrk sends each connection's first request at once, then one per slot: at 20/s over
    # the run that is 4 + 2 + 20 x duration at most; a closed loop would do hundreds.
    assert 0 < len(seen) <= 4 + 2 + 20 * result.duration_s * 1.02
    assert result.requests <= len(seen)
