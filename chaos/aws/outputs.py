"""The stack outputs the AWS drill reads: the JSON of `pulumi stack output --json`.

Every key the drill needs is declared once, here, in `StackOutputs`; the infrastructure
program (`infra/`) exports exactly these names. `load_stack_outputs` fails with one
message naming every missing or malformed key.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import contract

ARN_CLUSTER = re.compile(r"^arn:aws[\w-]*:rds:([\w-]+):(\d{12}):cluster:(.+)$")
PULUMI_SECRET_PLACEHOLDER = "[secret]"  # noqa: S105 - what Pulumi prints for secrets


class StackOutputsError(ValueError):
    """The stack outputs file is missing, unreadable or lacks keys the drill needs."""


def _key(name: str, doc: str, *, default: str | None = None, required: bool = True) -> Any:
    meta = {"key": name, "doc": doc, "required": required}
    if required:
        return field(metadata=meta)
    return field(default=default, metadata=meta)


@dataclass(frozen=True)
class StackOutputs:
    """Stack outputs used by `python -m chaos drill --target aws` (camelCase = output key)."""

    primary_region: str = _key("primaryRegion", "primary region, e.g. eu-west-1")
    standby_region: str = _key("standbyRegion", "warm-standby region, e.g. eu-central-1")
    global_cluster_id: str = _key("globalClusterId", "Aurora GlobalCluster identifier")
    primary_cluster_id: str = _key("primaryClusterId", "primary Aurora DB cluster identifier")
    primary_cluster_arn: str = _key("primaryClusterArn", "primary Aurora DB cluster ARN")
    standby_cluster_arn: str = _key(
        "standbyClusterArn", "secondary (standby-region) Aurora DB cluster ARN"
    )
    redis_replication_group_id: str = _key(
        "redisReplicationGroupId", "ElastiCache replication group id (primary region)"
    )
    queue_url: str = _key("queueUrl", "orders FIFO queue URL (primary region)")
    api_endpoint: str = _key(
        "apiEndpoint", "public base URL of the API (the Route 53 failover name), https://..."
    )
    primary_health_check_id: str = _key(
        "primaryHealthCheckId", "Route 53 health check of the primary region's endpoint"
    )
    standby_health_check_id: str = _key(
        "standbyHealthCheckId", "Route 53 health check of the standby region's endpoint"
    )
    fis_role_arn: str = _key("fisRoleArn", "IAM role AWS FIS assumes to run experiments")
    eks_cluster_name: str = _key("eksClusterName", "EKS cluster name (primary region)")
    service_namespace: str = _key("serviceNamespace", "Kubernetes namespace of the service")
    fis_az_power_interruption_template_id: str | None = _key(
        "fisAzPowerInterruptionTemplateId",
        "FIS 'AZ Availability: Power Interruption' template id; when absent the drill "
        "creates one for the chosen zone and deletes it afterwards",
        required=False,
    )
    fis_stop_condition_alarm_arn: str | None = _key(
        "fisStopConditionAlarmArn",
        "CloudWatch alarm ARN used as the FIS stop condition of a template the drill creates",
        required=False,
    )
    database_master_secret_arn: str | None = _key(
        "databaseMasterSecretArn",
        "Secrets Manager secret of the Aurora master credentials (the restore drill's "
        "verifier reads them to connect to the restored cluster)",
        required=False,
    )
    api_pod_selector: str = _key(
        "apiPodSelector",
        "label selector of the API pods",
        default=contract.API_POD_SELECTOR,
        required=False,
    )
    relay_pod_selector: str = _key(
        "relayPodSelector",
        "label selector of the outbox relay pods",
        default=contract.RELAY_POD_SELECTOR,
        required=False,
    )

    @property
    def standby_cluster_id(self) -> str:
        match = ARN_CLUSTER.match(self.standby_cluster_arn)
        return match.group(3) if match else self.standby_cluster_arn

    @classmethod
    def output_keys(cls, *, required: bool | None = None) -> list[str]:
        """Output key names (all, or only the required / optional ones)."""
        return [
            f.metadata["key"]
            for f in fields(cls)
            if required is None or f.metadata["required"] is required
        ]

    @classmethod
    def from_mapping(cls, data: dict[str, Any], *, source: str = "stack outputs") -> StackOutputs:
        missing: list[str] = []
        problems: list[str] = []
        values: dict[str, Any] = {}
        for f in fields(cls):
            key = f.metadata["key"]
            value = data.get(key)
            if value is None or value == "":
                if f.metadata["required"]:
                    missing.append(key)
                continue
            problem = _value_problem(key, value)
            if problem:
                problems.append(problem)
            else:
                values[f.name] = value
        problems += _shape_problems(values)
        if missing or problems:
            parts = (["missing keys: " + ", ".join(missing)] if missing else []) + problems
            raise StackOutputsError(
                f"{source}: " + "; ".join(parts) + ". Expected the JSON of "
                "`pulumi stack output --json` with the keys listed in chaos/aws/README.md."
            )
        return cls(**values)


def _value_problem(key: str, value: object) -> str | None:
    if value == PULUMI_SECRET_PLACEHOLDER:
        return f"{key} is a secret placeholder (use --show-secrets)"
    if not isinstance(value, str):
        return f"{key} must be a string, got {type(value).__name__}"
    return None


def _shape_problems(values: dict[str, Any]) -> list[str]:
    problems = [
        f"{key} is not an RDS cluster ARN"
        for name, key in (("primary_cluster_arn", "primaryClusterArn"),
                          ("standby_cluster_arn", "standbyClusterArn"))
        if name in values and not ARN_CLUSTER.match(values[name])
    ]
    if "api_endpoint" in values and not values["api_endpoint"].startswith(
        ("https://", "http://")
    ):
        problems.append("apiEndpoint must be a URL (https://...)")
    return problems


def load_stack_outputs(path: str | Path) -> StackOutputs:
    """Read `pulumi stack output --json` from `path`; clear error naming missing keys."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise StackOutputsError(f"cannot read stack outputs {p}: {exc.strerror}") from exc
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise StackOutputsError(f"{p}: not JSON ({exc.msg} at line {exc.lineno})") from exc
    if not isinstance(data, dict):
        raise StackOutputsError(f"{p}: expected a JSON object of stack outputs")
    return StackOutputs.from_mapping(data, source=str(p))
