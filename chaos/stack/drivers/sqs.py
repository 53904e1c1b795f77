"""The local SQS endpoint (LocalStack SQS, shared). It listens on the host's loopback only;
with network isolation HAProxy relays the stack's SQS address to it."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from chaos.stack.drivers.base import Driver, PlanContext, register
from chaos.stack.errors import ComponentFailed
from chaos.stack.proc import cmdline
from chaos.stack.state import Component

if TYPE_CHECKING:
    from chaos.stack.stack import Stack

LOCAL_REGION = "us-east-1"
LOCAL_ACCOUNT = "000000000000"
QUEUE_NAME = "orders.fifo"


def loopback_port(comp: Component) -> int:
    """Where the endpoint itself listens (behind the relay when isolated)."""
    return comp.ports.get("internal", comp.ports["http"])


class SqsDriver(Driver):
    kind = "sqs"
    stop_tier = 1

    def plan(self, ctx: PlanContext) -> None:
        from localenv.sqs import DEFAULT_VENV

        ports = {"http": ctx.ports.take()}
        # Started through localenv.sqs.SqsEndpoint; argv and match are replaced by the real
        # command line once it runs.
        comp = ctx.add("sqs", "sqs", None, [str(DEFAULT_VENV / "bin" / "python")],
                       str(DEFAULT_VENV), ports)
        if ctx.network.isolated:
            comp.ports["internal"] = ctx.ports.take()
        comp.log = str(ctx.state_dir / "sqs" / "sqs-endpoint.log")
        url = f"http://{comp.host}:{ports['http']}"
        ctx.endpoints["sqs_endpoint_url"] = url
        ctx.endpoints["queue_url"] = f"{url}/queue/{LOCAL_REGION}/{LOCAL_ACCOUNT}/{QUEUE_NAME}"

    def start(self, stack: Stack, comp: Component, timeout: float) -> int:
        from localenv.sqs import SqsEndpoint, SqsEndpointError

        endpoint = SqsEndpoint(loopback_port(comp), Path(comp.paths["dir"]))
        try:
            endpoint.start(timeout=timeout)
        except SqsEndpointError as exc:
            raise ComponentFailed(comp.name, str(exc)) from exc
        stack.remember(comp.name, endpoint)
        pid = endpoint.pid
        assert pid is not None
        # SqsEndpoint chooses its own command line: record what actually runs.
        actual = cmdline(pid)
        if actual:
            comp.match, comp.argv = actual, actual.split()
        return pid

    def probe(self, stack: Stack, comp: Component) -> tuple[bool, str]:
        from localenv.sqs import SqsEndpoint

        ok = SqsEndpoint(loopback_port(comp), Path(comp.paths["dir"])).healthy()
        return ok, "answering" if ok else "not answering SQS calls"


register(SqsDriver())
