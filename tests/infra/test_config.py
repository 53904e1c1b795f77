"""The typed stack config: defaults, the prod stack file, and every rejection rule."""

from __future__ import annotations

import ipaddress
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from infra.config import ConfigError, StackConfig, load_config, subnet_plan
from infra.config import reader as config_reader
from infra.plan import load_stack_settings

from .conftest import ROOT

PROD_FILE = ROOT / "Pulumi.prod.yaml"


def prod_values(*overrides: str) -> dict[str, str]:
    return load_stack_settings(PROD_FILE, list(overrides)).config


def load(*overrides: str) -> StackConfig:
    return load_config(prod_values(*overrides).get)


def problems(*overrides: str) -> list[str]:
    with pytest.raises(ConfigError) as raised:
        load(*overrides)
    return raised.value.problems


def test_prod_stack_file_is_valid_and_deploys_both_regions() -> None:
    cfg = load()
    assert cfg.standby_enabled
    assert (cfg.primary.region, cfg.standby.region) == ("eu-central-1", "eu-west-1")
    assert len(set(cfg.primary.azs)) == 3
    assert cfg.database.backup_retention_days >= 14


# The one setting without a default: how the deployer reaches the private API endpoint.
DEPLOYER_PATH = {"orders:cluster": '{"privateAccessCidrs": ["10.99.0.0/16"]}'}


def test_defaults_alone_are_valid_once_the_deployer_path_is_chosen() -> None:
    cfg = load_config(DEPLOYER_PATH.get)
    assert cfg.prefix == "orders-prod"
    assert cfg.primary.api_replicas >= 3
    assert not cfg.cluster.endpoint_public_access  # safe default: private endpoint only
    with pytest.raises(ConfigError, match="the deployer has no path to the Kubernetes API"):
        load_config({}.get)


def _known_settings(monkeypatch: pytest.MonkeyPatch) -> set[str]:
    """Every setting path the loader reads, e.g. 'orders:primary.nodeGroup.minSize'."""
    seen: set[str] = set()
    original = config_reader.Section.reject_unknown

    def record(section: Any) -> None:
        seen.update(f"{section.path}.{key}" for key in section.seen)
        original(section)

    monkeypatch.setattr(config_reader.Section, "reject_unknown", record)
    load_config(DEPLOYER_PATH.get)
    return seen


def _leaf_paths(prefix: str, value: Any) -> set[str]:
    if isinstance(value, dict):
        out: set[str] = set()
        for key, child in value.items():
            out |= _leaf_paths(f"{prefix}.{key}", child)
        return out
    return {prefix}


def test_every_tunable_is_listed_in_the_prod_stack_file(monkeypatch: pytest.MonkeyPatch) -> None:
    raw = yaml.safe_load(PROD_FILE.read_text())["config"]
    listed: set[str] = set()
    for key, value in raw.items():
        listed |= _leaf_paths(key, value)
    # top-level scalars are read by a section whose path is the bare namespace
    known = {k.replace("orders.", "orders:", 1) for k in _known_settings(monkeypatch)}
    leaves = {k for k in known if not any(other.startswith(f"{k}.") for other in known)}
    missing = sorted(leaves - listed)
    assert missing == [], f"settings with a code default, absent from Pulumi.prod.yaml: {missing}"
    assert len(leaves) > 80


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        ('orders:primary.azs=["eu-central-1a","eu-central-1b"]', "exactly 3 availability zones"),
        (
            'orders:primary.azs=["eu-central-1a","eu-central-1b","eu-central-1c","eu-central-2a"]',
            "exactly 3 availability zones",
        ),
        ('orders:standby.azs=["eu-west-1a","eu-west-1a","eu-west-1b"]', "must be distinct"),
        (
            'orders:primary.azs=["eu-central-1a","eu-central-1b","eu-west-1c"]',
            "not an availability zone of eu-central-1",
        ),
        ("orders:primary.cacheNodes=1", "cacheNodes must be >= 2"),
        ("orders:standby.dbInstances=1", "dbInstances must be >= 2"),
        ("orders:primary.apiReplicas=2", "apiReplicas must be >= 3"),
        ("orders:primary.relayReplicas=1", "relayReplicas must be >= 2"),
        ("orders:primary.vpcCidr=10.10.0.0/33", "not a valid CIDR block"),
        ("orders:primary.vpcCidr=10.10.0.1/16", "not a valid CIDR block"),
        ("orders:primary.vpcCidr=52.0.0.0/16", "private IPv4 range"),
        ("orders:primary.vpcCidr=10.0.0.0/8", "prefix between /16 and /19"),
        ("orders:standby.vpcCidr=10.10.128.0/17", "overlap"),
        ("orders:database.backupRetentionDays=7", "backupRetentionDays must be >= 14"),
        ('orders:cluster.kubernetesVersion="1.29"', ">= 1.30"),
        ("orders:cluster.kubernetesVersion=1.30", "must be a string"),  # YAML reads 1.3
        ("orders:cluster.endpointPublicAccess=true", "publicAccessCidrs must list"),
        ("orders:cluster.privateAccessCidrs=[]", "the deployer has no path"),
        ('orders:cluster.kubernetesVersion="1.34"', "no matching cluster-autoscaler image"),
        ('orders:database.engineVersion="16.9"', "does not match parameterGroupFamily"),
        ("orders:workload.imageDigest=sha256:abc", "imageDigest must be sha256"),
        ("orders:workload.otelEndpoint=collector:4318", "otelEndpoint must be an http(s) URL"),
        ('orders:cluster.publicAccessCidrs=["0.0.0.0/0"]', "must not contain 0.0.0.0/0"),
        ("orders:workload.imageTag=latest", "immutable tag"),
        ("orders:workload.canaryWeights=[50,25]", "canaryWeights must increase"),
        ("orders:backup.copyRetentionDays=500", "vault lock range"),
        ("orders:primary.nodeGroup.minSize=2", "minSize must be >= 3"),
        ("orders:primary.apiReplica=5", "orders:primary.apiReplica is not a known setting"),
        ("orders:standbyEnabled=maybe", "standbyEnabled must be true or false"),
        ("aws:region=us-east-1", "must equal orders:primary.region"),
        ("orders:slo.alarmEmail=nobody", "not an e-mail address"),
    ],
)
def test_invalid_settings_are_rejected_with_a_clear_message(override: str, expected: str) -> None:
    found = problems(override)
    assert any(expected in p for p in found), f"{expected!r} not in {found}"


