"""Service-level objectives: the thresholds alarms, alerts and the canary analysis use."""

from __future__ import annotations

from dataclasses import dataclass

from infra.config.reader import Section


@dataclass(frozen=True)
class SloConfig:
    error_rate_percent: float
    p99_latency_ms: int
    queue_backlog_messages: int
    queue_oldest_message_seconds: int
    db_replica_lag_ms: int
    global_db_replication_lag_ms: int
    db_cpu_percent: int
    redis_cpu_percent: int
    redis_memory_percent: int
    alarm_email: str


def read_slo(s: Section) -> SloConfig:
    config = SloConfig(
        error_rate_percent=s.number("errorRatePercent", 1.0, 0.0, 100.0),
        p99_latency_ms=s.integer("p99LatencyMs", 500, lo=1),
        queue_backlog_messages=s.integer("queueBacklogMessages", 1000, lo=1),
        queue_oldest_message_seconds=s.integer("queueOldestMessageSeconds", 300, lo=1),
        db_replica_lag_ms=s.integer("dbReplicaLagMs", 1000, lo=1),
        global_db_replication_lag_ms=s.integer("globalDbReplicationLagMs", 5000, lo=1),
        db_cpu_percent=s.integer("dbCpuPercent", 80, lo=1, hi=100),
        redis_cpu_percent=s.integer("redisCpuPercent", 80, lo=1, hi=100),
        redis_memory_percent=s.integer("redisMemoryPercent", 80, lo=1, hi=100),
        alarm_email=s.text("alarmEmail", "oncall@orders.example.com"),
    )
    s.reject_unknown()
    if "@" not in config.alarm_email:
        s.problems.append(f"{s.path}.alarmEmail is not an e-mail address")
    return config
