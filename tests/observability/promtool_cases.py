"""Unit-test cases for every alert, written once in production time and scaled for drills.

A case is a list of input series sampled every `interval`; `fires` must raise the alert
by `at`, each `quiet` scenario (normal traffic, low traffic, short blips) must not. Counter
increments are per sample, so ratios and counts over a window do not change when the
drill rule set divides every duration; gauge ages (`age=True`) are divided too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from observability.durations import Scale


@dataclass(frozen=True)
class Series:
    selector: str
    values: str
    age: bool = False  # the values are seconds of age: scaled with the durations

    def scaled(self, scale: Scale) -> dict[str, str]:
        values = self.values
        if self.age and scale.factor != 1:
            values = re.sub(
                r"\d+(?:\.\d+)?(?:e\d+)?",
                lambda m: f"{float(m.group(0)) / scale.factor:g}"
                if not _is_repeat_count(values, m) else m.group(0),
                values,
            )
        return {"series": self.selector, "values": values}


def _is_repeat_count(values: str, match: re.Match[str]) -> bool:
    """In `a+bxn` the `n` after the `x` counts samples and is not a value."""
    return match.start() > 0 and values[match.start() - 1] == "x"


@dataclass(frozen=True)
class Case:
    alert: str
    at: str
    fires: list[Series]
    quiet: list[list[Series]]
    # labels the alert carries besides the rule's own (one dict per expected alert)
    expected: list[dict[str, str]] = field(default_factory=lambda: [{}])
    interval: str = "1m"
    evaluation_interval: str = ""  # defaults to `interval`
    variant: str = ""  # tells apart two cases of one alert

    @property
    def name(self) -> str:
        return f"{self.alert}-{self.variant}" if self.variant else self.alert


POST = 'method="POST",route="/v1/orders"'
HTTP = "http_request_duration_seconds"
READ = 'method="GET",route="/v1/orders/{order_id}"'


def _burn(alert: str, good: list[Series], bad: list[Series], variant: str = "") -> Case:
    # Three hours of the bad ratio burn every window pair, so page and ticket both fire;
    # the expected labels are filled in from the SLO source by the test.
    return Case(alert, "3h", fires=bad, quiet=[good], expected=[], variant=variant)


HAPROXY = 'proxy="api_replicas",code="5xx"'
ALB_5XX = 'aws_applicationelb_httpcode_elb_5_xx_count_sum{dimension_LoadBalancer="app/orders/1"}'


def _haproxy(backend_5xx: str, server_5xx: str) -> list[Series]:
    """HAProxy's counters: the backend's 5xx include those its servers answered."""
    return [
        Series(f"haproxy_backend_http_responses_total{{{HAPROXY}}}", backend_5xx),
        Series(f'haproxy_server_http_responses_total{{{HAPROXY},server="api-a"}}', server_5xx),
    ]


def _edge_burns(alert: str, route: str) -> list[Case]:
    """Every replica unready: the edge answers 503 itself and the service sees nothing."""
    good = [Series(f'{HTTP}_count{{{route},status="200"}}', "0+10000x200"),
            Series(f'{HTTP}_count{{{route},status="503"}}', "0+1x200")]
    return [
        # HAProxy: its own 503s burn; the service's 503 it relays is not counted twice.
        _burn(alert, variant="haproxy", bad=_haproxy("0+20x200", "0+0x200"),
              good=[*good, *_haproxy("0+1x200", "0+1x200")]),
        # ALB: 30 of its own 5xx per 60-second period, a little service traffic beside.
        _burn(alert, variant="alb",
              bad=[Series(ALB_5XX, "30x200"),
                   Series(f'{HTTP}_count{{{route},status="200"}}', "0+10x200")],
              good=[*good, Series(ALB_5XX, "0x200")]),
    ]


CASES = [
    *_edge_burns("OrdersAvailabilityBudgetBurn", POST),
    *_edge_burns("OrdersErrorBudgetBurn", READ),
    _burn(
        "OrdersAvailabilityBudgetBurn",
        good=[  # 0.01 % server errors, and many 4xx that do not count
            Series(f'{HTTP}_count{{{POST},status="201"}}', "0+10000x200"),
            Series(f'{HTTP}_count{{{POST},status="503"}}', "0+1x200"),
            Series(f'{HTTP}_count{{{POST},status="422"}}', "0+3000x200"),
        ],
        bad=[
            Series(f'{HTTP}_count{{{POST},status="201"}}', "0+95x200"),
            Series(f'{HTTP}_count{{{POST},status="503"}}', "0+5x200"),
        ],
    ),
    _burn(
        "OrdersLatencyBudgetBurn",
        good=[  # 0.5 % of accepted orders over 500 ms; slow 4xx do not count
            Series(f'{HTTP}_count{{{POST},status="201"}}', "0+1000x200"),
            Series(f'{HTTP}_bucket{{{POST},status="201",le="0.5"}}', "0+995x200"),
            Series(f'{HTTP}_count{{{POST},status="409"}}', "0+100x200"),
            Series(f'{HTTP}_bucket{{{POST},status="409",le="0.5"}}', "0+0x200"),
        ],
        bad=[  # 20 % slow
            Series(f'{HTTP}_count{{{POST},status="201"}}', "0+100x200"),
            Series(f'{HTTP}_bucket{{{POST},status="201",le="0.5"}}', "0+80x200"),
        ],
    ),
    _burn(
        "OrdersErrorBudgetBurn",
        good=[  # 0.05 % server errors; 404s and health checks do not count
            Series(f'{HTTP}_count{{{READ},status="200"}}', "0+2000x200"),
            Series(f'{HTTP}_count{{{READ},status="500"}}', "0+1x200"),
            Series(f'{HTTP}_count{{{READ},status="404"}}', "0+500x200"),
            Series(f'{HTTP}_count{{method="GET",route="/health/ready",status="503"}}', "0+50x200"),
        ],
        bad=[
            Series(f'{HTTP}_count{{{READ},status="200"}}', "0+90x200"),
            Series(f'{HTTP}_count{{{READ},status="500"}}', "0+10x200"),
        ],
    ),
    Case(
        "DatabasePrimaryUnavailable", "5m",
        fires=[
            Series('patroni_primary{scope="orders",instance="pg-a"}', "1 0x10"),
            Series('patroni_primary{scope="orders",instance="pg-b"}', "0x11"),
            Series('patroni_cluster_unlocked{scope="orders",instance="pg-b"}', "0 1x10"),
            Series('database_primary_up{instance="api-a"}', "1 0x10"),
            Series('database_primary_up{instance="api-b"}', "1 0x10"),
        ],
        quiet=[[  # one zone's replicas cut off from the database: the primary is fine
            Series('patroni_primary{scope="orders",instance="pg-a"}', "1x10"),
            Series('patroni_cluster_unlocked{scope="orders",instance="pg-a"}', "0x10"),
            Series('database_primary_up{instance="api-a"}', "1x10"),
            Series('database_primary_up{instance="api-c"}', "1 0x10"),
        ]],
        expected=[{"scope": "orders"}, {}],
    ),
    Case(
        "DatabaseReplicationLagHigh", "15m",
        fires=[
            Series('patroni_xlog_location{scope="orders",instance="pg-a"}', "0+10000000x20"),
            Series('patroni_replica{scope="orders",instance="pg-a"}', "0x20"),
            Series('patroni_xlog_replayed_location{scope="orders",instance="pg-a"}', "0x20"),
            Series('patroni_replica{scope="orders",instance="pg-b"}', "1x20"),
            Series('patroni_xlog_replayed_location{scope="orders",instance="pg-b"}', "0x20"),
        ],
        quiet=[[  # replicas close behind; the primary's own replayed location (0) ignored
            Series('patroni_xlog_location{scope="orders",instance="pg-a"}', "0+10000000x20"),
            Series('patroni_replica{scope="orders",instance="pg-a"}', "0x20"),
            Series('patroni_xlog_replayed_location{scope="orders",instance="pg-a"}', "0x20"),
            Series('patroni_replica{scope="orders",instance="pg-b"}', "1x20"),
            Series(
                'patroni_xlog_replayed_location{scope="orders",instance="pg-b"}', "0+9999000x20"
            ),
        ]],
        expected=[{"scope": "orders"}],
    ),
    Case(
        "RedisDegraded", "10m",
        fires=[Series('redis_degraded{instance="api-a"}', "0 1x10")],
        quiet=[[  # a one-sample blip (a Sentinel failover) stays under `for`
            Series('redis_degraded{instance="api-a"}', "0 0 0 1 0x7"),
            Series('redis_degraded{instance="api-b"}', "0x10"),
        ]],
    ),
    Case(
        "OutboxBacklogHigh", "15m",
        fires=[Series("outbox_publish_lag_seconds", "0+60x20", age=True)],
        quiet=[[Series("outbox_publish_lag_seconds", "0 1 0.5 2 0x16", age=True)]],
    ),
    Case(
        "OrdersPendingAgeHigh", "25m",
        fires=[Series("orders_pending_age_seconds", "0+60x30", age=True)],
        quiet=[[Series("orders_pending_age_seconds", "2 3 1 4 2x26", age=True)]],
    ),
    Case(
        "QueueMessageAgeHigh", "15m",
        fires=[Series('queue_message_age_seconds{instance="worker-a"}', "0+60x20", age=True)],
        quiet=[[Series('queue_message_age_seconds{instance="worker-a"}', "0.2x20", age=True)]],
    ),
    Case(
        "DeadLetterQueueNotEmpty", "10m",
        fires=[Series("queue_dead_letter_messages", "0 0 1x10")],
        quiet=[[Series("queue_dead_letter_messages", "0x12")]],
    ),
    Case(
        "AuditIntegratorLagHigh", "15m",
        fires=[
            Series('audit_integration_lag_seconds{instance="int-a"}', "0+60x20", age=True),
            Series('audit_integrator_active{instance="int-a"}', "1x20"),
        ],
        quiet=[[
            Series('audit_integration_lag_seconds{instance="int-a"}', "2x20", age=True),
            Series('audit_integrator_active{instance="int-a"}', "1x20"),
            Series('audit_integrator_active{instance="int-b"}', "0x20"),
        ]],
    ),
    Case(
        "AuditCheckpointStale", "25m",
        fires=[Series("audit_checkpoint_age_seconds", "0+60x30", age=True)],
        quiet=[[Series("audit_checkpoint_age_seconds", "30 45 10 60 5x26", age=True)]],
    ),
    Case(
        "OrdersFailedRateHigh", "25m",
        fires=[
            Series("orders_created_total", "0+100x30"),
            Series('orders_failed_total{reason="unavailable"}', "0+5x30"),
            Series('worker_events_total{outcome="rejected"}', "0+5x30"),
        ],
        quiet=[
            [  # 1 % rejected by the venue
                Series("orders_created_total", "0+100x30"),
                Series('worker_events_total{outcome="rejected"}', "0+1x30"),
            ],
            [  # low traffic: a few failures are a high ratio but too few to mean much
                Series("orders_created_total", "0+1x30"),
                Series('orders_failed_total{reason="unavailable"}', "0 0 1 1 1 2 2x25"),
            ],
        ],
    ),
    Case(
        "DuplicateOrderAttemptsSpike", "25m",
        fires=[
            Series("orders_created_total", "0+100x30"),
            Series('orders_duplicate_attempts_total{outcome="replayed"}', "0+50x30"),
        ],
        quiet=[
            [
                Series("orders_created_total", "0+100x30"),
                Series('orders_duplicate_attempts_total{outcome="replayed"}', "0+5x30"),
            ],
            [
                Series("orders_created_total", "0+1x30"),
                Series('orders_duplicate_attempts_total{outcome="replayed"}', "0+1x30"),
            ],
        ],
    ),
    Case(
        "OrderVolumeAnomalous", "11550m",  # 2310 samples of 5 m: over eight days
        interval="5m",
        evaluation_interval="15m",  # the rules every 15 m: a third of the work
        fires=[Series("orders_created_total", "0+500x2300 1150000x20")],  # orders stop
        # normal low traffic that pauses for an hour: a few orders are no anomaly
        quiet=[[Series("orders_created_total", "0+1x2300 2300x20")]],
    ),
    Case(
        "ScrapeTargetDown", "10m",
        fires=[Series('up{job="orders-relay",instance="relay-a"}', "1 1 0x10")],
        quiet=[[
            Series('up{job="orders-api",instance="api-a"}', "1 1 0 1x9"),  # one missed scrape
            Series('up{job="node",instance="host-a"}', "0x12"),  # not ours
        ]],
        expected=[{"job": "orders-relay", "instance": "relay-a"}],
    ),
]
