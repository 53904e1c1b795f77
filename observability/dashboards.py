"""The Grafana dashboards (JSON model, schemaVersion 39), built here and checked in.

    python -m observability.dashboards   # rewrite observability/dashboards/*.json
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from observability import generate

DIRECTORY = Path(__file__).resolve().parent / "dashboards"
DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}
SLOS = ("availability", "latency", "errors")


def panel(title: str, exprs: dict[str, str], unit: str = "short", kind: str = "timeseries",
          width: int = 12) -> dict[str, Any]:
    return {
        "type": kind,
        "title": title,
        "datasource": DATASOURCE,
        "gridPos": {"w": width, "h": 8},
        "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
        "targets": [
            {"refId": chr(ord("A") + i), "expr": expr, "legendFormat": legend,
             "datasource": DATASOURCE}
            for i, (legend, expr) in enumerate(exprs.items())
        ],
    }


def slo_panels() -> list[dict[str, Any]]:
    panels = []
    for slo in SLOS:
        ids = f'slo_service="orders",slo="{slo}"'
        panels += [
            panel(f"{slo}: error budget remaining (30 d)",
                  {"remaining": f"slo:period_error_budget_remaining:ratio{{{ids}}}"},
                  unit="percentunit", kind="stat", width=6),
            panel(f"{slo}: SLI vs objective",
                  {"good ratio (1h)": f"1 - slo:sli_error:ratio_rate1h{{{ids}}}",
                   "objective": f"slo:objective:ratio{{{ids}}}"},
                  unit="percentunit", width=9),
            panel(f"{slo}: burn rate",
                  {"5m": f"slo:current_burn_rate:ratio{{{ids}}}",
                   "1h": f"slo:sli_error:ratio_rate1h{{{ids}}} / on (slo_service, slo)"
                         f" slo:error_budget:ratio{{{ids}}}",
                   "30d": f"slo:period_burn_rate:ratio{{{ids}}}"},
                  width=9),
        ]
    panels.append(panel(
        "P99 of accepted orders",
        {"p99": 'histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket'
                '{method="POST",route="/v1/orders",status=~"2.."}[$__rate_interval])))'},
        unit="s"))
    # A burn with no 5xx of the API's own is the load balancer refusing (replicas unready).
    panels.append(panel(
        "5xx per second: the API's own and the load balancer's own",
        {"API": 'sum(rate(http_request_duration_seconds_count{route=~"/v1/.+",status=~"5.."}'
                "[$__rate_interval]))",
         "load balancer": generate.sli_query(
             generate.load(generate.SLO_SOURCE), "{{edge_errors}}", "$__rate_interval")},
        unit="reqps", width=12))
    panels.append(panel(
        "Firing SLO and concern alerts",
        {"{{alertname}} {{severity}}":
             'sum by (alertname, severity) (ALERTS{alertstate="firing"})'},
        width=12))
    return panels


def business_panels() -> list[dict[str, Any]]:
    return [
        panel("Orders created per second",
              {"created": "sum(rate(orders_created_total[$__rate_interval]))",
               "same hour yesterday / last week (per 10 m)":
                   "orders:created:baseline_increase10m"}),
        panel("Order volume deviation (Poisson sigmas)",
              {"deviation": "orders:created:volume_deviation10m"}),
        panel("Failed and rejected orders per second",
              {"failed {{reason}}": "sum by (reason) (rate(orders_failed_total[$__rate_interval]))",
               "rejected by the venue":
                   'sum(rate(worker_events_total{outcome="rejected"}[$__rate_interval]))'}),
        panel("Duplicate order attempts per second",
              {"{{outcome}}": "sum by (outcome) "
                              "(rate(orders_duplicate_attempts_total[$__rate_interval]))"}),
        panel("Oldest pending order", {"age": "max(orders_pending_age_seconds)"}, unit="s"),
        panel("Worker outcomes per second",
              {"{{outcome}}": "sum by (outcome) (rate(worker_events_total[$__rate_interval]))"}),
    ]


def dependency_panels() -> list[dict[str, Any]]:
    return [
        panel("Database primary",
              {"reachable from the API (min over replicas)": "min(database_primary_up)",
               "Patroni primaries": "sum by (scope) (patroni_primary)",
               "cluster unlocked": "max by (scope) (patroni_cluster_unlocked)"}),
        panel("Replication lag (bytes)",
              {"{{instance}}": "max by (scope) (patroni_xlog_location) - on (scope) group_right "
                               "patroni_xlog_replayed_location and on (instance) "
                               "(patroni_replica == 1)"},
              unit="bytes"),
        panel("Redis degraded (replicas running without Redis)",
              {"degraded": "sum(redis_degraded)",
               "rate-limit fail-open per second":
                   "sum(rate(rate_limit_fail_open_total[$__rate_interval]))"}),
        panel("Outbox",
              {"backlog rows": "max(outbox_backlog)",
               "oldest unpublished (s)": "max(outbox_publish_lag_seconds)",
               "published per second": "sum(rate(outbox_published_total[$__rate_interval]))"}),
        panel("Queue",
              {"message age at receive (s)": "max(queue_message_age_seconds)",
               "dead-letter messages": "max(queue_dead_letter_messages)"}),
        panel("Audit log integrator",
              {"integration lag (s)": "max(audit_integration_lag_seconds)",
               "checkpoint age (s)": "min(audit_checkpoint_age_seconds)",
               "tree size": "max(audit_tree_size)",
               "elected": "sum(audit_integrator_active)"}),
        panel("Scrape targets up", {"{{job}}": "sum by (job) (up)"}),
    ]


def dashboard(uid: str, title: str, panels: list[dict[str, Any]]) -> dict[str, Any]:
    x = y = 0
    for number, p in enumerate(panels, start=1):
        width = p["gridPos"]["w"]
        if x + width > 24:
            x, y = 0, y + 8
        p["id"], p["gridPos"] = number, {**p["gridPos"], "x": x, "y": y}
        x += width
    return {
        "uid": uid,
        "title": title,
        "tags": ["orders"],
        "timezone": "utc",
        "schemaVersion": 39,
        "refresh": "30s",
        "time": {"from": "now-6h", "to": "now"},
        "templating": {"list": [{
            "name": "datasource", "type": "datasource", "query": "prometheus",
            "label": "Prometheus",
        }]},
        "panels": panels,
    }


def dashboards() -> dict[str, dict[str, Any]]:
    return {
        "orders-slo": dashboard("orders-slo", "Orders: SLOs and error budgets", slo_panels()),
        "orders-business": dashboard(
            "orders-business", "Orders: business metrics", business_panels()
        ),
        "orders-dependencies": dashboard(
            "orders-dependencies", "Orders: dependencies", dependency_panels()
        ),
    }


def render(model: dict[str, Any]) -> str:
    return json.dumps(model, indent=2) + "\n"


def main() -> int:
    DIRECTORY.mkdir(exist_ok=True)
    for uid, model in dashboards().items():
        (DIRECTORY / f"{uid}.json").write_text(render(model))
    return 0


if __name__ == "__main__":
    sys.exit(main())
