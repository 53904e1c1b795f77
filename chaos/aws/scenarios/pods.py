"""Kubernetes pod deletion: every API pod of one zone, or every relay pod."""

from __future__ import annotations

from typing import ClassVar

from chaos.aws.kube import pod_ready
from chaos.aws.scenarios.base import AwsScenario


class PodKill(AwsScenario):
    selector_attr: ClassVar[str]
    whole_zone: ClassVar[bool] = True
    default_timeout_s = 600.0

    @property
    def selector(self) -> str:
        return str(getattr(self.out, self.selector_attr))

    def pre_check(self) -> None:
        super().pre_check()
        kube = self.ctx.kube()
        ns = self.out.service_namespace
        zones = kube.node_zones()
        pods = [p for p in kube.list_pods(ns, self.selector) if pod_ready(p)]
        self.require(pods, f"no ready pods match {self.selector!r} in namespace {ns}")
        pod_zone = {
            p["metadata"]["name"]: zones.get(p["spec"].get("nodeName", ""), "") for p in pods
        }
        self.facts["ready_before"] = self.known(len(pods) or None, "<number ready before>")
        self.facts["pod_zones"] = pod_zone
        if self.whole_zone:
            used = sorted({z for z in pod_zone.values() if z})
            self.require(
                len(used) >= 2,
                f"pods matching {self.selector!r} run in {used or 'no labelled zone'}: losing "
                "one zone would be an outage, not a drill",
            )
            zone = self.ctx.options.zone or (used[0] if used else None)
            victims = sorted(n for n, z in pod_zone.items() if z == zone)
            self.require(victims, f"no ready pods matching {self.selector!r} in zone {zone}")
            self.facts["zone"] = self.known(zone, "<first zone running the pods>")
        else:
            victims = sorted(pod_zone)
        self.facts["victims"] = victims or [f"<each ready pod matching {self.selector}>"]

    def inject(self) -> None:
        kube = self.ctx.kube()
        for name in self.facts["victims"]:
            kube.delete_pod(self.out.service_namespace, name)

    def wait_recovered(self, timeout_s: float | None = None) -> None:
        self.start_deadline(timeout_s)
        kube, ns = self.ctx.kube(), self.out.service_namespace
        victims, baseline = set(self.facts["victims"]), self.facts["ready_before"]

        def replaced() -> int | None:
            if not isinstance(baseline, int):  # dry run: the count is unknown
                return None
            pods = kube.list_pods(ns, self.selector)
            ready = [p["metadata"]["name"] for p in pods if pod_ready(p)]
            fresh = [n for n in ready if n not in victims]
            return len(fresh) if len(fresh) >= baseline else None

        self.facts["ready_after"] = self.poll(
            f"{baseline} pods matching {self.selector!r} are ready again", replaced, "<n>"
        )
        self.wait_endpoint_ready()


class ApiReplicaKill(PodKill):
    aws_fault = (
        "Kubernetes API: DELETE (grace period 0) of every ready API pod on nodes labelled "
        "topology.kubernetes.io/zone=<zone>"
    )
    selector_attr = "api_pod_selector"


class RelayKill(PodKill):
    aws_fault = "Kubernetes API: DELETE (grace period 0) of every ready relay pod"
    selector_attr = "relay_pod_selector"
    whole_zone = False