def test_jwt_secret_must_be_a_pulumi_secret_of_at_least_32_bytes() -> None:
    values = prod_values() | {"orders:jwtSecret": "x" * 40}
    with pytest.raises(ConfigError) as plain:
        load_config(values.get, is_secret=lambda key: False)
    assert plain.value.problems == [
        "orders:jwtSecret must be set with `pulumi config set --secret`"
    ]
    with pytest.raises(ConfigError) as short:
        load_config((values | {"orders:jwtSecret": "short"}).get)
    assert short.value.problems == ["orders:jwtSecret must be at least 32 bytes long"]
    assert load_config(values.get).standby_enabled


def test_encrypted_stack_values_get_a_stand_in_offline(tmp_path: Path) -> None:
    (tmp_path / "Pulumi.yaml").write_text("name: orders\n")
    stack_file = tmp_path / "Pulumi.prod.yaml"
    stack_file.write_text(
        "config:\n  orders:jwtSecret:\n    secure: v1:abc\n"
        "  orders:cluster:\n    privateAccessCidrs: [10.99.0.0/16]\n"
    )
    settings = load_stack_settings(stack_file, [])
    assert settings.secret_keys == ["orders:jwtSecret"]
    assert load_config(settings.config.get).environment == "prod"


def test_all_problems_are_reported_at_once() -> None:
    found = problems(
        'orders:primary.azs=["eu-central-1a","eu-central-1b"]',
        "orders:primary.cacheNodes=1",
        "orders:primary.vpcCidr=not-a-cidr",
    )
    assert len(found) == 3
    message = str(ConfigError(found))
    assert message.startswith("invalid stack configuration (3 problem(s))")


def test_standby_checks_are_skipped_when_the_standby_is_off() -> None:
    cfg = load("orders:standbyEnabled=false", "orders:standby.vpcCidr=10.10.0.0/16")
    assert cfg.regions == (cfg.primary,)


def test_subnets_are_disjoint_and_inside_the_vpc() -> None:
    plan = subnet_plan("10.10.0.0/16")
    networks = [ipaddress.ip_network(c) for tier in plan.values() for c in tier]
    assert [len(plan[t]) for t in ("public", "private", "isolated")] == [3, 3, 3]
    vpc = ipaddress.ip_network("10.10.0.0/16")
    assert all(n.subnet_of(vpc) for n in networks)  # type: ignore[arg-type]
    assert not any(a.overlaps(b) for i, a in enumerate(networks) for b in networks[i + 1 :])
    assert ipaddress.ip_network(plan["private"][0]).prefixlen == 18  # room for pod IPs


def test_pods_get_time_for_deregistration_drain_and_in_flight_requests() -> None:
    w = load().workload
    assert w.termination_grace_seconds > (
        w.pre_stop_sleep_seconds + w.drain_seconds + w.in_flight_timeout_seconds
    )


def test_structured_values_arrive_as_json_like_the_engine_passes_them() -> None:
    values = prod_values("orders:primary.apiReplicas=4")
    assert json.loads(values["orders:primary"])["apiReplicas"] == 4
    assert values["orders:standbyEnabled"] == "true"
