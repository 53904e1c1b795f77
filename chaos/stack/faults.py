"""Fault primitives: signals (kill, freeze, thaw, zone loss) and network partitions.

A partition drops every packet between the addresses of two groups of components, both
directions, while their processes keep running. The rules live in two nftables tables named
after the stack (`bridge chaos_stack_N` for traffic between namespaces, which crosses the
bridge; `inet chaos_stack_N` for traffic to or from the shared components, which live in the
host namespace). The active partitions are kept in the state file and the tables are
rewritten from it as a whole, atomically, on every change; `heal()` with no handle and
`down()` delete both tables.

Groups: `zone:a` (every component in zone a), `zone:shared` (the components outside the
zones), `kind:api`, `kind:api@c`, a component name, a comma-separated union of those, or `*`
(every addressable component not on the other side). The observer (drills, probes,
Prometheus) is never cut off.
"""

from __future__ import annotations

import contextlib
import signal
import subprocess
import time
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

from chaos.stack.drivers import driver_for
from chaos.stack.errors import NetworkIsolationUnavailable, StackError
from chaos.stack.network import Network, isolation_problem
from chaos.stack.proc import signal_group, signal_pid
from chaos.stack.state import Component
from localenv.procs import pid_alive

if TYPE_CHECKING:
    from chaos.stack.stack import Stack

KILL_PARTS = ("all", "process", "postmaster")
EVERYTHING_ELSE = "*"


# ---------------------------------------------------------------------------- signals
def kill(stack: Stack, name: str, sig: int, part: str, wait: bool) -> list[int]:
    """Signal a component's processes (see Stack.kill); returns the PIDs signalled."""
    comp = stack.component(name)
    if part not in KILL_PARTS:
        raise ValueError(f"part must be all, process or postmaster, not {part!r}")
    targets = driver_for(comp).signal_targets(stack, comp, part)
    if not targets:
        raise StackError(f"{name} is not running, nothing to signal")
    for pid, whole_group in targets:
        if whole_group:
            signal_group(pid, sig)
        else:
            signal_pid(pid, sig)
    pids = [pid for pid, _ in targets]
    if wait and sig == signal.SIGKILL:
        await_exit(stack, pids)
    return pids


