"""One PNG of a system-vs-ceiling report: throughput, latency, lag, CPU per placement."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def _bars(axis: Any, labels: list[str], values: list[float | None], title: str) -> None:
    heights = [0.0 if v is None else float(v) for v in values]
    bars = axis.bar(labels, heights, color="#4477aa")
    for bar, value in zip(bars, values, strict=True):
        text = "n/a" if value is None else f"{value:g}"
        axis.annotate(text, (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                      ha="center", va="bottom", fontsize=8)
    axis.set_title(title, fontsize=10)
    axis.tick_params(axis="x", labelsize=8, labelrotation=20)


def render(report: dict[str, Any], path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sat, paced = report["saturation"], report["paced"]
    figure, axes = plt.subplots(2, 2, figsize=(11, 7.5))
    _bars(axes[0][0], ["placements/s", "ceiling tps"],
          [report["placements_per_s"], report["ceiling_tps"]],
          f"Throughput (ratio {report['ratio']})")
    _bars(axes[0][1], ["sat P50", "sat P99", "paced P50", "paced P99"],
          [sat["latency_ms"]["p50"], sat["latency_ms"]["p99"],
           paced["latency_ms"]["p50"], paced["latency_ms"]["p99"]],
          "Placement latency (ms)")
    _bars(axes[1][0], ["sat P50", "sat P99", "paced P50", "paced P99"],
          [sat["lag_ms"]["p50"], sat["lag_ms"]["p99"],
           paced["lag_ms"]["p50"], paced["lag_ms"]["p99"]],
          "Placement -> FILLED lag (ms)")
    cpu = {**sat["cpu_ms_per_placement"],
           "pg (ceiling)": report.get("ceiling_postgresql_cpu_ms_per_transaction")}
    _bars(axes[1][1], list(cpu), list(cpu.values()), "CPU ms per placement (saturation)")
    figure.suptitle(
        f"make bench {report['started_at'][:19]}Z - {report['machine']['cpus']} CPUs, shared",
        fontsize=11,
    )
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path
