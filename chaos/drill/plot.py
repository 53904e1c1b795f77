"""The drill timeline PNG: throughput, errors, P99 and the outbox backlog per second, with
the fault, the end of the outage, the recovery and the rollback marked."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from chaos.drill.records import from_iso
from chaos.drill.report import RunTimeline


def _epoch(iso: str | None) -> float | None:
    return None if iso is None else from_iso(iso)


def plot_timeline(
    series: Sequence[dict[str, Any]], report: dict[str, Any], timeline: RunTimeline, path: Path
) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    t0 = timeline.started_at
    xs = [s["second"] + 0.5 for s in series]
    has_backlog = any(s.get("outbox_backlog") is not None for s in series)
    rows = 4 if has_backlog else 3
    fig, axes = plt.subplots(rows, 1, figsize=(11, 2.5 * rows), sharex=True)
    ax_tp, ax_err, ax_lat = axes[0], axes[1], axes[2]
    ax_tp.plot(xs, [s["acks"] for s in series], color="tab:blue", label="orders acknowledged/s")
    ax_tp.plot(xs, [s["requests"] for s in series], color="tab:gray", linewidth=0.8,
               label="requests/s (incl. retries)")
    ax_tp.set_ylabel("per second")
    ax_tp.legend(loc="upper right", fontsize=8)
    ax_err.bar(xs, [s["failed"] for s in series], width=0.9, color="tab:red",
               label="failed requests/s")
    ax_err.set_ylabel("errors/s")
    ax_err.legend(loc="upper right", fontsize=8)
    p99 = [math.nan if s["p99_ms"] is None else s["p99_ms"] for s in series]
    ax_lat.plot(xs, p99, color="tab:purple", label="P99 latency (ms)")
    slo_ms = report.get("slo", {}).get("p99_ms")
    if slo_ms:
        ax_lat.axhline(slo_ms, color="black", linestyle=":", linewidth=1,
                       label=f"SLO {slo_ms:g} ms")
    ax_lat.set_ylabel("ms")
    if any(not math.isnan(v) and v > 0 for v in p99):
        ax_lat.set_yscale("log")
    ax_lat.legend(loc="upper right", fontsize=8)
    if has_backlog:
        ax_bl = axes[3]
        ax_bl.plot(xs, [math.nan if s.get("outbox_backlog") is None else s["outbox_backlog"]
                        for s in series],
                   color="tab:brown", label="outbox events not yet processed (run's)")
        ax_bl.set_ylabel("backlog")
        ax_bl.legend(loc="upper right", fontsize=8)
    axes[-1].set_xlabel("seconds since load start")

    marks = [
        (timeline.fault_at, "tab:red", "-", "fault"),
        (timeline.fault_ended_at if timeline.fault_ended_at != timeline.fault_at else None,
         "tab:orange", "--", "fault ended"),
        (_epoch(report.get("recovered_at")), "tab:green", "-", "recovered"),
        (timeline.observed_until, "tab:gray", ":", "rollback"),
    ]
    for ax in axes:
        for ts, color, style, label in marks:
            if ts is not None:
                ax.axvline(ts - t0, color=color, linestyle=style, linewidth=1.2,
                           label=None if ax is not ax_tp else label)
        first, last = _epoch(report.get("first_error_at")), _epoch(report.get("last_error_at"))
        if first is not None and last is not None:
            ax.axvspan(first - t0, last - t0, color="tab:red", alpha=0.08)
    ax_tp.legend(loc="upper right", fontsize=8)
    title = (
        f"{report['scenario']}: {report['verdict']} | acked {report['acknowledged']}, "
        f"lost {report['lost']}, dup {report['duplicated']} | error window "
        f"{report['error_window_s']:.1f}s | P99 during fault {report['p99_ms_during_fault']} ms"
    )
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
