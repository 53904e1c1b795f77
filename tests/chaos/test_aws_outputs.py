"""The stack outputs the AWS drill needs: one loader, one clear error naming missing keys."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from chaos.aws.outputs import StackOutputs, StackOutputsError, load_stack_outputs

ACCOUNT = "123456789012"
COMPLETE = {
    "primaryRegion": "eu-west-1",
    "standbyRegion": "eu-central-1",
    "globalClusterId": "orders-global",
    "primaryClusterId": "orders-primary",
    "primaryClusterArn": f"arn:aws:rds:eu-west-1:{ACCOUNT}:cluster:orders-primary",
    "standbyClusterArn": f"arn:aws:rds:eu-central-1:{ACCOUNT}:cluster:orders-standby",
    "redisReplicationGroupId": "orders-redis",
    "queueUrl": f"https://sqs.eu-west-1.amazonaws.com/{ACCOUNT}/orders.fifo",
    "apiEndpoint": "https://api.orders.example.com",
    "primaryHealthCheckId": "hc-primary",
    "standbyHealthCheckId": "hc-standby",
    "fisRoleArn": f"arn:aws:iam::{ACCOUNT}:role/orders-fis",
    "eksClusterName": "orders",
    "serviceNamespace": "orders",
}


def write(tmp_path: Path, data: object) -> Path:
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps(data))
    return path


def test_loads_pulumi_stack_output_json(tmp_path: Path) -> None:
    extra = {"vpcId": "vpc-1", "kubeconfig": {"apiVersion": "v1"}}  # other outputs: ignored
    out = load_stack_outputs(write(tmp_path, COMPLETE | extra))
    assert out.primary_region == "eu-west-1"
    assert out.standby_cluster_id == "orders-standby"
    assert out.fis_az_power_interruption_template_id is None
    assert out.api_pod_selector == "app.kubernetes.io/name=orders-api"
    assert out.relay_pod_selector == "app.kubernetes.io/name=orders-relay"


def test_missing_keys_are_all_named(tmp_path: Path) -> None:
    partial = {k: v for k, v in COMPLETE.items() if k not in ("queueUrl", "fisRoleArn")}
    with pytest.raises(StackOutputsError) as err:
        load_stack_outputs(write(tmp_path, partial))
    message = str(err.value)
    assert "missing keys: queueUrl, fisRoleArn" in message
    assert "pulumi stack output --json" in message
    assert str(tmp_path / "outputs.json") in message


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"redisReplicationGroupId": "[secret]"}, "redisReplicationGroupId is a secret"),
        ({"primaryClusterArn": "orders-primary"}, "primaryClusterArn is not an RDS cluster ARN"),
        ({"apiEndpoint": "api.orders.example.com"}, "apiEndpoint must be a URL"),
        ({"eksClusterName": 3}, "eksClusterName must be a string"),
    ],
)
def test_malformed_values_are_named(tmp_path: Path, change: dict[str, object],
                                    expected: str) -> None:
    with pytest.raises(StackOutputsError, match=expected):
        load_stack_outputs(write(tmp_path, COMPLETE | change))


def test_unreadable_or_non_object_files(tmp_path: Path) -> None:
    with pytest.raises(StackOutputsError, match="cannot read stack outputs"):
        load_stack_outputs(tmp_path / "absent.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(StackOutputsError, match="not JSON"):
        load_stack_outputs(bad)
    with pytest.raises(StackOutputsError, match="expected a JSON object"):
        load_stack_outputs(write(tmp_path, ["primaryRegion"]))


def test_key_lists_for_the_infrastructure_program() -> None:
    assert StackOutputs.output_keys(required=True) == list(COMPLETE)
    assert StackOutputs.output_keys(required=False) == [
        "fisAzPowerInterruptionTemplateId",
        "fisStopConditionAlarmArn",
        "databaseMasterSecretArn",
        "apiPodSelector",
        "relayPodSelector",
    ]


def test_readme_documents_every_key() -> None:
    readme = (Path(__file__).resolve().parents[2] / "chaos" / "aws" / "README.md").read_text()
    for key in StackOutputs.output_keys():
        assert f"`{key}`" in readme, key
