"""The stack's plan and drivers without starting anything: what each kind would run, the
configs checked by the tools' own validators (promtool, amtool, nft), the integrator's key
pair and environment, and how partition groups resolve."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

from chaos.stack import NetworkIsolationUnavailable, Stack, StackError, faults, plan
from chaos.stack.drivers import driver_for
from chaos.stack.drivers.base import PlanOptions
from chaos.stack.network import LOOPBACK, NETNS, Network

NEEDS = ["/usr/bin/patroni", "/usr/bin/etcd", "/usr/sbin/haproxy", "/usr/bin/redis-sentinel",
         "/usr/bin/prometheus", "/usr/bin/prometheus-alertmanager"]
pytestmark = pytest.mark.skipif(
    not all(Path(p).exists() for p in NEEDS), reason="run: make sysdeps (HA stack binaries)"
)


def _plan(tmp_path: Path, mode: str, **options: bool) -> Stack:
    opts = PlanOptions(app=True, sqs=True, integrator=options.get("integrator", False),
                       monitoring=options.get("monitoring", False), network=mode,
                       backup=options.get("backup", False))
    return Stack(plan.build(tmp_path, opts, Network.plan(mode)))


def test_every_kind_has_a_driver_and_the_default_plan_is_unchanged(tmp_path: Path) -> None:
    stack = _plan(tmp_path, LOOPBACK)
    assert [c.name for c in stack.state.components] == [
        "etcd", "pg-a", "pg-b", "pg-c", "haproxy", "redis-a", "redis-b", "sentinel-a",
        "sentinel-b", "sentinel-c", "sqs", "api-a", "api-b", "api-c", "relay-a", "relay-b",
        "worker-c",
    ]
    for comp in stack.state.components:
        assert driver_for(comp).kind == comp.kind
        assert comp.host == "127.0.0.1" and comp.netns is None
    assert "ORDERS_AUDIT_SIGNING_KEY_FILE" not in stack.app_env()
    relay = stack.component("relay-a")
    assert relay.argv[1:6] == ["-m", "service", "relay", "--health-port",
                               str(relay.ports["http"])]


def test_backup_option_archives_from_every_node_into_one_stanza(tmp_path: Path) -> None:
    import json

    assert "pgbackrest_config" not in _plan(tmp_path / "plain", LOOPBACK).endpoints
    stack = _plan(tmp_path / "backup", LOOPBACK, backup=True)
    config = stack.endpoints["pgbackrest_config"]
    assert stack.state.options["backup"] is True
    for node in stack.components(kind="patroni"):
        params = json.loads(Path(node.paths["config"]).read_text())["postgresql"]["parameters"]
        assert params["archive_mode"] == "on"
        # its own data dir: a leader never reads another (maybe destroyed) node's
        assert params["archive_command"] == (
            f"/usr/bin/pgbackrest --config={config} --stanza=orders"
            f" --pg1-path={node.paths['data_dir']} archive-push %p")


def test_integrator_argv_env_and_key_pair(tmp_path: Path) -> None:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import (
        Ed25519PrivateKey,
        Ed25519PublicKey,
    )
    from cryptography.hazmat.primitives.serialization import (
        load_pem_private_key,
        load_pem_public_key,
    )

    stack = _plan(tmp_path, LOOPBACK, integrator=True)
    integrators = stack.components(kind="integrator")
    assert [(c.name, c.zone) for c in integrators] == [("integrator-a", "a"),
                                                       ("integrator-b", "b")]
    for comp in integrators:
        assert comp.argv[1:] == ["-m", "service", "integrator", "--health-port",
                                 str(comp.ports["http"]), "--health-host", comp.host]
        assert comp.match in " ".join(comp.argv)
    env = driver_for(integrators[0]).env(stack, integrators[0])
    private_path = Path(env["ORDERS_AUDIT_SIGNING_KEY_FILE"])
    public_path = Path(env["ORDERS_AUDIT_PUBLIC_KEY_FILE"])
    assert stat.S_IMODE(private_path.stat().st_mode) == 0o600
    assert private_path.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")  # PKCS#8
    assert public_path.read_bytes().startswith(b"-----BEGIN PUBLIC KEY-----")  # SPKI
    private = load_pem_private_key(private_path.read_bytes(), password=None)
    public = load_pem_public_key(public_path.read_bytes())
    assert isinstance(private, Ed25519PrivateKey) and isinstance(public, Ed25519PublicKey)
    public.verify(private.sign(b"checkpoint"), b"checkpoint")  # the pair belongs together
    checkpoints = Path(env["ORDERS_CHECKPOINT_DIR"])
    assert checkpoints.is_dir() and checkpoints.is_relative_to(tmp_path)
    assert env["ORDERS_AUDIT_LOG_ORIGIN"] == "orders.local/audit-log"
    assert env["ORDERS_DATABASE_URL"] == stack.endpoints["database_url_app"]
    # The drill checker's `audit verify` gets the same files through app_env.
    assert stack.app_env()["ORDERS_AUDIT_PUBLIC_KEY_FILE"] == str(public_path)


def test_monitoring_configs_pass_promtool_and_amtool(tmp_path: Path) -> None:
    stack = _plan(tmp_path, NETNS, monitoring=True)
    prom = stack.component("prometheus")
    manager = stack.component("alertmanager")
    assert prom.host == manager.host == "127.0.0.1" and prom.netns is None  # observers
    config = Path(prom.paths["config"])
    checked = subprocess.run(["promtool", "check", "config", str(config)],
                             capture_output=True, text=True, check=False)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    am = subprocess.run(["amtool", "check-config", manager.paths["config"]],
                        capture_output=True, text=True, check=False)
    assert am.returncode == 0, am.stdout + am.stderr
    assert "receivers" in am.stdout.lower() or "Found" in am.stdout
    text = config.read_text()
    api = stack.component("api-b")
    assert f'"{api.host}:{api.ports["http"]}"' in text
    for job in ("orders-api", "orders-relay", "orders-worker", "patroni", "haproxy"):
        assert f'"job_name": "{job}"' in text
    edge = stack.component("haproxy")  # the edge's own 5xx feed the availability SLI
    assert f'"{edge.host}:{edge.ports["metrics"]}"' in text
    assert f"127.0.0.1:{manager.ports['http']}" in text


def test_netns_plan_gives_zonal_components_their_own_namespace(tmp_path: Path) -> None:
    stack = _plan(tmp_path, NETNS)
    net = stack.network
    prefix = str(net.prefix)
    for comp in stack.state.components:
        if comp.zone is None:
            assert comp.netns is None and comp.host.startswith(f"{prefix}.0.")
        else:
            octet = {"a": 1, "b": 2, "c": 3}[comp.zone]
            assert comp.host.startswith(f"{prefix}.{octet}.")
            assert comp.netns == f"cs{net.index}-{comp.name}"
    hosts = [c.host for c in stack.state.components]
    assert len(hosts) == len(set(hosts)) and net.observer not in hosts
    hap_cfg = Path(stack.component("haproxy").paths["config"]).read_text()
    assert f"source {stack.component('haproxy').host}" in hap_cfg  # told apart from us
    sqs = stack.component("sqs")
    assert f"server sqs 127.0.0.1:{sqs.ports['internal']}" in hap_cfg
    argv = net.wrap("cs0-pg-a", ["patroni", "x.yml"])
    assert argv[:3] == ["nsenter", "--net=/run/netns/cs0-pg-a", "--"]


def test_partition_groups_resolve(tmp_path: Path) -> None:
    stack = _plan(tmp_path, NETNS)

    def names(spec: str, other: str | None = None) -> list[str]:
        side = faults.resolve_group(stack, other) if other else []
        return [c.name for c in faults.resolve_group(stack, spec, side)]

    assert names("zone:a") == ["pg-a", "redis-a", "sentinel-a", "api-a", "relay-a"]
    assert names("zone:shared") == ["etcd", "haproxy", "sqs"]
    assert names("kind:api") == ["api-a", "api-b", "api-c"]
    assert names("kind:api@c") == ["api-c"]
    assert names("pg-b,kind:sentinel@a") == ["pg-b", "sentinel-a"]
    everything_else = names("*", "zone:a")
    assert "pg-a" not in everything_else and {"etcd", "pg-b", "worker-c"} <= set(everything_else)
    with pytest.raises(StackError):
        names("kind:nothing")
    with pytest.raises(StackError):
        names("pg-z")


def test_partition_without_isolation_is_a_clear_error(tmp_path: Path) -> None:
    stack = _plan(tmp_path, LOOPBACK)
    with pytest.raises(NetworkIsolationUnavailable, match="without network isolation"):
        stack.partition("zone:a", "*")
    stack.heal("p1", timeout=1)  # healing what never existed is a no-op
    assert stack.partitions() == {}


@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("nft") is None,
                    reason="nft -c needs root and nftables")
def test_partition_ruleset_passes_nft_check(tmp_path: Path) -> None:
    net = Network.plan(NETNS)
    script = faults.ruleset(net, [("10.200.1.1", "10.200.0.10"), ("10.200.1.1", "10.200.2.1")])
    assert "10.200.1.1 . 10.200.0.10" in script and "10.200.0.10 . 10.200.1.1" in script
    checked = subprocess.run(["nft", "-c", "-f", "-"], input=script, capture_output=True,
                             text=True, check=False)
    assert checked.returncode == 0, checked.stderr


def test_cli_partition_without_isolation_fails_clearly(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from chaos.stack.cli import main
    from chaos.stack.state import save_state

    save_state(_plan(tmp_path, LOOPBACK).state)
    assert main(["partition", "--state-dir", str(tmp_path), "zone:a", "*"]) == 1
    assert "without network isolation" in capsys.readouterr().err
    assert main(["heal", "--state-dir", str(tmp_path), "p1"]) == 0


def test_without_root_auto_means_loopback_and_netns_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from chaos.stack import network

    monkeypatch.setattr(network.os, "geteuid", lambda: 1000)
    assert network.choose_mode("auto") == LOOPBACK
    assert network.choose_mode("loopback") == LOOPBACK
    with pytest.raises(StackError, match="need root"):
        network.choose_mode("netns")
