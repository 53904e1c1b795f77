"""A throwaway Prometheus server (the Debian binary) on a loopback port, for tests and
drills: its own config, rule files and temporary TSDB directory; never the system service."""

from __future__ import annotations

import json
import shutil
import signal
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from localenv.procs import ManagedProcess, http_ok, wait_until


def prometheus_binary() -> str:
    binary = shutil.which("prometheus") or "/usr/bin/prometheus"
    if not Path(binary).exists():
        raise RuntimeError("prometheus not found; run: sudo apt-get install -y prometheus")
    return binary


@dataclass(frozen=True)
class ScrapeTarget:
    job: str
    address: str  # host:port
    labels: dict[str, str] = field(default_factory=dict)
    metrics_path: str = "/metrics"


class PrometheusServer:
    def __init__(
        self,
        base_dir: Path,
        port: int,
        targets: list[ScrapeTarget],
        *,
        rule_files: list[Path] | None = None,
        scrape_interval: str = "1s",
        evaluation_interval: str = "1s",
    ) -> None:
        self.base_dir, self.port = base_dir, port
        self.config_path = base_dir / "prometheus.yml"
        self.config: dict[str, Any] = {
            "global": {
                "scrape_interval": scrape_interval,
                "scrape_timeout": scrape_interval,
                "evaluation_interval": evaluation_interval,
            },
            "rule_files": [str(p) for p in rule_files or []],
            "scrape_configs": [
                {
                    "job_name": f"{t.job}-{i}",
                    "metrics_path": t.metrics_path,
                    "static_configs": [{"targets": [t.address], "labels": t.labels}],
                    # keep the agreed job name even when several targets share it
                    "relabel_configs": [{"target_label": "job", "replacement": t.job}],
                }
                for i, t in enumerate(targets)
            ],
        }
        self.process = ManagedProcess(
            f"prometheus:{port}",
            [
                prometheus_binary(),
                f"--config.file={self.config_path}",
                f"--storage.tsdb.path={base_dir / 'data'}",
                f"--web.listen-address=127.0.0.1:{port}",
                "--storage.tsdb.retention.time=1d",
                "--web.enable-lifecycle",
            ],
            base_dir / "prometheus.log",
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30.0) -> PrometheusServer:
        self.base_dir.mkdir(parents=True, exist_ok=True)
        self.config_path.write_text(yaml.safe_dump(self.config, sort_keys=False))
        self.process.start()
        self.process.wait_healthy(lambda: http_ok(f"{self.url}/-/ready"), timeout)
        return self

    def stop(self) -> None:
        self.process.stop(timeout=10, sig=signal.SIGTERM)

    def __enter__(self) -> PrometheusServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _get(self, path: str, **params: str) -> Any:
        query = urllib.parse.urlencode(params)
        with urllib.request.urlopen(f"{self.url}{path}?{query}", timeout=10) as response:  # noqa: S310
            document = json.load(response)
        if document.get("status") != "success":
            raise RuntimeError(f"Prometheus {path}: {document}")
        return document["data"]

    def query(self, expr: str) -> list[dict[str, Any]]:
        """An instant query; the result vector (`[{metric, value: [t, "v"]}]`)."""
        data = self._get("/api/v1/query", query=expr)
        result: list[dict[str, Any]] = data["result"]
        return result

    def values(self, expr: str) -> list[float]:
        return [float(sample["value"][1]) for sample in self.query(expr)]

    def targets_up(self) -> dict[str, bool]:
        data = self._get("/api/v1/targets", state="active")
        return {
            t["scrapeUrl"]: t["health"] == "up" for t in data["activeTargets"]
        }

    def wait_targets_up(self, timeout: float = 20.0) -> None:
        def all_up() -> bool:
            states = self.targets_up()
            return bool(states) and all(states.values())

        wait_until(all_up, timeout, "every scrape target up", interval=0.2)

    def alerts(self) -> list[dict[str, Any]]:
        alerts: list[dict[str, Any]] = self._get("/api/v1/alerts")["alerts"]
        return alerts

    def rule_count(self) -> int:
        groups = self._get("/api/v1/rules")["groups"]
        return sum(len(g["rules"]) for g in groups)
