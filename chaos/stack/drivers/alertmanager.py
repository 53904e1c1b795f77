"""Alertmanager (observer, with Prometheus): routes `severity=page` and `severity=ticket` to
receivers of those names. The drill reads what fired from its API (`Stack.alerts()`), so the
receivers need no integration (no webhook server to run)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import httpx

from chaos.stack import probes
from chaos.stack.drivers.base import Driver, PlanContext, binary, register
from chaos.stack.state import Component

if TYPE_CHECKING:
    from chaos.stack.stack import Stack

SEVERITIES = ("page", "ticket")


def alertmanager_config() -> str:
    """alertmanager.yml (JSON is YAML): short grouping so a drill sees alerts at once."""
    config = {
        "route": {
            "receiver": "unrouted",
            "group_by": ["alertname", "severity"],
            "group_wait": "1s",
            "group_interval": "1s",
            "repeat_interval": "1h",
            "routes": [
                {"receiver": s, "matchers": [f'severity="{s}"']} for s in SEVERITIES
            ],
        },
        "receivers": [{"name": "unrouted"}, *({"name": s} for s in SEVERITIES)],
    }
    return json.dumps(config, indent=2) + "\n"


class AlertmanagerDriver(Driver):
    kind = "alertmanager"
    observer = True

    def plan(self, ctx: PlanContext) -> None:
        if not ctx.options.monitoring:
            return
        base = ctx.state_dir / "alertmanager"
        base.mkdir(parents=True, exist_ok=True)
        cfg = base / "alertmanager.yml"
        cfg.write_text(alertmanager_config())
        port = ctx.ports.take()
        ctx.add("alertmanager", "alertmanager", None, [
            binary("/usr/bin/prometheus-alertmanager", "prometheus-alertmanager"),
            f"--config.file={cfg}", f"--storage.path={base / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
            # No HA gossip: it would listen on 0.0.0.0:9094.
            "--cluster.listen-address=",
        ], f"--config.file={cfg}", {"http": port}, config=str(cfg))
        ctx.endpoints["alertmanager_url"] = f"http://127.0.0.1:{port}"

    def probe(self, stack: Stack, comp: Component) -> tuple[bool, str]:
        code = probes.http_status(f"http://127.0.0.1:{comp.ports['http']}/-/ready")
        return code == 200, f"/-/ready {code}"


def alerts(stack: Stack) -> list[dict[str, Any]]:
    """Alerts the Alertmanager holds: {name, severity, state, starts_at, ends_at, labels}."""
    url = stack.endpoints.get("alertmanager_url")
    if not url:
        return []
    try:
        body = httpx.get(f"{url}/api/v2/alerts", timeout=2.0).json()
    except (httpx.HTTPError, ValueError):
        return []
    return [
        {
            "name": a.get("labels", {}).get("alertname"),
            "severity": a.get("labels", {}).get("severity"),
            "state": a.get("status", {}).get("state"),
            "starts_at": a.get("startsAt"),
            "ends_at": a.get("endsAt"),
            "labels": a.get("labels", {}),
        }
        for a in body
    ]


register(AlertmanagerDriver())
