"""The local Prometheus launcher: the real binary on a loopback port, with our rule files."""

from __future__ import annotations

from pathlib import Path

import yaml

from localenv.procs import free_port, pid_alive
from localenv.prometheus import PrometheusServer, ScrapeTarget
from observability.generate import HERE as OBSERVABILITY


def test_scrapes_targets_loads_the_drill_rules_and_stops(tmp_path: Path) -> None:
    port = free_port()
    rules = sorted((OBSERVABILITY / "rules-drill").glob("*.yml"))
    server = PrometheusServer(
        tmp_path, port, [ScrapeTarget("self", f"127.0.0.1:{port}", {"zone": "a"})],
        rule_files=rules,
    )
    with server:
        server.wait_targets_up()
        # every rule of the generated files loaded (60 SLO rules + 17 in alerts.yml today)
        written = sum(len(g["rules"]) for path in rules
                      for g in yaml.safe_load(path.read_text())["groups"])
        assert written >= 70 and server.rule_count() == written
        (sample,) = server.query('up{job="self"}')
        assert sample["metric"]["zone"] == "a" and sample["value"][1] == "1"
        pid = server.process.pid
        assert pid is not None
    assert not pid_alive(pid)
    assert "127.0.0.1" in server.config_path.read_text()
