"""The client's history: what the load generator tried and what the service acknowledged.

The log is JSON Lines, one object per line, each with a `type`:

- `order`: an order the client started (before its first request is sent):
  `key`, `client_order_id`, `account`, `principal`, `t`.
- `attempt`: one HTTP request: `key`, `n` (1-based attempt number), `t` (send time),
  `latency_ms`, `status` (HTTP status or null), `error` (null, `timeout`, `connect`, ...),
  `retry_after` (seconds, when the response carried one).
- `ack`: the service acknowledged the order (a 2xx with an order id): `key`, `order_id`,
  `client_order_id`, `account`, `principal`, `t`, `status`, `replayed`.
- `gave_up`: the client stopped retrying (attempt or time budget spent): `key`, `reason`.
- `rejected`: a non-retryable answer (4xx other than 409/429): `key`, `status`, `detail`.

Times (`t`) are ISO 8601 UTC with microseconds and an explicit offset.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any


def utc_now() -> datetime:
    return datetime.now(UTC)


def to_iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="microseconds")


def from_iso(text: str) -> float:
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        raise ValueError(f"timestamp without a timezone: {text!r}")
    return parsed.timestamp()


@dataclass(frozen=True)
class OrderIntent:
    key: str
    client_order_id: str
    account: str
    principal: str
    t: float


@dataclass(frozen=True)
class Attempt:
    key: str
    n: int
    t: float  # send time, epoch seconds (UTC)
    latency_s: float
    status: int | None  # None when no HTTP response arrived
    error: str | None = None
    retry_after: float | None = None

    @property
    def end(self) -> float:
        return self.t + self.latency_s

    @property
    def ok(self) -> bool:
        """A successful request: any 2xx (a first 201 or an idempotent replay)."""
        return self.status is not None and 200 <= self.status < 300

    @property
    def latency_ms(self) -> float:
        return self.latency_s * 1000.0


@dataclass(frozen=True)
class Ack:
    key: str
    order_id: str
    client_order_id: str
    account: str
    principal: str
    t: float
    status: int = 201
    replayed: bool = False


@dataclass(frozen=True)
class Outcome:
    """A `gave_up` or `rejected` record: an order the client never saw acknowledged."""

    kind: str  # "gave_up" | "rejected"
    key: str
    t: float
    reason: str
    status: int | None = None


@dataclass
class History:
    """Everything one load run recorded, in memory (also written to the JSONL log)."""

    orders: list[OrderIntent] = field(default_factory=list)
    attempts: list[Attempt] = field(default_factory=list)
    acks: list[Ack] = field(default_factory=list)
    outcomes: list[Outcome] = field(default_factory=list)

    @property
    def accounts(self) -> list[str]:
        return sorted({o.account for o in self.orders} | {a.account for a in self.acks})


def record_to_json(record: OrderIntent | Attempt | Ack | Outcome) -> dict[str, Any]:
    if isinstance(record, OrderIntent):
        return {
            "type": "order", "t": to_iso(record.t), "key": record.key,
            "client_order_id": record.client_order_id, "account": record.account,
            "principal": record.principal,
        }
    if isinstance(record, Attempt):
        return {
            "type": "attempt", "t": to_iso(record.t), "key": record.key, "n": record.n,
            "status": record.status, "latency_ms": round(record.latency_ms, 3),
            "error": record.error, "retry_after": record.retry_after,
        }
    if isinstance(record, Ack):
        return {
            "type": "ack", "t": to_iso(record.t), "key": record.key,
            "order_id": record.order_id, "client_order_id": record.client_order_id,
            "account": record.account, "principal": record.principal,
            "status": record.status, "replayed": record.replayed,
        }
    return {
        "type": record.kind, "t": to_iso(record.t), "key": record.key,
        "reason": record.reason, "status": record.status,
    }


class LogWriter:
    """Append-only JSONL writer; flushes every `flush_every` records and on close."""

    def __init__(self, path: Path, flush_every: int = 200) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._fh: IO[str] = path.open("a", encoding="utf-8")
        self._pending = 0
        self._flush_every = flush_every

    def write(self, record: OrderIntent | Attempt | Ack | Outcome) -> None:
        self._fh.write(json.dumps(record_to_json(record), separators=(",", ":")) + "\n")
        self._pending += 1
        if self._pending >= self._flush_every:
            self.flush()

    def flush(self) -> None:
        self._fh.flush()
        self._pending = 0

    def close(self) -> None:
        if not self._fh.closed:
            self._fh.flush()
            self._fh.close()


def parse_record(obj: dict[str, Any]) -> OrderIntent | Attempt | Ack | Outcome:
    kind = obj["type"]
    t = from_iso(obj["t"])
    if kind == "order":
        return OrderIntent(obj["key"], obj["client_order_id"], obj["account"], obj["principal"], t)
    if kind == "attempt":
        return Attempt(
            key=obj["key"], n=int(obj["n"]), t=t, latency_s=float(obj["latency_ms"]) / 1000.0,
            status=obj.get("status"), error=obj.get("error"), retry_after=obj.get("retry_after"),
        )
    if kind == "ack":
        return Ack(
            key=obj["key"], order_id=obj["order_id"], client_order_id=obj["client_order_id"],
            account=obj["account"], principal=obj["principal"], t=t,
            status=int(obj.get("status", 201)), replayed=bool(obj.get("replayed", False)),
        )
    if kind in ("gave_up", "rejected"):
        return Outcome(kind, obj["key"], t, obj.get("reason", ""), obj.get("status"))
    raise ValueError(f"unknown record type {kind!r}")


def iter_log(path: Path) -> Iterator[OrderIntent | Attempt | Ack | Outcome]:
    with path.open(encoding="utf-8") as fh:
        for line_no, raw in enumerate(fh, 1):
            text = raw.strip()
            if not text:
                continue
            try:
                yield parse_record(json.loads(text))
            except (ValueError, KeyError) as exc:
                raise ValueError(f"{path}:{line_no}: bad client-log record: {exc}") from exc


def read_history(paths: Path | Iterable[Path]) -> History:
    history = History()
    for path in [paths] if isinstance(paths, Path) else list(paths):
        for record in iter_log(path):
            if isinstance(record, OrderIntent):
                history.orders.append(record)
            elif isinstance(record, Attempt):
                history.attempts.append(record)
            elif isinstance(record, Ack):
                history.acks.append(record)
            else:
                history.outcomes.append(record)
    return history
