"""The order service's pods: image, resources, shutdown timing, tokens, canary, scaling."""

from __future__ import annotations

import re
from dataclasses import dataclass

from infra.config.reader import Section

K8S_QUANTITY_RE = re.compile(r"^\d+(\.\d+)?(m|Mi|Gi|Ki)?$")
DIGEST_RE = re.compile(r"sha256:[0-9a-f]{64}")
ECR_REPOSITORY_RE = re.compile(r"\d{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com/[a-z0-9._/-]+")


@dataclass(frozen=True)
class WorkloadConfig:
    namespace: str
    image_repository: str
    image_tag: str
    # sha256 digest of image_tag: pods run exactly the image that was scanned and tested
    image_digest: str
    # digest of `<imageTag>-restore-verifier` (Dockerfile.restore-verifier): the scheduled
    # restore drill and restore-test validation jobs
    restore_verifier_image_digest: str
    cpu_request: str
    memory_request: str
    cpu_limit: str
    memory_limit: str
    pre_stop_sleep_seconds: int
    drain_seconds: int
    in_flight_timeout_seconds: int
    jwt_issuer: str
    jwt_audience: str
    otel_endpoint: str
    canary_weights: tuple[int, ...]
    canary_pause_seconds: int
    queue_messages_per_worker: int
    relay_events_per_message: int

    @property
    def termination_grace_seconds(self) -> int:
        # The preStop sleep covers the load balancer's deregistration; then SIGTERM makes
        # the service fail readiness for `drain_seconds` and finish in-flight requests.
        # A small margin keeps the kubelet from SIGKILLing a shutdown that is on time.
        return self.pre_stop_sleep_seconds + self.drain_seconds + self.in_flight_timeout_seconds + 5


def read_workload(s: Section) -> WorkloadConfig:
    config = WorkloadConfig(
        namespace=s.text("namespace", "orders"),
        image_repository=s.text(
            "imageRepository", "123456789012.dkr.ecr.eu-central-1.amazonaws.com/orders-service"
        ),
        image_tag=s.text("imageTag", "0.1.0"),
        image_digest=s.text("imageDigest", "sha256:" + "0" * 64),
        restore_verifier_image_digest=s.text("restoreVerifierImageDigest", "sha256:" + "0" * 64),
        cpu_request=s.text("cpuRequest", "500m"),
        memory_request=s.text("memoryRequest", "512Mi"),
        cpu_limit=s.text("cpuLimit", "2"),
        memory_limit=s.text("memoryLimit", "1Gi"),
        pre_stop_sleep_seconds=s.integer("preStopSleepSeconds", 15, lo=1, hi=60),
        drain_seconds=s.integer("drainSeconds", 5, lo=0, hi=60),
        in_flight_timeout_seconds=s.integer("inFlightTimeoutSeconds", 20, lo=1, hi=300),
        jwt_issuer=s.text("jwtIssuer", "https://auth.orders.example.com"),
        jwt_audience=s.text("jwtAudience", "investment-orders"),
        # Empty: no OTLP export. Set it only to a collector that actually runs.
        otel_endpoint=s.text("otelEndpoint", "", allow_empty=True),
        canary_weights=s.integers("canaryWeights", [10, 25, 50]),
        canary_pause_seconds=s.integer("canaryPauseSeconds", 120, lo=30),
        queue_messages_per_worker=s.integer("queueMessagesPerWorker", 50, lo=1),
        # Packs (service/messaging/envelope.py): 1 while workers older than packs may run.
        relay_events_per_message=s.integer("relayEventsPerMessage", 10, lo=1, hi=10),
    )
    s.reject_unknown()
    if config.image_tag in {"latest", ""}:
        s.problems.append(f"{s.path}.imageTag must be an immutable tag, not {config.image_tag!r}")
    if not ECR_REPOSITORY_RE.fullmatch(config.image_repository):
        s.problems.append(f"{s.path}.imageRepository must be an ECR repository URL")
    for key, digest in (("imageDigest", config.image_digest),
                        ("restoreVerifierImageDigest", config.restore_verifier_image_digest)):
        if not DIGEST_RE.fullmatch(digest):
            s.problems.append(f"{s.path}.{key} must be sha256:<64 hex digits>")
    if config.otel_endpoint and not config.otel_endpoint.startswith(("http://", "https://")):
        s.problems.append(f"{s.path}.otelEndpoint must be an http(s) URL or empty")
    for key in ("cpu_request", "memory_request", "cpu_limit", "memory_limit"):
        if not K8S_QUANTITY_RE.match(getattr(config, key)):
            s.problems.append(f"{s.path}.{key} {getattr(config, key)!r} is not a quantity")
    weights = config.canary_weights
    if not weights or list(weights) != sorted(set(weights)) or not 0 < weights[-1] < 100:
        s.problems.append(f"{s.path}.canaryWeights must increase strictly within 1..99")
    return config
