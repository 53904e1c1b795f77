"""Components on their own, in the pulumi/examples `testing-unit-py` style: mocks installed
in-process, assertions inside `Output.apply` under `@pulumi.runtime.test`."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pulumi
import pytest

from infra.config import load_config
from infra.mocks import Recording, install

CFG = load_config({"orders:cluster": '{"privateAccessCidrs": ["10.99.0.0/16"]}'}.get)


@pytest.fixture(scope="module", autouse=True)
def recording() -> Iterator[Recording]:
    yield install(CFG.primary.region, "orders", "unit")


def inputs_of(recording: Recording, name: str) -> dict[str, Any]:
    (match,) = [r for r in recording.resources if r.name == name]
    return match.inputs


@pulumi.runtime.test
def test_queue_is_fifo_encrypted_and_dead_letters_into_a_fifo_dlq() -> Any:
    from infra.queues import Queue, QueueArgs

    key_arn = "arn:aws:kms:eu-central-1:123456789012:key/unit"
    queue = Queue("unit-queue", QueueArgs("orders-unit", CFG.primary, CFG.queue, key_arn))

    def check(args: list[Any]) -> None:
        fifo, kms_key, redrive, dlq_arn = args
        assert fifo is True
        assert kms_key == key_arn
        assert json.loads(redrive) == {
            "deadLetterTargetArn": dlq_arn,
            "maxReceiveCount": CFG.queue.max_receive_count,
        }
        assert dlq_arn.endswith("orders-unit-orders-dlq.fifo")

    return pulumi.Output.all(
        queue.queue.fifo_queue,
        queue.queue.kms_master_key_id,
        queue.queue.redrive_policy,
        queue.dlq.arn,
    ).apply(check)


@pulumi.runtime.test
def test_network_spreads_three_tiers_over_three_azs() -> Any:
    from infra.network import Network, NetworkArgs

    network = Network(
        "unit-network",
        NetworkArgs(
            "orders-unit", CFG.primary, CFG.network, "orders-unit", "arn:logs-key", "123456789012"
        ),
    )

    def check(vpc_id: str) -> None:
        assert vpc_id.startswith("unit-network-vpc")
        assert len(network.private_subnet_ids) == len(network.isolated_subnet_ids) == 3
        assert len(set(network.public_cidrs + network.private_cidrs + network.isolated_cidrs)) == 9

    return network.vpc_id.apply(check)


@pulumi.runtime.test
def test_cache_generates_its_auth_token_and_spreads_nodes(recording: Recording) -> Any:
    from infra.cache import Cache, CacheArgs

    cache = Cache(
        "unit-cache",
        CacheArgs(
            prefix="orders-unit",
            region=CFG.primary,
            settings=CFG.cache,
            vpc_id="vpc-1",
            subnet_ids=["a", "b", "c"],
            client_cidrs=["10.10.0.0/18"],
            kms_key_arn="arn:cache-key",
            logs_key_arn="arn:logs-key",
            log_retention_days=365,
        ),
    )

    def check(endpoint: str) -> None:
        assert endpoint.startswith("master.orders-unit-primary.")
        group = inputs_of(recording, "unit-cache-redis")
        assert group["authToken"] == "[secret]"  # from pulumi-random, marked secret
        assert len(set(group["preferredCacheClusterAzs"])) == CFG.primary.cache_nodes
        assert cache.member_cluster_ids[0] == "orders-unit-primary-001"

    return cache.primary_endpoint.apply(check)


def test_every_aws_resource_and_lookup_names_its_regional_provider(recording: Recording) -> None:
    """Nothing may fall back on the default provider (and so on ambient AWS settings)."""
    from pulumi.runtime.stack import run_pulumi_func
    from pulumi.runtime.sync_await import _sync_await

    from infra.program import deploy

    resources_before, calls_before = len(recording.resources), len(recording.calls)
    _sync_await(run_pulumi_func(lambda: deploy(CFG)))
    registered = recording.resources[resources_before:]
    aws_resources = [r for r in registered if r.custom and r.type.startswith("aws:")]
    assert len(aws_resources) > 200
    assert [r.name for r in aws_resources if not r.provider_urn] == []
    remote = [r for r in registered if r.type.startswith("eks:")]
    assert remote and all(r.provider_urns.get("aws") for r in remote)
    lookups = recording.calls[calls_before:]
    assert lookups and all(call.provider for call in lookups if call.token.startswith("aws:"))
    # every Helm release is installed on its own region's cluster (its kubernetes provider)
    releases = [r for r in registered if r.type == "kubernetes:helm.sh/v3:Release"]
    assert {r.name for r in releases} >= {
        "primary-cloudwatch-exporter-release", "standby-cloudwatch-exporter-release"
    }
    for release in releases:
        role = release.name.split("-", 1)[0]
        assert release.provider_urn.endswith(f"::{role}-cluster-k8s"), release.name
