"""CPU seconds per process tree, from /proc/<pid>/stat.

A tree's CPU is its root's utime + stime + cutime + cstime plus the same for every live
descendant. A descendant that exits and is reaped moves its time (its own and its reaped
children's) into its parent's cutime/cstime, so the sum is conserved between two snapshots
even while PostgreSQL backends come and go. A root that died between snapshots loses its
time: `delta` reports it as missing rather than as zero.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

PROC = Path("/proc")
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class ProcStat:
    pid: int
    ppid: int
    utime: int
    stime: int
    cutime: int
    cstime: int

    @property
    def ticks(self) -> int:
        return self.utime + self.stime + self.cutime + self.cstime


def parse_stat(text: str) -> ProcStat:
    """One /proc/<pid>/stat line; the command name (field 2) may hold spaces and parens."""
    head, _, rest = text.rpartition(")")
    pid = int(head.split("(", 1)[0])
    fields = rest.split()
    # fields[0] is field 3 (state): ppid is field 4, utime..cstime are fields 14..17.
    return ProcStat(
        pid=pid,
        ppid=int(fields[1]),
        utime=int(fields[11]),
        stime=int(fields[12]),
        cutime=int(fields[13]),
        cstime=int(fields[14]),
    )


def read_all(proc: Path = PROC) -> dict[int, ProcStat]:
    stats: dict[int, ProcStat] = {}
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stats[int(entry.name)] = parse_stat((entry / "stat").read_text())
        except (FileNotFoundError, ProcessLookupError, IndexError, ValueError):
            continue  # exited while we looked
    return stats


def tree_pids(root: int, stats: Mapping[int, ProcStat]) -> list[int]:
    """`root` and all its live descendants (empty when `root` is gone)."""
    if root not in stats:
        return []
    children: dict[int, list[int]] = {}
    for stat in stats.values():
        children.setdefault(stat.ppid, []).append(stat.pid)
    found, stack = [], [root]
    while stack:
        pid = stack.pop()
        found.append(pid)
        stack.extend(children.get(pid, ()))
    return found


def tree_ticks(root: int, stats: Mapping[int, ProcStat]) -> int | None:
    """Ticks of `root` and all its live descendants; None when `root` is gone."""
    pids = tree_pids(root, stats)
    return sum(stats[pid].ticks for pid in pids) if pids else None


@dataclass(frozen=True)
class Snapshot:
    ticks: dict[str, int | None]  # role -> ticks summed over that role's process trees


def snapshot(roles: Mapping[str, Iterable[int]], proc: Path = PROC) -> Snapshot:
    stats = read_all(proc)
    result: dict[str, int | None] = {}
    for role, pids in roles.items():
        counts = [tree_ticks(pid, stats) for pid in pids]
        result[role] = None if any(c is None for c in counts) else sum(c or 0 for c in counts)
    return Snapshot(result)


def _members(roles: Mapping[str, Iterable[int]], proc: Path) -> set[int]:
    stats = read_all(proc)
    return {pid for pids in roles.values() for root in pids for pid in tree_pids(root, stats)}


def settled_snapshot(
    roles: Mapping[str, Iterable[int]], proc: Path = PROC, pause: float = 0.2, tries: int = 25
) -> Snapshot:
    """A snapshot taken once no process joined or left the trees for `pause` seconds.

    Reading /proc is not atomic: a child reaped between the read of its parent and its own
    read is counted nowhere. Processes exit in bursts (pgbench's 16 backends at its end),
    so wait for the trees to stop changing (bounded by `tries`).
    """
    members = _members(roles, proc)
    for _ in range(tries):
        time.sleep(pause)
        current = _members(roles, proc)
        if current == members:
            break
        members = current
    return snapshot(roles, proc)


def delta_seconds(
    before: Snapshot, after: Snapshot, clock_ticks: int = CLOCK_TICKS
) -> dict[str, float | None]:
    """CPU seconds each role used between the snapshots (None: a process of it died)."""
    seconds: dict[str, float | None] = {}
    for role, start in before.ticks.items():
        end = after.ticks.get(role)
        seconds[role] = None if start is None or end is None else (end - start) / clock_ticks
    return seconds


def per_unit(seconds: Mapping[str, float | None], units: int) -> dict[str, float | None]:
    """CPU milliseconds per unit of work (per placement, per transaction)."""
    if units <= 0:
        return {role: None for role in seconds}
    return {
        role: None if value is None else round(value * 1000 / units, 4)
        for role, value in seconds.items()
    }
