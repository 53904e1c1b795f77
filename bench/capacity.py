"""Capacity on paper from a `make bench` report: pods, nodes and the Aurora writer class
for a peak rate of orders, from the CPU each process spent per placement and the database
work per order measured in that run.

    python -m bench capacity reports/bench/system-<time>.json [--peaks 1000 5000 20000]

Assumptions (also in docs/capacity.md): one vCPU does what one core of the bench machine
did; processes run at most `UTILISATION` busy so one zone of three can be lost; an API,
relay or worker process is one asyncio loop, so one pod = one process = one vCPU; Redis and
SQS are managed services and not sized here; the writer's CPU per order transfers 1:1 from
PostgreSQL to Aurora PostgreSQL.
"""

from __future__ import annotations

import argparse
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

UTILISATION = 0.6
ZONES = 3
APP_ROLES = ("api", "relay", "worker", "integrator")
# vCPUs per node type (m6i, as infra/ uses today) and the share left for pods.
NODE_TYPES = (("m6i.2xlarge", 8), ("m6i.4xlarge", 16), ("m6i.8xlarge", 32))
ALLOCATABLE = 0.85
MAX_NODES_PER_TYPE = 15
# Aurora PostgreSQL writer classes (Graviton4), vCPUs.
WRITER_CLASSES = (
    ("db.r8g.large", 2), ("db.r8g.xlarge", 4), ("db.r8g.2xlarge", 8), ("db.r8g.4xlarge", 16),
    ("db.r8g.8xlarge", 32), ("db.r8g.12xlarge", 48), ("db.r8g.16xlarge", 64),
    ("db.r8g.24xlarge", 96), ("db.r8g.48xlarge", 192),
)


@dataclass(frozen=True)
class PerOrder:
    """What one order cost in the measured run."""

    app_cpu_ms: dict[str, float]
    db_cpu_ms: float
    write_transactions: float
    wal_bytes: float

    @classmethod
    def from_report(cls, report: dict[str, Any], phase: str = "saturation") -> PerOrder:
        measured = report[phase]
        cpu = measured["cpu_ms_per_placement"]
        needed = ("api", "relay", "worker", "postgresql")
        missing = [role for role in needed if cpu.get(role) is None]
        if missing:
            raise ValueError(f"the report has no CPU figure for {missing}")
        return cls(
            app_cpu_ms={role: float(cpu[role]) for role in APP_ROLES if cpu.get(role) is not None},
            db_cpu_ms=float(cpu["postgresql"]),
            write_transactions=float(measured["write_transactions_per_placement"]),
            wal_bytes=float(measured["wal_bytes_per_placement"]),
        )


def pods(rate: float, cpu_ms: float) -> int:
    """Processes (one vCPU each) for `rate` orders/s at `UTILISATION`, at least one per zone."""
    return max(ZONES, math.ceil(rate * cpu_ms / 1000 / UTILISATION))


def nodes(vcpus: int) -> tuple[str, int]:
    """The smallest node type that fits in `MAX_NODES_PER_TYPE`, in whole zones."""
    for name, size in NODE_TYPES:
        count = math.ceil(vcpus / (size * ALLOCATABLE))
        count = max(ZONES, ZONES * math.ceil(count / ZONES))
        if count <= MAX_NODES_PER_TYPE:
            return name, count
    name, size = NODE_TYPES[-1]
    return name, ZONES * math.ceil(math.ceil(vcpus / (size * ALLOCATABLE)) / ZONES)


def writer(rate: float, db_cpu_ms: float) -> tuple[str | None, float]:
    """The smallest writer class with the vCPUs needed (None: more than one writer has)."""
    needed = rate * db_cpu_ms / 1000 / UTILISATION
    for name, size in WRITER_CLASSES:
        if size >= needed:
            return name, needed
    return None, needed


def size(rate: float, per_order: PerOrder) -> dict[str, Any]:
    processes = {role: pods(rate, ms) for role, ms in per_order.app_cpu_ms.items()}
    node_type, node_count = nodes(sum(processes.values()))
    writer_class, writer_vcpus = writer(rate, per_order.db_cpu_ms)
    return {
        "orders_per_s": rate,
        "pods": processes,
        "app_vcpus": sum(processes.values()),
        "node_type": node_type,
        "nodes": node_count,
        "writer_vcpus_needed": round(writer_vcpus, 1),
        "writer_class": writer_class,
        "write_transactions_per_s": round(rate * per_order.write_transactions),
        "wal_mb_per_s": round(rate * per_order.wal_bytes / 1e6, 1),
    }


def writer_saturation(per_order: PerOrder, vcpus: int) -> float:
    """Orders/s at which a writer with `vcpus` reaches `UTILISATION`."""
    return vcpus * UTILISATION * 1000 / per_order.db_cpu_ms


def markdown(rows: list[dict[str, Any]]) -> str:
    roles = list(rows[0]["pods"])
    head = ["orders/s", *[f"{r} pods" for r in roles], "nodes", "writer (vCPU needed)",
            "write txn/s", "WAL MB/s"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in rows:
        writer_text = row["writer_class"] or "beyond one writer"
        cells = [
            f"{row['orders_per_s']:,.0f}", *[str(row["pods"][r]) for r in roles],
            f"{row['nodes']} x {row['node_type']}",
            f"{writer_text} ({row['writer_vcpus_needed']:g})",
            f"{row['write_transactions_per_s']:,}", f"{row['wal_mb_per_s']:g}",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench capacity", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("report", type=Path)
    parser.add_argument("--peaks", type=float, nargs="+", default=[1000.0, 5000.0, 20000.0])
    args = parser.parse_args(argv)
    per_order = PerOrder.from_report(json.loads(args.report.read_text()))
    print(markdown([size(rate, per_order) for rate in args.peaks]))
    for name, vcpus in (WRITER_CLASSES[6], WRITER_CLASSES[-1]):
        print(f"\n{name} ({vcpus} vCPU) reaches {UTILISATION:.0%} CPU at "
              f"{writer_saturation(per_order, vcpus):,.0f} orders/s", end="")
    print()
    return 0
