"""CPU accounting from /proc/<pid>/stat: parsing, process trees, reaped children."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bench import cpu

# A real line (cat's own stat), utime..cstime set to 7 11 13 17.
REAL_LINE = (
    "24922 (cat) R 24919 24919 6985 0 -1 4194304 101 0 0 0 7 11 13 17 20 0 1 0 92733 3133440"
    " 417 18446744073709551615 94689451085824 94689451105705 140737236930368 0 0 0 0 0 0 0 0"
    " 0 17 0 0 0 0 0 0"
)


def write_stat(proc: Path, pid: int, ppid: int, utime: int, stime: int = 0,
               cutime: int = 0, cstime: int = 0, comm: str = "postgres") -> None:
    fields = ["S", str(ppid), *["0"] * 9, str(utime), str(stime), str(cutime), str(cstime),
              *["0"] * 20]
    (proc / str(pid)).mkdir(parents=True, exist_ok=True)
    (proc / str(pid) / "stat").write_text(f"{pid} ({comm}) {' '.join(fields)}\n")


def test_parse_stat_reads_ppid_and_the_four_time_fields() -> None:
    stat = cpu.parse_stat(REAL_LINE)
    assert (stat.pid, stat.ppid) == (24922, 24919)
    assert (stat.utime, stat.stime, stat.cutime, stat.cstime) == (7, 11, 13, 17)
    assert stat.ticks == 48


def test_parse_stat_survives_spaces_and_parens_in_the_command_name() -> None:
    line = REAL_LINE.replace("(cat)", "(postgres: orders (x) idle)")
    assert cpu.parse_stat(line).ppid == 24919


def test_tree_sums_descendants_but_not_siblings(tmp_path: Path) -> None:
    write_stat(tmp_path, 100, 1, utime=10, cutime=5)  # postmaster
    write_stat(tmp_path, 101, 100, utime=20, stime=3)  # backend
    write_stat(tmp_path, 102, 101, utime=4)  # a backend's child
    write_stat(tmp_path, 200, 1, utime=99, comm="redis-server")  # not in the tree
    (tmp_path / "self").mkdir()  # non-numeric entries are skipped
    stats = cpu.read_all(tmp_path)
    assert cpu.tree_ticks(100, stats) == 10 + 5 + 23 + 4
    assert cpu.tree_ticks(200, stats) == 99
    assert cpu.tree_ticks(300, stats) is None


def test_a_reaped_backend_moves_into_the_parent_and_is_not_lost(tmp_path: Path) -> None:
    roles = {"postgresql": [100], "redis": [200]}
    write_stat(tmp_path, 100, 1, utime=10)
    write_stat(tmp_path, 101, 100, utime=30)
    write_stat(tmp_path, 200, 1, utime=5)
    before = cpu.snapshot(roles, tmp_path)
    # The backend used 20 more ticks, exited and was reaped: its 50 go to cutime.
    (tmp_path / "101" / "stat").unlink()
    (tmp_path / "101").rmdir()
    write_stat(tmp_path, 100, 1, utime=12, cutime=50)
    write_stat(tmp_path, 200, 1, utime=5)
    seconds = cpu.delta_seconds(before, cpu.snapshot(roles, tmp_path), clock_ticks=100)
    assert seconds == {"postgresql": pytest.approx(0.22), "redis": 0.0}


def test_a_role_whose_process_died_is_unknown_not_zero(tmp_path: Path) -> None:
    write_stat(tmp_path, 100, 1, utime=10)
    write_stat(tmp_path, 101, 1, utime=10)
    roles = {"api": [100, 101]}
    before = cpu.snapshot(roles, tmp_path)
    assert before.ticks == {"api": 20}
    (tmp_path / "101" / "stat").unlink()
    assert cpu.delta_seconds(before, cpu.snapshot(roles, tmp_path)) == {"api": None}


def test_per_unit_is_milliseconds_per_unit() -> None:
    assert cpu.per_unit({"api": 1.5, "relay": None}, 500) == {"api": 3.0, "relay": None}
    assert cpu.per_unit({"api": 1.5}, 0) == {"api": None}


def test_real_proc_charges_a_busy_child_to_its_parent_tree() -> None:
    roles = {"self": [os.getpid()]}
    before = cpu.snapshot(roles)
    busy = subprocess.Popen([sys.executable, "-c", "import time\nt=time.process_time()\n"
                             "while time.process_time()-t<0.3: pass\n"
                             "import sys; sys.stdin.read()"], stdin=subprocess.PIPE)
    try:
        middle = cpu.delta_seconds(before, cpu.snapshot(roles))["self"]
    finally:
        busy.communicate(b"")
    after = cpu.delta_seconds(before, cpu.snapshot(roles))["self"]
    assert middle is not None and after is not None
    assert after >= 0.2  # the reaped child's time is in our cutime now


def test_settled_snapshot_of_a_quiet_tree_is_the_snapshot(tmp_path: Path) -> None:
    write_stat(tmp_path, 100, 1, utime=10)
    write_stat(tmp_path, 101, 100, utime=30)
    roles = {"postgresql": [100]}
    settled = cpu.settled_snapshot(roles, tmp_path, pause=0.01)
    assert settled == cpu.snapshot(roles, tmp_path)
    assert settled.ticks == {"postgresql": 40}
    assert cpu.tree_pids(100, cpu.read_all(tmp_path)) == [100, 101]
