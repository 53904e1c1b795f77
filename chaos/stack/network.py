"""Network isolation for the stack: every zonal component in its own network namespace on a
private bridge, so a partition can cut real traffic between two groups while their
processes keep running.

Layout (netns mode, root only), for stack index N (a free bridge name):
- bridge `csbrN` in the host namespace, address 10.(200+N).0.1/16: the *observer* (drills,
  probes, Prometheus, tests) talks from there and is never cut off.
- shared components (etcd, HAProxy, the SQS endpoint) stay in the host namespace, each on
  its own extra address 10.(200+N).0.(10+k) of the bridge, so a rule can tell them apart
  from the observer (HAProxy connects out with `source` set to its address).
- each zonal component gets namespace `csN-<name>` with one veth end (`eth0`) on the bridge,
  address 10.(200+N).Z.n (Z = 1, 2, 3 for zones a, b, c).
Nothing is routed: the /16 is on-link on the bridge only, so traffic never leaves the machine.

Loopback mode (not root, or asked for): everything on 127.0.0.1 as before; partitions are
unavailable and say so. Everything created is recorded in the state file first, so `down`
removes it even after a crash.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from chaos.stack.errors import StackError

LOOPBACK = "loopback"
NETNS = "netns"
MODES = ("auto", LOOPBACK, NETNS)
LOOPBACK_HOST = "127.0.0.1"
ZONE_OCTET = {"a": 1, "b": 2, "c": 3}
MAX_STACKS = 50
NETNS_DIR = Path("/run/netns")
SYS_NET = Path("/sys/class/net")


def isolation_problem() -> str | None:
    """Why network isolation cannot be used here, or None when it can."""
    if os.geteuid() != 0:
        return "network partitions need root (network namespaces and nftables)"
    missing = [tool for tool in ("ip", "nsenter", "nft") if shutil.which(tool) is None]
    if missing:
        return f"network partitions need {', '.join(missing)} (run: make sysdeps)"
    # Root is not enough (a container without CAP_NET_ADMIN): try a throwaway namespace.
    probe = f"chaos-probe-{os.getpid()}"
    made = subprocess.run(["ip", "netns", "add", probe], capture_output=True, text=True,
                          check=False)
    if made.returncode != 0:
        return f"cannot create network namespaces here: {made.stderr.strip()}"
    subprocess.run(["ip", "netns", "delete", probe], capture_output=True, check=False)
    return None


def choose_mode(requested: str | None) -> str:
    requested = requested or "auto"
    if requested not in MODES:
        raise StackError(f"network must be one of {', '.join(MODES)}, not {requested!r}")
    if requested == LOOPBACK:
        return LOOPBACK
    problem = isolation_problem()
    if problem is None:
        return NETNS
    if requested == NETNS:
        raise StackError(problem)
    return LOOPBACK


def _free_index(state_dir: Path) -> int:
    """The first free bridge index, searched from one derived from the state dir, so that
    stacks started at the same moment from different dirs are unlikely to pick the same."""
    start = zlib.crc32(str(state_dir).encode()) % MAX_STACKS
    for offset in range(MAX_STACKS):
        index = (start + offset) % MAX_STACKS
        if not (SYS_NET / f"csbr{index}").exists():
            return index
    raise StackError(f"no free stack network (csbr0..csbr{MAX_STACKS - 1} all exist)")


@dataclass
class Network:
    """Addresses and namespaces of one stack; serialised into the state file."""

    mode: str
    index: int | None = None
    bridge: str | None = None
    prefix: str | None = None  # "10.200"
    namespaces: list[str] = field(default_factory=list)
    shared_addresses: list[str] = field(default_factory=list)
    # component name -> (address, namespace or None, host-side veth or None)
    members: dict[str, list[Any]] = field(default_factory=dict)
    _zone_counts: dict[str, int] = field(default_factory=dict)

    @classmethod
    def plan(cls, mode: str, state_dir: Path | None = None) -> Network:
        if mode == LOOPBACK:
            return cls(mode=LOOPBACK)
        index = _free_index(state_dir or Path("."))
        return cls(mode=NETNS, index=index, bridge=f"csbr{index}", prefix=f"10.{200 + index}")

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> Network:
        if not raw:
            return cls(mode=LOOPBACK)
        data = {k: v for k, v in raw.items() if k != "_zone_counts"}
        return cls(**data)

    def to_json(self) -> dict[str, Any]:
        return {
            "mode": self.mode, "index": self.index, "bridge": self.bridge,
            "prefix": self.prefix, "namespaces": self.namespaces,
            "shared_addresses": self.shared_addresses, "members": self.members,
        }

    @property
    def isolated(self) -> bool:
        return self.mode == NETNS

    @property
    def observer(self) -> str:
        """The address the observer's traffic comes from (never partitioned)."""
        return f"{self.prefix}.0.1" if self.isolated else LOOPBACK_HOST

    @property
    def cidr(self) -> str:
        """Who may connect (pg_hba): the stack's subnet, or loopback."""
        return f"{self.prefix}.0.0/16" if self.isolated else f"{LOOPBACK_HOST}/32"

    def assign(self, name: str, zone: str | None) -> tuple[str, str | None]:
        """Address and namespace for a new component (loopback: 127.0.0.1, none)."""
        if not self.isolated:
            return LOOPBACK_HOST, None
        if zone is None:
            address = f"{self.prefix}.0.{10 + len(self.shared_addresses)}"
            self.shared_addresses.append(address)
            self.members[name] = [address, None, None]
            return address, None
        count = self._zone_counts.get(zone, 0) + 1
        self._zone_counts[zone] = count
        address = f"{self.prefix}.{ZONE_OCTET[zone]}.{count}"
        namespace = f"cs{self.index}-{name}"
        veth = f"cs{self.index}v{len(self.namespaces)}"
        self.namespaces.append(namespace)
        self.members[name] = [address, namespace, veth]
        return address, namespace

    def address_of(self, name: str) -> str | None:
        member = self.members.get(name)
        return str(member[0]) if member else None

    def wrap(self, namespace: str | None, argv: list[str]) -> list[str]:
        """argv run inside `namespace` (nsenter execs: the PID stays the component's)."""
        if namespace is None:
            return argv
        return ["nsenter", f"--net={NETNS_DIR / namespace}", "--", *argv]

    # ------------------------------------------------------------------ create / destroy
    def create(self) -> None:
        """Bridge, addresses, namespaces and veths (idempotent steps; root only)."""
        if not self.isolated or self.bridge is None:
            return
        if not (SYS_NET / self.bridge).exists():
            _ip("link", "add", self.bridge, "type", "bridge")
        _ip("addr", "replace", f"{self.observer}/16", "dev", self.bridge)
        for address in self.shared_addresses:
            _ip("addr", "replace", f"{address}/16", "dev", self.bridge)
        _ip("link", "set", self.bridge, "up")
        for address, namespace, veth in self.members.values():
            if namespace is not None:
                self._create_member(str(address), str(namespace), str(veth))

    def _create_member(self, address: str, namespace: str, veth: str) -> None:
        if not (NETNS_DIR / namespace).exists():
            _ip("netns", "add", namespace)
        if not (SYS_NET / veth).exists():
            _ip("link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", namespace)
        _ip("link", "set", veth, "master", str(self.bridge))
        _ip("link", "set", veth, "up")
        _ip("-n", namespace, "addr", "replace", f"{address}/16", "dev", "eth0")
        _ip("-n", namespace, "link", "set", "eth0", "up")
        _ip("-n", namespace, "link", "set", "lo", "up")

    def destroy(self) -> list[str]:
        """Remove the namespaces (their veths go with them) and the bridge; returns what
        could not be removed. Processes must be stopped first."""
        if not self.isolated:
            return []
        left = []
        for namespace in self.namespaces:
            if (NETNS_DIR / namespace).exists() and not _try_ip("netns", "del", namespace):
                left.append(f"netns {namespace}")
        # The kernel removes a deleted namespace's veths asynchronously: give it a moment.
        veths = [str(v) for _a, _n, v in self.members.values() if v]
        deadline = time.monotonic() + 5.0
        while any((SYS_NET / v).exists() for v in veths) and time.monotonic() < deadline:
            time.sleep(0.05)
        for veth in veths:
            if (SYS_NET / veth).exists() and not _try_ip("link", "del", veth):
                left.append(f"link {veth}")
        bridge = self.bridge
        if bridge and (SYS_NET / bridge).exists() and not _try_ip("link", "del", bridge):
            left.append(f"link {bridge}")
        return left

    def leftovers(self) -> list[str]:
        """Namespaces and links of this stack that still exist."""
        found = [f"netns {ns}" for ns in self.namespaces if (NETNS_DIR / ns).exists()]
        found += [f"link {v}" for _a, _n, v in self.members.values()
                  if v and (SYS_NET / str(v)).exists()]
        if self.bridge and (SYS_NET / self.bridge).exists():
            found.append(f"link {self.bridge}")
        return found


def _ip(*args: str) -> None:
    result = subprocess.run(["ip", *args], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise StackError(f"ip {' '.join(args)} failed: {result.stderr.strip()}")


def _try_ip(*args: str) -> bool:
    with contextlib.suppress(StackError):
        _ip(*args)
        return True
    return False