def await_exit(stack: Stack, pids: list[int], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        stack.reap()
        if not any(pid_alive(pid) for pid in pids):
            return
        time.sleep(0.01)


def kill_zone(stack: Stack, zone: str, sig: int) -> list[str]:
    """Every component labelled `zone`, signalled together (zone loss)."""
    hit, pids = [], []
    for comp in stack.components(zone=zone):
        with contextlib.suppress(StackError):
            pids += kill(stack, comp.name, sig, "all", wait=False)
            hit.append(comp.name)
    if sig == signal.SIGKILL:
        await_exit(stack, pids)
    return hit


# ---------------------------------------------------------------------------- groups
def _one_group(stack: Stack, spec: str) -> list[Component]:
    if spec.startswith("zone:"):
        zone = spec.removeprefix("zone:")
        if zone == "shared":
            return [c for c in stack.state.components if c.zone is None]
        found = stack.components(zone=zone)
    elif spec.startswith("kind:"):
        kind, _, zone = spec.removeprefix("kind:").partition("@")
        found = stack.components(zone=zone or None, kind=kind)
    else:
        found = [stack.component(spec)]
    if not found:
        raise StackError(f"group {spec!r} names no component of this stack")
    return found


def resolve_group(stack: Stack, spec: str, other: Iterable[Component] = ()) -> list[Component]:
    """The components a group names (see the module docstring), in state order."""
    exclude = {c.name for c in other}
    if spec.strip() == EVERYTHING_ELSE:
        names = {c.name for c in stack.state.components if c.name not in exclude}
    else:
        names = set()
        for part in spec.split(","):
            names |= {c.name for c in _one_group(stack, part.strip())}
    return [c for c in stack.state.components if c.name in names]


def _addressed(network: Network, comps: list[Component]) -> list[tuple[str, str]]:
    """(name, address) of the components that have an address of their own."""
    return [(c.name, a) for c in comps if (a := network.address_of(c.name)) is not None]


# ---------------------------------------------------------------------------- partitions
def partition(stack: Stack, side_a: str, side_b: str) -> str:
    network = Network.from_json(stack.state.network)
    if not network.isolated:
        problem = isolation_problem() or "the stack was started with network=loopback"
        raise NetworkIsolationUnavailable(
            f"cannot partition: this stack runs without network isolation ({problem}); "
            "bring it up as root with network=netns"
        )
    if side_a.strip() == EVERYTHING_ELSE:
        side_a, side_b = side_b, side_a
    group_a = resolve_group(stack, side_a)
    group_b = resolve_group(stack, side_b, other=group_a)
    overlap = {c.name for c in group_a} & {c.name for c in group_b}
    if overlap:
        raise StackError(f"a component cannot be on both sides: {', '.join(sorted(overlap))}")
    a, b = _addressed(network, group_a), _addressed(network, group_b)
    if not a or not b:
        raise StackError(f"nothing to cut between {side_a!r} and {side_b!r} (no addresses)")
    with stack.lock:
        handle = _next_handle(stack.state.partitions)
        stack.state.partitions[handle] = {
            "side_a": side_a, "side_b": side_b,
            "a": [name for name, _ in a], "b": [name for name, _ in b],
            "pairs": [[x, y] for _, x in a for _, y in b],
            "since": time.time(),
        }
        try:
            apply_rules(stack)
        except StackError:
            del stack.state.partitions[handle]
            raise
        stack.save()
    return handle


def heal_partitions(stack: Stack, handle: str | None = None) -> None:
    """Undo one partition, or all; idempotent (an unknown handle is already healed)."""
    with stack.lock:
        if handle is None:
            stack.state.partitions.clear()
        else:
            stack.state.partitions.pop(handle, None)
        apply_rules(stack)
        stack.save()


def _next_handle(active: Mapping[str, object]) -> str:
    number = 1
    while f"p{number}" in active:
        number += 1
    return f"p{number}"


def table_name(network: Network) -> str:
    return f"chaos_stack_{network.index}"


def ruleset(network: Network, pairs: list[tuple[str, str]]) -> str:
    """nftables script replacing the stack's tables with drops for `pairs` (both ways)."""
    table = table_name(network)
    elements = sorted({f"{x} . {y}" for x, y in pairs} | {f"{y} . {x}" for x, y in pairs})
    cut_set = [
        "  set cut {",
        "    type ipv4_addr . ipv4_addr",
        f"    elements = {{ {', '.join(elements)} }}",
        "  }",
    ]
    rule = "    ip saddr . ip daddr @cut drop"

    def chain(name: str, hook: str) -> list[str]:
        return [f"  chain {name} {{",
                f"    type filter hook {hook} priority 0; policy accept;", rule, "  }"]

    lines = [*_delete_tables(table)]
    lines += [f"table bridge {table} {{", *cut_set, *chain("cut_forward", "forward"), "}"]
    lines += [f"table inet {table} {{", *cut_set, *chain("cut_output", "output"),
              *chain("cut_input", "input"), "}"]
    return "\n".join(lines) + "\n"


def _delete_tables(table: str) -> list[str]:
    # Declaring a table first makes the delete succeed whether or not it exists.
    return [f"table {family} {table} {{}}\ndelete table {family} {table}"
            for family in ("bridge", "inet")]


def apply_rules(stack: Stack) -> None:
    network = Network.from_json(stack.state.network)
    if not network.isolated:
        return
    pairs = [(str(x), str(y)) for p in stack.state.partitions.values() for x, y in p["pairs"]]
    script = ruleset(network, pairs) if pairs else "\n".join(_delete_tables(table_name(network)))
    _nft(script)


def remove_rules(network: Network) -> None:
    """Delete the stack's tables (used by `down`, whatever the state says)."""
    if network.isolated:
        _nft("\n".join(_delete_tables(table_name(network))) + "\n")


def _nft(script: str) -> None:
    result = subprocess.run(
        ["nft", "-f", "-"], input=script, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise StackError(f"nft failed: {result.stderr.strip()}")


def active_tables(network: Network) -> list[str]:
    """The stack's nftables tables that exist now (for tests and leftovers checks)."""
    if not network.isolated:
        return []
    result = subprocess.run(["nft", "list", "tables"], capture_output=True, text=True,
                            check=False)
    table = table_name(network)
    return [line.strip() for line in result.stdout.splitlines() if line.strip().endswith(table)]
