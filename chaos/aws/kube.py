"""A few Kubernetes API calls over plain HTTPS (httpx), through the drill's call layer.

The `kubernetes` client is not a dependency of this project; the drill needs only to list
nodes and pods and delete pods. The API server address and CA come from
`eks.describe_cluster`; the bearer token is an EKS token (a presigned STS
GetCallerIdentity URL, as `aws eks get-token` makes), or `$KUBE_TOKEN` when set.
"""

from __future__ import annotations

import base64
import os
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from chaos.aws.calls import CallLayer

ZONE_LABEL = "topology.kubernetes.io/zone"
EKS_TOKEN_PREFIX = "k8s-aws-v1."  # noqa: S105 - a format prefix, not a secret


def eks_token(session: Any, cluster_name: str, region: str) -> str:
    """An EKS bearer token: base64url of a presigned STS GetCallerIdentity URL."""
    from botocore.model import ServiceId
    from botocore.signers import RequestSigner

    signer = RequestSigner(
        ServiceId("sts"), region, "sts", "v4", session.get_credentials(), session.events
    )
    request = {
        "method": "GET",
        "url": f"https://sts.{region}.amazonaws.com/?Action=GetCallerIdentity&Version=2011-06-15",
        "body": {},
        "headers": {"x-k8s-aws-id": cluster_name},
        "context": {},
    }
    url = signer.generate_presigned_url(
        request, region_name=region, expires_in=60, operation_name=""
    )
    encoded = base64.urlsafe_b64encode(url.encode()).decode().rstrip("=")
    return EKS_TOKEN_PREFIX + encoded


def pod_ready(pod: dict[str, Any]) -> bool:
    if pod.get("metadata", {}).get("deletionTimestamp"):
        return False
    status = pod.get("status", {})
    if status.get("phase") != "Running":
        return False
    return any(
        c.get("type") == "Ready" and c.get("status") == "True"
        for c in status.get("conditions", [])
    )


@dataclass
class KubeApi:
    calls: CallLayer
    server: str
    client: httpx.Client
    token: Callable[[], str]

    @classmethod
    def for_eks(
        cls,
        calls: CallLayer,
        *,
        cluster_name: str,
        region: str,
        session: Any,
        client: httpx.Client | None = None,
        token: Callable[[], str] | None = None,
    ) -> KubeApi:
        described = calls.aws("eks", "describe_cluster", region=region, name=cluster_name)
        cluster = described.get("cluster", {})
        server = cluster.get("endpoint") or "https://<eks-api-endpoint>"
        if client is None:
            ca = cluster.get("certificateAuthority", {}).get("data")
            verify: ssl.SSLContext | bool = True
            if ca:
                verify = ssl.create_default_context(cadata=base64.b64decode(ca).decode())
            client = httpx.Client(verify=verify, timeout=10.0)
        if token is None:
            static = os.environ.get("KUBE_TOKEN")

            def token() -> str:
                return static or eks_token(session, cluster_name, region)

        return cls(calls=calls, server=server.rstrip("/"), client=client, token=token)

    def _request(
        self, method: str, path: str, params: dict[str, str] | None = None
    ) -> dict[str, Any]:
        headers = {} if self.calls.dry_run else {"Authorization": f"Bearer {self.token()}"}
        response = self.calls.http(
            self.client, "kubernetes", method, self.server + path, params=params, headers=headers
        )
        if response is None:
            return {}
        if response.status_code == 404 and method == "DELETE":
            return {}
        response.raise_for_status()
        body: dict[str, Any] = response.json()
        return body

    def list_nodes(self) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = self._request("GET", "/api/v1/nodes").get("items", [])
        return items

    def node_zones(self) -> dict[str, str]:
        """node name -> zone label."""
        return {
            n["metadata"]["name"]: n["metadata"].get("labels", {}).get(ZONE_LABEL, "")
            for n in self.list_nodes()
        }

    def list_pods(self, namespace: str, selector: str) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = self._request(
            "GET", f"/api/v1/namespaces/{namespace}/pods", {"labelSelector": selector}
        ).get("items", [])
        return items

    def delete_pod(self, namespace: str, name: str) -> None:
        """Delete at once (grace period 0), as a SIGKILL of the process would."""
        self._request(
            "DELETE", f"/api/v1/namespaces/{namespace}/pods/{name}", {"gracePeriodSeconds": "0"}
        )
