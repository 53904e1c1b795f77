"""Per-second series and the arithmetic behind the report's SLO and recovery figures.

Definitions (the report and chaos/drill/README.md quote these):

- A *request* is one HTTP attempt (a retry is a new request). It *succeeded* when the
  service answered 2xx (201, or a 2xx idempotent replay); anything else failed: 409, 429,
  any other 4xx, 5xx, a client timeout, a connection error.
- Percentiles use the nearest-rank method: P(q) is the smallest latency such that at least
  q % of the requests took no longer. Latencies are measured by the client, send to the
  end of the response (or to the timeout / error).
- Per-second series bucket requests by completion time (send time + latency) in whole
  seconds since the load started: requests, failed requests, acknowledged orders
  (bucketed by acknowledgement time), P50 / P99 latency.
- Windows select requests by completion time in [start, end).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from chaos.drill.records import Ack, Attempt


def percentile(values: Sequence[float], q: float) -> float | None:
    """Nearest-rank percentile (q in 0..100); None for an empty sample."""
    if not values:
        return None
    if not 0 < q <= 100:
        raise ValueError("q must be in (0, 100]")
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100.0 * len(ordered)))
    return ordered[rank - 1]


@dataclass(frozen=True)
class WindowStats:
    start: float
    end: float
    requests: int
    succeeded: int
    p50_ms: float | None
    p99_ms: float | None

    @property
    def failed(self) -> int:
        return self.requests - self.succeeded

    @property
    def availability(self) -> float | None:
        """Succeeded requests / all requests completed in the window (None when none)."""
        if self.requests == 0:
            return None
        return self.succeeded / self.requests


def window(attempts: Iterable[Attempt], start: float, end: float) -> WindowStats:
    """Requests that completed in [start, end)."""
    selected = [a for a in attempts if start <= a.end < end]
    latencies = [a.latency_ms for a in selected]
    return WindowStats(
        start=start,
        end=end,
        requests=len(selected),
        succeeded=sum(1 for a in selected if a.ok),
        p50_ms=percentile(latencies, 50),
        p99_ms=percentile(latencies, 99),
    )


@dataclass(frozen=True)
class Bucket:
    second: int  # whole seconds since the series origin
    requests: int
    failed: int
    acks: int
    p50_ms: float | None
    p99_ms: float | None


def per_second(
    attempts: Sequence[Attempt], acks: Sequence[Ack], origin: float, end: float
) -> list[Bucket]:
    """One bucket per second in [origin, end): requests by completion, acks by ack time."""
    count = max(0, math.ceil(end - origin))
    latencies: list[list[float]] = [[] for _ in range(count)]
    failed = [0] * count
    acked = [0] * count
    for attempt in attempts:
        index = math.floor(attempt.end - origin)
        if 0 <= index < count:
            latencies[index].append(attempt.latency_ms)
            if not attempt.ok:
                failed[index] += 1
    for ack in acks:
        index = math.floor(ack.t - origin)
        if 0 <= index < count:
            acked[index] += 1
    return [
        Bucket(
            second=i,
            requests=len(latencies[i]),
            failed=failed[i],
            acks=acked[i],
            p50_ms=percentile(latencies[i], 50),
            p99_ms=percentile(latencies[i], 99),
        )
        for i in range(count)
    ]


def recovered_at(
    attempts: Sequence[Attempt], fault_at: float, observed_until: float, min_clean_s: float = 5.0
) -> float | None:
    """The moment clients saw the service healthy again, for good.

    The earliest send time t >= fault_at of a request such that every request sent in
    [t, observed_until) succeeded, provided at least `min_clean_s` of clean traffic follows
    (t <= observed_until - min_clean_s). None when the service had not recovered by then.
    When the fault caused no failed request at all this is the first request after the
    fault, i.e. about fault_at.
    """
    sent = sorted((a for a in attempts if fault_at <= a.t < observed_until), key=lambda a: a.t)
    last_failed = -1
    for index, attempt in enumerate(sent):
        if not attempt.ok:
            last_failed = index
    if last_failed + 1 >= len(sent):
        return None
    candidate = sent[last_failed + 1].t
    if candidate > observed_until - min_clean_s:
        return None
    return candidate


def error_window(
    attempts: Sequence[Attempt], fault_at: float, observed_until: float
) -> tuple[float, float | None, float | None]:
    """(seconds, first, last): from the send time of the first failed request to the
    completion of the last failed request, over failed requests that completed at or after
    fault_at and were sent before observed_until. (0.0, None, None) when none failed."""
    failed = [a for a in attempts if not a.ok and a.end >= fault_at and a.t < observed_until]
    if not failed:
        return 0.0, None, None
    first = min(a.t for a in failed)
    last = max(a.end for a in failed)
    return last - first, first, last

