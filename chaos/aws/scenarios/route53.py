"""Route 53 failover to the standby region by inverting the primary health check."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from chaos.aws.scenarios.base import AwsScenario

ROUTE53_REGION = "us-east-1"  # Route 53 is global; its health-check metrics live here

class DnsFailover(AwsScenario):
    aws_fault = "route53.update_health_check(Inverted=True) on primaryHealthCheckId, then back"
    default_timeout_s = 600.0

    def checker_status(self, health_check_id: str) -> bool | None:
        """True when most Route 53 checkers report success (only for non-inverted checks)."""
        r = self.aws(
            "route53", "get_health_check_status", ROUTE53_REGION, HealthCheckId=health_check_id
        )
        obs = r.get("HealthCheckObservations", [])
        if not obs:
            return None
        statuses = [o.get("StatusReport", {}).get("Status", "") for o in obs]
        ok = sum(1 for s in statuses if s.startswith("Success"))
        return ok * 2 > len(obs)

    def route53_status(self, health_check_id: str) -> float | None:
        """Latest `AWS/Route53 HealthCheckStatus` minimum (1 healthy, 0 unhealthy)."""
        now = self.ctx.calls.clock.now()
        r = self.aws(
            "cloudwatch",
            "get_metric_statistics",
            ROUTE53_REGION,
            Namespace="AWS/Route53",
            MetricName="HealthCheckStatus",
            Dimensions=[{"Name": "HealthCheckId", "Value": health_check_id}],
            StartTime=now - timedelta(minutes=5),
            EndTime=now,
            Period=60,
            Statistics=["Minimum"],
        )
        points = r.get("Datapoints", [])
        if not points:
            return None
        latest = max(points, key=lambda p: p.get("Timestamp") or datetime.min)
        value = latest.get("Minimum")
        return float(value) if value is not None else None

    def pre_check(self) -> None:
        super().pre_check()
        primary = self.out.primary_health_check_id
        got = self.aws("route53", "get_health_check", ROUTE53_REGION, HealthCheckId=primary)
        hc = got.get("HealthCheck", {})
        inverted = hc.get("HealthCheckConfig", {}).get("Inverted")
        self.require(
            not inverted,
            f"health check {primary} is already inverted: a previous drill did not roll back",
        )
        self.facts["health_check_version"] = hc.get("HealthCheckVersion")
        for hc_id, label in ((primary, "primary"), (self.out.standby_health_check_id, "standby")):
            healthy = self.checker_status(hc_id)
            self.require(healthy, f"the {label} health check {hc_id} is not healthy")

    def inject(self) -> None:
        params: dict[str, Any] = {"HealthCheckId": self.out.primary_health_check_id}
        if self.facts.get("health_check_version") is not None:
            params["HealthCheckVersion"] = self.facts["health_check_version"]
        params["Inverted"] = True
        self.aws("route53", "update_health_check", ROUTE53_REGION, **params)

    def wait_recovered(self, timeout_s: float | None = None) -> None:
        self.start_deadline(timeout_s)
        primary = self.out.primary_health_check_id
        self.poll(
            f"Route 53 reports {primary} unhealthy (HealthCheckStatus = 0)",
            lambda: self.route53_status(primary) == 0.0,
        )
        self.wait_endpoint_ready()

    def rollback(self) -> None:
        primary = self.out.primary_health_check_id
        self.aws("route53", "update_health_check", ROUTE53_REGION, HealthCheckId=primary,
                 Inverted=False)
        self.start_deadline(self.default_timeout_s)
        self.poll(
            f"Route 53 reports {primary} healthy again (HealthCheckStatus = 1)",
            lambda: self.route53_status(primary) == 1.0,
        )
        self.notes.append(f"health check {primary} un-inverted and healthy again")
