"""etcd: the single-node DCS Patroni uses (shared, outside the zones)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from chaos.stack import probes
from chaos.stack.drivers.base import Driver, PlanContext, binary, register
from chaos.stack.state import Component

if TYPE_CHECKING:
    from chaos.stack.stack import Stack


def etcd_argv(binary_path: str, data_dir: Path, host: str, client_port: int,
              peer_port: int) -> list[str]:
    client = f"http://{host}:{client_port}"
    peer = f"http://{host}:{peer_port}"
    return [
        binary_path, "--name", "e1", "--data-dir", str(data_dir),
        "--listen-client-urls", client, "--advertise-client-urls", client,
        "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
        "--initial-cluster", f"e1={peer}", "--initial-cluster-state", "new",
    ]


class EtcdDriver(Driver):
    kind = "etcd"
    stop_tier = 3  # last: Patroni needs it to release the leader key

    def plan(self, ctx: PlanContext) -> None:
        ports = {"client": ctx.ports.take(), "peer": ctx.ports.take()}
        data = ctx.state_dir / "etcd" / "data"
        comp = ctx.add("etcd", "etcd", None, [], str(data), ports)
        comp.argv = etcd_argv(binary("etcd", "etcd-server"), data, comp.host,
                              ports["client"], ports["peer"])
        ctx.endpoints["etcd_url"] = f"http://{comp.host}:{ports['client']}"

    def probe(self, stack: Stack, comp: Component) -> tuple[bool, str]:
        data = probes.http_json(f"http://{comp.host}:{comp.ports['client']}/health")
        ok = isinstance(data, dict) and data.get("health") == "true"
        return ok, "healthy" if ok else "not answering /health"


register(EtcdDriver())
