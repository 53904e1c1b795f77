"""Load generator: concurrent API clients that behave like real ones, and log everything.

Each client places orders one after the other at a steady pace (the clients together reach
`rate` orders/s). An order gets a fresh Idempotency-Key and a unique client_order_id; its
request is retried with the *same* key on 409, 429, 5xx, timeouts and connection errors,
with capped exponential backoff and full jitter, honouring Retry-After, until it is
acknowledged or its attempt / time budget is spent. Other 4xx answers are not retried.

A client that falls behind (an order retrying through an outage) does not catch up with a
burst afterwards: its next order starts one interval after the previous one, or now.

Every attempt and every acknowledgement is kept in memory (`LoadGenerator.history`) and
appended to a JSONL log (see `chaos.drill.records`). The run stops by itself after
`duration_s` or `max_orders`, or when `stop()` is called; orders already started finish
their retries within `order_deadline_s`.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import random
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

import contract
from chaos.drill.records import (
    Ack,
    Attempt,
    History,
    LogWriter,
    OrderIntent,
    Outcome,
)
from service.auth import issue_token

ISSUER = contract.JWT_ISSUER_DEFAULT
AUDIENCE = contract.JWT_AUDIENCE_DEFAULT
RETRYABLE_STATUSES = frozenset({409, 429})
# Real ISINs (valid check digits), used round-robin.
INSTRUMENTS = ("US0378331005", "US5949181045", "DE0007164600", "IE00B4L5Y983", "NL0010273215")


def mint_token(
    secret: str,
    subject: str,
    accounts: Sequence[str],
    *,
    ttl_s: float = 3600.0,
    issuer: str = ISSUER,
    audience: str = AUDIENCE,
) -> str:
    """An HS256 bearer token as the service expects it: minted by the service's own issuer."""
    return issue_token(
        secret=secret,
        issuer=issuer,
        audience=audience,
        subject=subject,
        accounts=list(accounts),
        ttl_seconds=int(ttl_s),
    )


def read_secret(path: Path) -> str:
    """The JWT secret from a file (trailing newline stripped)."""
    secret = path.read_text(encoding="utf-8").strip("\r\n")
    if len(secret.encode()) < contract.JWT_SECRET_MIN_BYTES:
        raise ValueError(
            f"JWT secret in {path} is shorter than {contract.JWT_SECRET_MIN_BYTES} bytes")
    return secret


@dataclass(frozen=True)
class LoadConfig:
    rate: float = 25.0  # orders started per second, all clients together
    clients: int = 8
    accounts: int = 6  # accounts per run, spread over the principals
    principals: int = 3  # distinct token subjects (idempotency keys are scoped per principal)
    duration_s: float | None = 60.0  # None: until stop()
    max_orders: int | None = None
    request_timeout_s: float = 2.0
    connect_timeout_s: float = 1.0
    max_attempts: int = 60
    order_deadline_s: float = 60.0  # retry budget per order, from its first attempt
    backoff_initial_s: float = 0.05
    backoff_max_s: float = 2.0
    retry_after_cap_s: float = 5.0
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex[:10])

    def __post_init__(self) -> None:
        if self.rate <= 0 or self.clients <= 0 or self.accounts <= 0 or self.principals <= 0:
            raise ValueError("rate, clients, accounts and principals must be positive")
        if self.principals > self.accounts:
            raise ValueError("each principal needs at least one account")


@dataclass(frozen=True)
class Principal:
    subject: str
    accounts: tuple[str, ...]
    token: str


def make_principals(config: LoadConfig, secret: str) -> list[Principal]:
    """Accounts `DRILL-<run>-<n>` dealt round-robin to subjects `drill-<run>-<p>`."""
    accounts = [f"DRILL-{config.run_id}-{n}" for n in range(config.accounts)]
    principals = []
    for p in range(config.principals):
        owned = tuple(accounts[p :: config.principals])
        subject = f"drill-{config.run_id}-{p}"
        ttl = max(3600.0, 4 * (config.duration_s or 3600.0))
        principals.append(Principal(subject, owned, mint_token(secret, subject, owned, ttl_s=ttl)))
    return principals


