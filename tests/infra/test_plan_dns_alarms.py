"""Route 53 failover and the CloudWatch alarms,
asserted over `python -m infra.plan --json` (mocked engine): inputs exactly as the
engine and a policy pack receive them (camelCase, secrets masked, references as URNs).
"""

from __future__ import annotations

import json

import pytest

from .conftest import PRIMARY, STANDBY, Plan


def test_route53_failover_pair_with_health_checks(plan: Plan) -> None:
    records = plan.of_type("aws:route53/record:Record")
    failover = [r["inputs"] for r in records if r["inputs"].get("failoverRoutingPolicies")]
    assert {r["name"] for r in failover} == {"api.orders.example.com"}
    kinds = {r["failoverRoutingPolicies"][0]["type"]: r for r in failover}
    assert set(kinds) == {"PRIMARY", "SECONDARY"}
    checks = {c["name"]: c["inputs"] for c in plan.of_type("aws:route53/healthCheck:HealthCheck")}
    for kind, region in (("PRIMARY", PRIMARY), ("SECONDARY", STANDBY)):
        record = kinds[kind]
        check = next(c for n, c in checks.items() if record["healthCheckId"].startswith(n))
        assert check["fqdn"] == record["records"][0]
        assert check["fqdn"].endswith(f"{region}.elb.amazonaws.com")
        assert check["resourcePath"] == "/health/ready" and check["type"] == "HTTPS"


@pytest.mark.parametrize(("role", "region"), [("primary", PRIMARY), ("standby", STANDBY)])
def test_alarms_cover_database_cache_queue_and_alb(plan: Plan, role: str, region: str) -> None:
    alarms = plan.of_type("aws:cloudwatch/metricAlarm:MetricAlarm", region)
    metrics = {a["inputs"].get("metricName") for a in alarms}
    lag = "AuroraReplicaLagMaximum" if role == "primary" else "AuroraGlobalDBReplicationLag"
    assert {
        lag,
        "CPUUtilization",
        "EngineCPUUtilization",
        "ApproximateNumberOfMessagesVisible",
        "ApproximateAgeOfOldestMessage",
        "TargetResponseTime",
    } <= metrics
    five_xx = plan.named(f"{role}-alarms-alb-5xx-rate")["inputs"]
    assert any("HTTPCode_Target_5XX_Count" in json.dumps(q) for q in five_xx["metricQueries"])
    (topic,) = [  # the other topic is Alertmanager's ticket topic (infra/monitoring.py)
        t for t in plan.of_type("aws:sns/topic:Topic", region) if "alarms" in t["name"]
    ]
    topic_arn_prefix = f"arn:aws:sns:{region}:"
    assert all(a["inputs"]["alarmActions"][0].startswith(topic_arn_prefix) for a in alarms)
    assert topic["name"] == f"{role}-alarms-topic"
