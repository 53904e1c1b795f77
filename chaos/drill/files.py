"""Writing drill reports to disk: per run report.json, report.md, timeline.png and
series.json; per invocation summary.json and summary.md."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chaos.drill.plot import plot_timeline
from chaos.drill.records import History
from chaos.drill.render import SUMMARY_COLUMNS, markdown, summary_markdown
from chaos.drill.report import RunTimeline, series_json
from chaos.drill.verdict import overall_verdict


@dataclass(frozen=True)
class RunFiles:
    json: Path
    markdown: Path
    png: Path
    series: Path


def write_run(
    out_dir: Path, report: dict[str, Any], history: History, timeline: RunTimeline
) -> RunFiles:
    """reports/<...>/<scenario>/: report.json, report.md, timeline.png, series.json."""
    out_dir.mkdir(parents=True, exist_ok=True)
    series = series_json(history, timeline)
    files = RunFiles(
        json=out_dir / "report.json",
        markdown=out_dir / "report.md",
        png=out_dir / "timeline.png",
        series=out_dir / "series.json",
    )
    plot_timeline(series, report, timeline, files.png)
    report = {**report, "files": {k: str(v) for k, v in vars(files).items()}}
    files.json.write_text(json.dumps(report, indent=2) + "\n")
    files.series.write_text(json.dumps(series) + "\n")
    files.markdown.write_text(markdown(report, files.png.name))
    return files


def write_summary(out_dir: Path, reports: Sequence[dict[str, Any]]) -> tuple[Path, Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    rows = [{c: r.get(c) for c in SUMMARY_COLUMNS} for r in reports]
    verdict = overall_verdict(reports)
    json_path = out_dir / "summary.json"
    json_path.write_text(json.dumps({"verdict": verdict, "runs": rows}, indent=2) + "\n")
    md_path = out_dir / "summary.md"
    md_path.write_text(summary_markdown(verdict, rows))
    return json_path, md_path