def order_body(seq: int, account: str, client_order_id: str) -> dict[str, Any]:
    """A plausible order: market and limit, buy and sell, several instruments."""
    body: dict[str, Any] = {
        "account_id": account,
        "instrument": INSTRUMENTS[seq % len(INSTRUMENTS)],
        "side": "buy" if seq % 2 == 0 else "sell",
        "order_type": "limit" if seq % 3 == 0 else "market",
        "quantity": str(1 + seq % 50),
        "currency": "EUR" if seq % 4 else "USD",
        "time_in_force": "DAY" if seq % 5 else "GTC",
        "client_order_id": client_order_id,
    }
    if body["order_type"] == "limit":
        body["limit_price"] = f"{100 + seq % 17}.25"
    return body


def parse_retry_after(value: str | None) -> float | None:
    """Retry-After as delay-seconds or an HTTP date; None when absent or unparseable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


class LoadGenerator:
    def __init__(
        self,
        api_url: str,
        secret: str,
        config: LoadConfig | None = None,
        log_path: Path | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.api_url = api_url.rstrip("/")
        self._transport = transport  # tests inject an httpx.MockTransport
        self.config = config or LoadConfig()
        self.principals = make_principals(self.config, secret)
        self.history = History()
        self.log_path = log_path
        self._writer = LogWriter(log_path) if log_path is not None else None
        self._stop = asyncio.Event()
        self._seq = 0
        self.started_at: float | None = None
        self.ended_at: float | None = None
        self.in_flight = 0

    @property
    def accounts(self) -> list[str]:
        return sorted(a for p in self.principals for a in p.accounts)

    def stop(self) -> None:
        """Start no new order; orders in progress finish (bounded by their budget)."""
        self._stop.set()

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def _record(self, record: OrderIntent | Attempt | Ack | Outcome) -> None:
        if isinstance(record, OrderIntent):
            self.history.orders.append(record)
        elif isinstance(record, Attempt):
            self.history.attempts.append(record)
        elif isinstance(record, Ack):
            self.history.acks.append(record)
        else:
            self.history.outcomes.append(record)
        if self._writer is not None:
            self._writer.write(record)

    def _next_seq(self) -> int | None:
        if self.config.max_orders is not None and self._seq >= self.config.max_orders:
            return None
        self._seq += 1
        return self._seq

    async def run(self) -> History:
        cfg = self.config
        self.started_at = time.time()
        deadline = None if cfg.duration_s is None else time.monotonic() + cfg.duration_s
        try:
            async with asyncio.TaskGroup() as group:
                for index in range(cfg.clients):
                    group.create_task(self._client(index, deadline))
        finally:
            self.ended_at = time.time()
            if self._writer is not None:
                self._writer.close()
        return self.history

    async def _client(self, index: int, deadline: float | None) -> None:
        cfg = self.config
        interval = cfg.clients / cfg.rate
        timeout = httpx.Timeout(cfg.request_timeout_s, connect=cfg.connect_timeout_s)
        limits = httpx.Limits(max_connections=2, max_keepalive_connections=2)
        rng = random.Random(f"{cfg.run_id}-{index}")
        next_start = time.monotonic() + interval * index / cfg.clients
        async with httpx.AsyncClient(
            base_url=self.api_url, timeout=timeout, limits=limits, transport=self._transport
        ) as http:
            while not self._stop.is_set():
                now = time.monotonic()
                if deadline is not None and now >= deadline:
                    return
                if next_start > now:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._stop.wait(), next_start - now)
                    if self._stop.is_set():
                        return
                    if deadline is not None and time.monotonic() >= deadline:
                        return
                seq = self._next_seq()
                if seq is None:
                    return
                await self._place(http, seq, rng)
                next_start = max(next_start + interval, time.monotonic())

    async def _place(self, http: httpx.AsyncClient, seq: int, rng: random.Random) -> None:
        """One order: the first request and its same-key retries, until acknowledged,
        rejected or given up."""
        cfg = self.config
        principal = self.principals[seq % len(self.principals)]
        account = principal.accounts[(seq // len(self.principals)) % len(principal.accounts)]
        order = OrderIntent(f"drill-{uuid.uuid4().hex}", f"c-{cfg.run_id}-{seq}", account,
                            principal.subject, time.time())
        body = order_body(seq, account, order.client_order_id)
        headers = {"Authorization": f"Bearer {principal.token}", "Idempotency-Key": order.key}
        self._record(order)
        first = time.monotonic()
        attempt_no = 0
        self.in_flight += 1
        try:
            while True:
                attempt_no += 1
                attempt, response = await _send(http, body, headers, order.key, attempt_no)
                self._record(attempt)
                if self._settled(order, attempt, response):
                    return
                elapsed = time.monotonic() - first
                if attempt_no >= cfg.max_attempts or elapsed >= cfg.order_deadline_s:
                    last = attempt.status if attempt.status is not None else attempt.error
                    reason = f"{attempt_no} attempts in {elapsed:.1f}s, last {last}"
                    self._record(Outcome("gave_up", order.key, time.time(), reason,
                                         attempt.status))
                    return
                await asyncio.sleep(_backoff(cfg, attempt_no, attempt.retry_after, elapsed, rng))
        finally:
            self.in_flight -= 1

    def _settled(self, order: OrderIntent, attempt: Attempt,
                 response: httpx.Response | None) -> bool:
        """Record the acknowledgement or rejection; False when the request is to be retried."""
        status = attempt.status
        if response is not None and status is not None and 200 <= status < 300:
            order_id = _order_id(response)
            if order_id is None:
                self._record(Outcome("rejected", order.key, time.time(),
                                     "2xx without an order id", status))
                return True
            replayed = response.headers.get("Idempotent-Replayed", "").lower() == "true"
            self._record(Ack(key=order.key, order_id=order_id,
                             client_order_id=order.client_order_id, account=order.account,
                             principal=order.principal, t=time.time(), status=status,
                             replayed=replayed))
            return True
        if status is None or status in RETRYABLE_STATUSES or status >= 500:
            return False
        detail = response.text[:300] if response is not None else ""
        self._record(Outcome("rejected", order.key, time.time(), detail, status))
        return True


TRANSPORT_ERRORS: tuple[tuple[type[Exception], str], ...] = (
    (httpx.ConnectTimeout, "connect_timeout"),
    (httpx.TimeoutException, "timeout"),
    (httpx.ConnectError, "connect"),
    (httpx.RemoteProtocolError, "connection_lost"),
    (httpx.ReadError, "connection_lost"),
    (httpx.WriteError, "connection_lost"),
)


async def _send(http: httpx.AsyncClient, body: dict[str, Any], headers: dict[str, str],
                key: str, attempt_no: int) -> tuple[Attempt, httpx.Response | None]:
    """One POST: the attempt record (status or error name) and the response, if any."""
    sent = time.time()
    clock = time.perf_counter()
    try:
        response = await http.post("/v1/orders", json=body, headers=headers)
    except httpx.TransportError as exc:
        error = next((name for kind, name in TRANSPORT_ERRORS if isinstance(exc, kind)),
                     f"transport:{type(exc).__name__}")
        return Attempt(key, attempt_no, sent, time.perf_counter() - clock, None, error), None
    retry_after = parse_retry_after(response.headers.get("Retry-After"))
    latency = time.perf_counter() - clock
    return Attempt(key, attempt_no, sent, latency, response.status_code, None,
                   retry_after), response


def _backoff(cfg: LoadConfig, attempt_no: int, retry_after: float | None, elapsed: float,
             rng: random.Random) -> float:
    """Capped exponential backoff with full jitter, or Retry-After (plus a little jitter so
    clients do not stampede); never past the order's deadline."""
    backoff = rng.uniform(0, min(cfg.backoff_max_s, cfg.backoff_initial_s * 2 ** (attempt_no - 1)))
    if retry_after is not None:
        backoff = min(cfg.retry_after_cap_s, retry_after) + rng.uniform(0, 0.1)
    return min(backoff, max(0.0, cfg.order_deadline_s - elapsed))


def _order_id(response: httpx.Response) -> str | None:
    try:
        document = response.json()
    except ValueError:
        return None
    if isinstance(document, dict) and isinstance(document.get("id"), str):
        return str(document["id"])
    return None


async def run_load(
    api_url: str, secret: str, config: LoadConfig, log_path: Path | None = None
) -> History:
    """Convenience: run one bounded load and return its history."""
    return await LoadGenerator(api_url, secret, config, log_path).run()
