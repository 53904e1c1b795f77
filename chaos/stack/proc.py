"""Process identity for a stack managed across processes.

`up` starts the processes and exits; a drill or `down` later acts on them by PID from the
state file. A PID alone is not an identity (PIDs are recycled), so each record also keeps the
process start time (from /proc/PID/stat) and a substring of its command line; nothing is
signalled unless both still match.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from pathlib import Path

from localenv.procs import group_members, pid_alive


def _stat_fields(pid: int) -> list[str] | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    # Fields after the parenthesised command name (which may contain spaces and parens).
    return stat.rsplit(")", 1)[1].split()


def start_ticks(pid: int) -> int | None:
    """Process start time in clock ticks since boot (field 22 of /proc/PID/stat)."""
    fields = _stat_fields(pid)
    return int(fields[19]) if fields else None


def cmdline(pid: int) -> str | None:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    return raw.replace(b"\0", b" ").decode(errors="replace").strip()


def is_ours(pid: int | None, match: str, ticks: int | None) -> bool:
    """True when `pid` is alive and is still the process we started (not a recycled PID)."""
    if not pid or not pid_alive(pid):
        return False
    if ticks is not None and start_ticks(pid) != ticks:
        return False
    line = cmdline(pid)
    return line is not None and match in line


def orphaned_group(pgid: int) -> list[int]:
    """Members left in the group of a leader that died.

    Linux does not reuse a PID while a process group with that id still exists, so when the
    leader `pgid` is gone every remaining member of group `pgid` is a child it left behind.
    """
    if pid_alive(pgid):
        return []
    return group_members(pgid)


def signal_group(pgid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def signal_pid(pid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.kill(pid, sig)


def wait_gone(pids: list[int], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while True:
        if not any(pid_alive(pid) for pid in pids):
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)


def terminate_group(pgid: int, sig: int = signal.SIGTERM, timeout: float = 15.0) -> None:
    """`sig` to the group, SIGKILL to whatever is left after `timeout`, wait until gone."""
    members = group_members(pgid) or [pgid]
    signal_group(pgid, sig)
    # A frozen (SIGSTOPped) process only acts on the signal once continued.
    signal_group(pgid, signal.SIGCONT)
    if sig == signal.SIGKILL or not wait_gone(members, timeout):
        signal_group(pgid, signal.SIGKILL)
        wait_gone(members, 5.0)
