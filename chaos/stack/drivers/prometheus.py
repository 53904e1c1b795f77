"""Prometheus (observer, off unless the plan asks for monitoring): scrapes every component
with the agreed job names every second, evaluates `observability/rules-drill/*.yml` (when
that directory exists) plus any rule file put in `<state_dir>/prometheus/rules/`, and sends
alerts to the stack's Alertmanager. Runs on the host's loopback, so partitions never cut the
observer off; it reaches namespaced components through the bridge."""

from __future__ import annotations

import json
import signal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx

from chaos.stack import probes
from chaos.stack.drivers.base import REPO_ROOT, Driver, PlanContext, binary, register
from chaos.stack.state import Component

if TYPE_CHECKING:
    from chaos.stack.stack import Stack

DRILL_RULES_DIR = REPO_ROOT / "observability" / "rules-drill"
INTERVAL = "1s"
# job name -> (component kind, port key, metrics path)
SCRAPE_JOBS: dict[str, tuple[str, str, str]] = {
    "orders-api": ("api", "http", "/metrics"),
    "orders-relay": ("relay", "http", "/metrics"),
    "orders-worker": ("worker", "http", "/metrics"),
    "orders-integrator": ("integrator", "http", "/metrics"),
    "patroni": ("patroni", "rest", "/metrics"),
    "haproxy": ("haproxy", "metrics", "/metrics"),
}


def scrape_configs(components: list[Component]) -> list[dict[str, Any]]:
    jobs = []
    for job, (kind, port_key, path) in SCRAPE_JOBS.items():
        targets = [c for c in components if c.kind == kind]
        if not targets:
            continue
        jobs.append({
            "job_name": job,
            "metrics_path": path,
            "static_configs": [
                {"targets": [f"{c.host}:{c.ports[port_key]}"],
                 "labels": {"component": c.name, "zone": c.zone or "shared"}}
                for c in targets
            ],
        })
    return jobs


def prometheus_config(components: list[Component], alertmanager: str,
                      rule_globs: list[str]) -> str:
    """prometheus.yml (JSON is YAML). `alertmanager` is host:port."""
    config = {
        "global": {"scrape_interval": INTERVAL, "scrape_timeout": INTERVAL,
                   "evaluation_interval": INTERVAL},
        "alerting": {"alertmanagers": [
            {"api_version": "v2", "static_configs": [{"targets": [alertmanager]}]},
        ]},
        "rule_files": rule_globs,
        "scrape_configs": scrape_configs(components),
    }
    return json.dumps(config, indent=2) + "\n"


class PrometheusDriver(Driver):
    kind = "prometheus"
    observer = True

    def plan(self, ctx: PlanContext) -> None:
        if not ctx.options.monitoring:
            return
        base = ctx.state_dir / "prometheus"
        cfg, data, rules = base / "prometheus.yml", base / "data", base / "rules"
        port = ctx.ports.take()
        ctx.add("prometheus", "prometheus", None, [
            binary("/usr/bin/prometheus", "prometheus"), f"--config.file={cfg}",
            f"--storage.tsdb.path={data}", f"--web.listen-address=127.0.0.1:{port}",
            "--storage.tsdb.retention.time=1d", "--web.enable-lifecycle",
            # Re-send firing alerts every second (default 1 m): an alert that fires while the
            # notifier restarts (on a reload) would otherwise reach Alertmanager a minute late.
            "--rules.alert.resend-delay=1s",
        ], f"--config.file={cfg}", {"http": port}, config=str(cfg), rules=str(rules))
        rules.mkdir(parents=True, exist_ok=True)
        ctx.endpoints["prometheus_url"] = f"http://127.0.0.1:{port}"

    def finish_plan(self, ctx: PlanContext) -> None:
        if not ctx.of_kind("prometheus"):
            return
        comp = ctx.of_kind("prometheus")[0]
        globs = [str(Path(comp.paths["rules"]) / "*.yml")]
        if DRILL_RULES_DIR.is_dir():
            globs.insert(0, str(DRILL_RULES_DIR / "*.yml"))
        manager = ctx.of_kind("alertmanager")[0]
        Path(comp.paths["config"]).write_text(
            prometheus_config(ctx.components, f"127.0.0.1:{manager.ports['http']}", globs)
        )

    def probe(self, stack: Stack, comp: Component) -> tuple[bool, str]:
        code = probes.http_status(f"http://127.0.0.1:{comp.ports['http']}/-/ready")
        return code == 200, f"/-/ready {code}"


def reload(stack: Stack) -> None:
    """Re-read the config and rule files (SIGHUP), e.g. after adding a rule file."""
    for comp in stack.components(kind="prometheus"):
        stack.kill(comp.name, signal.SIGHUP)


def query(stack: Stack, expr: str) -> list[dict[str, Any]]:
    """Instant query; the `result` list of /api/v1/query (empty on any error)."""
    url = stack.endpoints.get("prometheus_url")
    if not url:
        return []
    try:
        body = httpx.get(f"{url}/api/v1/query", params={"query": expr}, timeout=2.0).json()
    except (httpx.HTTPError, ValueError):
        return []
    return list(body.get("data", {}).get("result", []))


register(PrometheusDriver())
