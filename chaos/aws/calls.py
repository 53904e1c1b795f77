"""The one layer every AWS, Kubernetes and HTTP call of the AWS drill goes through.

It records each call (service, operation, region, parameters). With `dry_run=True` it
prints the call as one JSON line prefixed with `DRY-RUN` and makes none: AWS calls
return `{}` and HTTP calls return `None`, and callers treat those as "unknown".
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

import httpx

READ_PREFIXES = ("describe_", "get_", "list_", "GET ")


class Clock(Protocol):
    def now(self) -> datetime: ...

    def monotonic(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


@dataclass(frozen=True)
class Call:
    service: str
    operation: str
    region: str | None
    params: dict[str, Any]
    at: str
    dry_run: bool

    @property
    def mutating(self) -> bool:
        return not self.operation.startswith(READ_PREFIXES)

    def to_json(self) -> str:
        return json.dumps(
            {
                "service": self.service,
                "operation": self.operation,
                "region": self.region,
                "params": self.params,
            },
            sort_keys=True,
            default=_json_default,
        )


def _json_default(value: object) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


@dataclass
class CallLayer:
    """Records, prints (dry run) and performs AWS/HTTP calls."""

    session: Any  # a boto3.Session (None: no AWS calls possible)
    dry_run: bool = False
    emit: Callable[[str], None] = print
    clock: Clock = field(default_factory=SystemClock)
    calls: list[Call] = field(default_factory=list)
    _clients: dict[tuple[str, str | None], Any] = field(default_factory=dict)

    def client(self, service: str, region: str | None) -> Any:
        """The botocore client for (service, region), created once from the session."""
        key = (service, region)
        if key not in self._clients:
            if self.session is None:
                raise RuntimeError("no boto3 session: AWS calls are impossible here")
            self._clients[key] = self.session.client(service, region_name=region)
        return self._clients[key]

    def _record(
        self, service: str, operation: str, region: str | None, params: dict[str, Any]
    ) -> Call:
        call = Call(
            service=service,
            operation=operation,
            region=region,
            params=params,
            at=self.clock.now().isoformat(),
            dry_run=self.dry_run,
        )
        self.calls.append(call)
        if self.dry_run:
            self.emit("DRY-RUN " + call.to_json())
        elif call.mutating:
            self.emit("CALL " + call.to_json())
        return call

    def aws(self, service: str, operation: str, *, region: str | None, **params: Any) -> Any:
        """`client(service, region).<operation>(**params)`; `{}` in a dry run."""
        self._record(service, operation, region, params)
        if self.dry_run:
            return {}
        method = getattr(self.client(service, region), operation)
        return method(**params)

    def http(
        self,
        client: httpx.Client,
        service: str,
        method: str,
        url: str,
        *,
        params: dict[str, str] | None = None,
        json_body: Any = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response | None:
        """An HTTP call (Kubernetes API, health probe); headers are never recorded."""
        recorded: dict[str, Any] = {}
        if params:
            recorded["query"] = params
        if json_body is not None:
            recorded["body"] = json_body
        self._record(service, f"{method} {url.split('?', maxsplit=1)[0]}", None, recorded)
        if self.dry_run:
            return None
        return client.request(method, url, params=params, json=json_body, headers=headers)

    def mutating_calls(self) -> list[Call]:
        return [c for c in self.calls if c.mutating]
