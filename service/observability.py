"""Structured logs, Prometheus metrics and OpenTelemetry traces."""

from __future__ import annotations

import gc
import logging
import sys
from collections.abc import MutableMapping
from contextlib import AbstractContextManager
from typing import Any

import structlog
from opentelemetry import trace
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

SECRET_KEYS = frozenset({"authorization", "password", "token", "jwt_secret", "secret"})


def _redact(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    for key in list(event):
        if key.lower() in SECRET_KEYS:
            event[key] = "[redacted]"
    return event


def _trace_ids(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    context = trace.get_current_span().get_span_context()
    if context.is_valid:
        event["trace_id"] = format(context.trace_id, "032x")
        event["span_id"] = format(context.span_id, "016x")
    return event


def configure_logging(level: str = "INFO") -> None:
    logging.basicConfig(format="%(message)s", stream=sys.stdout, level=level)
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            _trace_ids,
            _redact,
            structlog.processors.format_exc_info,
            structlog.processors.JSONRenderer(),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level)),
        logger_factory=structlog.PrintLoggerFactory(),
        cache_logger_on_first_use=True,
    )


log = structlog.get_logger("orders")


def freeze_startup_heap() -> None:
    """Move every object alive now (modules, the app and its schemas, botocore's service
    models) out of the collector's reach, after collecting any garbage so none is kept.

    A full collection walks every tracked object, and in a steady process most of them are
    these, which never die: under load the API ran one every ~3 s, each 25-30 ms with the
    event loop stopped (82k objects), so every request in flight waited that long, a P99
    term of its own. Frozen, the same collections took 0.6-1.3 ms (median; the largest
    12-22 ms, start-up's among them), gen0/gen1 unchanged (gc.callbacks, `docs/capacity.md`).
    Objects made later (pools, clients, caches) are not frozen."""
    gc.collect()
    gc.freeze()


class Metrics:
    """All service metrics on one registry (one per app, so tests can build several apps)."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.request_duration = Histogram(
            "http_request_duration_seconds", "HTTP request duration by route and status",
            ["method", "route", "status"],
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
            registry=r,
        )
        self.client_errors = Counter(
            "http_client_errors",
            "Requests that failed on the client's side (client_aborted: closed before its"
            " response, framing_error: bad chunked framing, body_read_timeout)",
            ["reason"], registry=r,
        )
        self.orders_created = Counter(
            "orders_created", "Orders accepted and persisted", registry=r
        )
        self.placement_batch_size = Histogram(
            "orders_placement_batch_size",
            "Placements per database statement (service.orders.batching): 1 at low load",
            buckets=(1, 2, 4, 8, 16, 32, 64), registry=r,
        )
        self.orders_failed = Counter(
            "orders_failed", "Order requests that failed after validation", ["reason"],
            registry=r,
        )
        self.duplicate_attempts = Counter(
            "orders_duplicate_attempts",
            "Requests reusing an idempotency key (replays, in-flight and payload conflicts)",
            ["outcome"], registry=r,
        )
        self.pending_age = Gauge(
            "orders_pending_age_seconds", "Age of the oldest PENDING or SUBMITTED order",
            registry=r,
        )
        self.outbox_backlog = Gauge(
            "outbox_backlog", "Outbox rows not yet published", registry=r
        )
        self.outbox_publish_lag = Gauge(
            "outbox_publish_lag_seconds", "Age of the oldest unpublished outbox row", registry=r
        )
        self.redis_degraded = Gauge(
            "redis_degraded", "1 while Redis is unreachable and the service runs without it",
            registry=r,
        )
        self.rate_limit_fail_open = Counter(
            "rate_limit_fail_open",
            "Requests let through because Redis was unavailable or too slow",
            registry=r,
        )
        self.outbox_published = Counter(
            "outbox_published", "Outbox events published to the queue", registry=r
        )
        self.idempotency_keys_purged = Counter(
            "idempotency_keys_purged", "Expired idempotency keys deleted by the janitor",
            registry=r,
        )
        self.outbox_publish_failures = Counter(
            "outbox_publish_failures",
            "SendMessageBatch entries (messages: an event or a pack of an account's) the queue"
            " refused (released, retried on a later turn)",
            registry=r,
        )
        self.worker_processed = Counter(
            "worker_events", "Queue events handled by the worker", ["outcome"], registry=r
        )
        self.database_primary_up = Gauge(
            "database_primary_up",
            "1 when the last sampling query through the pool (to the primary) succeeded",
            registry=r,
        )
        self.queue_message_age = Gauge(
            "queue_message_age_seconds",
            "Age, at receive, of the oldest message in the worker's last receive (0 if none)",
            registry=r,
        )
        self.dead_letter_messages = Gauge(
            "queue_dead_letter_messages", "Messages waiting in the dead-letter queue",
            registry=r,
        )
        self.audit_integration_lag = Gauge(
            "audit_integration_lag_seconds",
            "Age of the oldest committed audit event not yet a leaf of the Merkle tree",
            registry=r,
        )
        self.audit_checkpoint_age = Gauge(
            "audit_checkpoint_age_seconds",
            "Age of the newest checkpoint published to the external store", registry=r,
        )
        self.audit_tree_size = Gauge(
            "audit_tree_size", "Leaves in the audit Merkle tree", registry=r
        )
        self.audit_integrator_active = Gauge(
            "audit_integrator_active", "1 on the elected integrator, 0 on standbys", registry=r
        )
        self.audit_publish_failures = Counter(
            "audit_checkpoint_publish_failures",
            "Checkpoint publications that failed (retried on the next turn)", registry=r,
        )


def configure_tracing(service_name: str, otlp_endpoint: str | None) -> None:
    """Export spans over OTLP/HTTP when an endpoint is configured; otherwise spans are no-ops."""
    if not otlp_endpoint:
        return
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    provider = TracerProvider(resource=Resource.create({"service.name": service_name}))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)


tracer = trace.get_tracer("orders")


def span(name: str, **attributes: Any) -> AbstractContextManager[trace.Span]:
    return tracer.start_as_current_span(name, attributes=attributes)
