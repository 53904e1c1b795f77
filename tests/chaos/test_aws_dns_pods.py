"""AWS drill scenarios, Route 53 and Kubernetes pods, and the scenarios with no AWS fault."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from botocore.stub import ANY

from chaos.aws.kube import KubeApi
from chaos.aws.scenarios import AwsContext, DrillOptions
from chaos.drill.report import REPORT_FIELDS
from tests.chaos.aws_support import (  # noqa: F401 - dummy_aws_env is an autouse fixture
    K8S,
    PRIMARY,
    Drill,
    dummy_aws_env,
)


# -- Route 53 ------------------------------------------------------------------------------
def health_check(inverted: bool) -> dict[str, Any]:
    return {
        "HealthCheck": {
            "Id": "hc-primary",
            "CallerReference": "ref",
            "HealthCheckVersion": 3,
            "HealthCheckConfig": {"Type": "HTTPS", "Inverted": inverted},
        }
    }


def observations(status: str) -> dict[str, Any]:
    return {
        "HealthCheckObservations": [
            {"Region": r, "IPAddress": "192.0.2.1", "StatusReport": {"Status": status}}
            for r in ("us-east-1", "eu-west-1", "ap-southeast-1")
        ]
    }


def metric(value: float) -> dict[str, Any]:
    return {
        "Label": "HealthCheckStatus",
        "Datapoints": [
            {"Timestamp": datetime(2025, 1, 1, 11, 59, tzinfo=UTC), "Minimum": 1.0},
            {"Timestamp": datetime(2025, 1, 1, 12, 0, tzinfo=UTC), "Minimum": value},
        ],
    }


def metric_query() -> dict[str, Any]:
    return {
        "Namespace": "AWS/Route53",
        "MetricName": "HealthCheckStatus",
        "Dimensions": [{"Name": "HealthCheckId", "Value": "hc-primary"}],
        "StartTime": ANY,
        "EndTime": ANY,
        "Period": 60,
        "Statistics": ["Minimum"],
    }


def test_dns_failover_inverts_the_primary_health_check_then_reverts_it() -> None:
    d = Drill()
    r53 = d.stub("route53", "us-east-1")
    cw = d.stub("cloudwatch", "us-east-1")
    r53.add_response("get_health_check", health_check(False), {"HealthCheckId": "hc-primary"})
    ok = observations("Success: HTTP Status Code 200, OK")
    r53.add_response("get_health_check_status", ok, {"HealthCheckId": "hc-primary"})
    r53.add_response("get_health_check_status", ok, {"HealthCheckId": "hc-standby"})
    invert = {"HealthCheckId": "hc-primary", "HealthCheckVersion": 3, "Inverted": True}
    r53.add_response("update_health_check", health_check(True), invert)
    cw.add_response("get_metric_statistics", metric(1.0), metric_query())
    cw.add_response("get_metric_statistics", metric(0.0), metric_query())
    revert = {"HealthCheckId": "hc-primary", "Inverted": False}
    r53.add_response("update_health_check", health_check(False), revert)
    cw.add_response("get_metric_statistics", metric(1.0), metric_query())

    report = d.run("dns-failover")

    assert report["verdict"] == "passed", report
    assert d.mutating() == [
        ("route53", "update_health_check", "us-east-1", invert),
        ("route53", "update_health_check", "us-east-1", revert),
    ]


def test_dns_failover_aborts_when_health_check_is_already_inverted() -> None:
    d = Drill()
    d.stub("route53", "us-east-1").add_response(
        "get_health_check", health_check(True), {"HealthCheckId": "hc-primary"}
    )
    report = d.run("dns-failover")
    assert report["verdict"] == "aborted"
    assert "already inverted" in report["verdict_reason"]
    assert d.mutating() == []


# -- Kubernetes pods -----------------------------------------------------------------------
def pod(name: str, node: str, ready: bool = True) -> dict[str, Any]:
    return {
        "metadata": {"name": name},
        "spec": {"nodeName": node},
        "status": {
            "phase": "Running",
            "conditions": [{"type": "Ready", "status": "True" if ready else "False"}],
        },
    }


class FakeKube:
    """The Kubernetes API for one namespace; `pods` is replaced by `after` once deleted."""

    def __init__(self, pods: list[dict[str, Any]], after: list[list[dict[str, Any]]]) -> None:
        self.pods = pods
        self.after = after
        self.deleted: list[tuple[str, dict[str, str]]] = []
        self.selectors: list[str] = []

    def handler(self, request: httpx.Request) -> httpx.Response:
        assert request.headers["Authorization"] == "Bearer k8s-token"
        path = request.url.path
        if path == "/api/v1/nodes":
            nodes = [
                {"metadata": {"name": f"node-{z}",
                              "labels": {"topology.kubernetes.io/zone": f"eu-west-1{z}"}}}
                for z in "abc"
            ]
            return httpx.Response(200, json={"items": nodes})
        if request.method == "GET" and path == "/api/v1/namespaces/orders/pods":
            self.selectors.append(request.url.params["labelSelector"])
            if self.deleted and self.after:
                self.pods = self.after.pop(0)
            return httpx.Response(200, json={"items": self.pods})
        if request.method == "DELETE":
            self.deleted.append((path, dict(request.url.params)))
            return httpx.Response(200, json={})
        return httpx.Response(404)


def with_kube(d: Drill, fake: FakeKube) -> None:
    d.stub("eks").add_response(
        "describe_cluster",
        {"cluster": {"name": "orders", "endpoint": K8S,
                     "certificateAuthority": {"data": ""}}},
        {"name": "orders"},
    )
    client = httpx.Client(transport=httpx.MockTransport(fake.handler))

    def factory(ctx: AwsContext) -> KubeApi:
        return KubeApi.for_eks(ctx.calls, cluster_name="orders", region=PRIMARY,
                               session=None, client=client, token=lambda: "k8s-token")

    d.ctx.kube_factory = factory


def test_api_replica_kill_deletes_the_api_pods_of_one_zone() -> None:
    d = Drill(DrillOptions(zone="eu-west-1b"))
    before = [pod("api-a", "node-a"), pod("api-b", "node-b"), pod("api-c", "node-c")]
    fake = FakeKube(
        before,
        after=[
            [pod("api-a", "node-a"), pod("api-c", "node-c"), pod("api-d", "node-a", False)],
            [pod("api-a", "node-a"), pod("api-c", "node-c"), pod("api-d", "node-a")],
        ],
    )
    with_kube(d, fake)

    report = d.run("api-replica-kill")

    assert report["verdict"] == "passed", report
    assert fake.deleted == [("/api/v1/namespaces/orders/pods/api-b", {"gracePeriodSeconds": "0"})]
    assert set(fake.selectors) == {"app.kubernetes.io/name=orders-api"}
    assert report["details"]["ready_after"] == 3
    assert [(s, op) for s, op, _, _ in d.mutating()] == [
        ("kubernetes", f"DELETE {K8S}/api/v1/namespaces/orders/pods/api-b")
    ]


def test_api_replica_kill_aborts_when_all_api_pods_share_one_zone() -> None:
    d = Drill()
    fake = FakeKube([pod("api-a", "node-a"), pod("api-a2", "node-a")], after=[])
    with_kube(d, fake)
    report = d.run("api-replica-kill")
    assert report["verdict"] == "aborted"
    assert "losing one zone would be an outage" in report["verdict_reason"]
    assert fake.deleted == []


def test_relay_kill_deletes_every_relay_pod() -> None:
    d = Drill(relayPodSelector="app=relay")
    fake = FakeKube(
        [pod("relay-1", "node-a"), pod("relay-2", "node-b")],
        after=[[pod("relay-3", "node-a"), pod("relay-4", "node-c")]],
    )
    with_kube(d, fake)

    report = d.run("relay-kill")

    assert report["verdict"] == "passed", report
    assert [p for p, _ in fake.deleted] == [
        "/api/v1/namespaces/orders/pods/relay-1",
        "/api/v1/namespaces/orders/pods/relay-2",
    ]
    assert set(fake.selectors) == {"app=relay"}


@pytest.mark.parametrize("name", ["redis-down", "queue-outage", "api-db-partition",
                                  "zone-partition"])
def test_scenarios_without_a_safe_aws_fault_say_so(name: str) -> None:
    d = Drill()
    report = d.run(name)
    assert report["verdict"] == "not-supported"
    assert "not supported on AWS" in report["verdict_reason"]
    assert d.calls.calls == []
    # The local drill's report schema, whatever the target.
    assert tuple(report) == REPORT_FIELDS
    assert report["target"] == "aws" and report["alerts"] == []


