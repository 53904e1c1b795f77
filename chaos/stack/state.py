"""The stack's state file: every component `up` started (with what is needed to find, check
and restart it) and the endpoints clients use. Written atomically after every change, so a
`down` after a crashed drill sees the PIDs of processes the drill restarted."""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

STATE_FILE = "state.json"
STATE_VERSION = 1

# Components outside any zone: one etcd node, HAProxy and the SQS endpoint stand in for
# regional managed services (Aurora's endpoint/DCS, the NLB/ALB, SQS) that survive a zone loss.
SHARED_ZONE = None
ZONES = ("a", "b", "c")
APP_KINDS = ("api", "relay", "worker", "integrator")
DATA_KINDS = ("etcd", "patroni", "haproxy", "redis", "sentinel", "sqs")
MONITORING_KINDS = ("prometheus", "alertmanager")


@dataclass
class Component:
    name: str
    kind: str
    zone: str | None
    argv: list[str]
    log: str
    # A substring of /proc/PID/cmdline that identifies this component's process.
    match: str
    ports: dict[str, int] = field(default_factory=dict)
    paths: dict[str, str] = field(default_factory=dict)
    # Non-secret environment overrides (app processes get the JWT secret from its file).
    env: dict[str, str] = field(default_factory=dict)
    # Redis only: the primary's port this server starts as a replica of (None: primary).
    replicaof: int | None = None
    # The address it listens on (127.0.0.1 on loopback; its own 10.x address with network
    # isolation) and the network namespace it runs in (None: the host's).
    host: str = "127.0.0.1"
    netns: str | None = None
    pid: int | None = None
    start_ticks: int | None = None
    started_at: float | None = None

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> Component:
        return cls(**raw)


@dataclass
class StackState:
    state_dir: str
    created_at: float
    mode: str  # "full" or "data-only"
    skipped: list[str]
    endpoints: dict[str, Any]
    components: list[Component]
    version: int = STATE_VERSION
    # Which optional components the plan included (integrator, monitoring, network mode).
    options: dict[str, Any] = field(default_factory=dict)
    # The private bridge, namespaces and addresses (chaos.stack.network), so `down` can
    # remove them even after a crash.
    network: dict[str, Any] = field(default_factory=dict)
    # Active partitions by handle: {"side_a", "side_b", "pairs": [[ip, ip], ...]}.
    partitions: dict[str, dict[str, Any]] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> StackState:
        data = dict(raw)
        data["components"] = [Component.from_json(c) for c in raw.get("components", [])]
        return cls(**data)


def state_path(state_dir: Path) -> Path:
    return state_dir / STATE_FILE


def save_state(state: StackState) -> None:
    path = state_path(Path(state.state_dir))
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".state-", suffix=".json")
    try:
        with os.fdopen(fd, "w") as handle:
            json.dump(state.to_json(), handle, indent=2, sort_keys=False)
            handle.write("\n")
        os.chmod(tmp, 0o644)  # no secrets in it (the JWT secret has its own 600 file)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load_state(state_dir: Path) -> StackState | None:
    path = state_path(state_dir)
    try:
        raw = json.loads(path.read_text())
    except FileNotFoundError:
        return None
    return StackState.from_json(raw)
