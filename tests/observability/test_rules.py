"""The generated rule files: up to date, accepted by promtool, and each alert proven by
`promtool test rules`: it fires on the series that should fire it and stays silent on
normal traffic, in the production and in the drill rule set."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from observability import generate
from observability.durations import Scale
from tests.observability.promtool_cases import CASES, Case

PROMTOOL = shutil.which("promtool")  # Debian prometheus, from scripts/install-system-deps.sh
RULES_DIR = generate.HERE
ALERT_NAMES = {
    "OrdersAvailabilityBudgetBurn", "OrdersLatencyBudgetBurn", "OrdersErrorBudgetBurn",
    "DatabasePrimaryUnavailable", "DatabaseReplicationLagHigh", "RedisDegraded",
    "OutboxBacklogHigh", "OrdersPendingAgeHigh", "QueueMessageAgeHigh",
    "DeadLetterQueueNotEmpty", "AuditIntegratorLagHigh", "AuditCheckpointStale",
    "OrdersFailedRateHigh", "DuplicateOrderAttemptsSpike", "OrderVolumeAnomalous",
    "ScrapeTargetDown",
}


def promtool(*args: str) -> subprocess.CompletedProcess[str]:
    assert PROMTOOL, "promtool not found; run: sudo apt-get install -y prometheus"
    return subprocess.run(
        [PROMTOOL, *args], capture_output=True, text=True, timeout=120, check=False
    )


def rule_files(rule_set: str) -> list[Path]:
    return sorted((RULES_DIR / rule_set).glob("*.yml"))


def alert_rules(rule_set: str) -> list[dict[str, Any]]:
    rules = []
    for path in rule_files(rule_set):
        for group in yaml.safe_load(path.read_text())["groups"]:
            rules += [r for r in group["rules"] if "alert" in r]
    return rules


def test_checked_in_rules_equal_the_generator_output() -> None:
    generated = generate.generate()
    assert set(generated) == {
        Path(d) / f for d in generate.RULE_SETS for f in ("slos.yml", "alerts.yml")
    }
    for relative, content in generated.items():
        assert (RULES_DIR / relative).read_text() == content, f"{relative} is stale"
    assert generate.main(["--check"]) == 0


@pytest.mark.parametrize("rule_set", list(generate.RULE_SETS))
def test_promtool_accepts_the_rules(rule_set: str) -> None:
    result = promtool("check", "rules", *map(str, rule_files(rule_set)))
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("rule_set", list(generate.RULE_SETS))
def test_every_alert_is_named_labelled_and_linked(rule_set: str) -> None:
    rules = alert_rules(rule_set)
    assert {r["alert"] for r in rules} == ALERT_NAMES
    runbooks = RULES_DIR.parent / "runbooks"
    for rule in rules:
        assert rule["labels"]["severity"] in ("page", "ticket"), rule["alert"]
        notes = rule["annotations"]
        assert notes["summary"] and notes["dashboard_url"].startswith("https://")
        runbook = notes["runbook_url"].split("/")[-1]
        assert (runbooks / runbook).is_file(), f"{rule['alert']}: no runbooks/{runbook}"
        dashboard = notes["dashboard_url"].rsplit("/", 1)[-1]
        assert (RULES_DIR / "dashboards" / f"{dashboard}.json").is_file(), rule["alert"]
    burn = [r for r in rules if r["alert"] == "OrdersAvailabilityBudgetBurn"]
    assert sorted((r["labels"]["severity"], r["labels"]["window"]) for r in burn) == [
        ("page", "1h"), ("page", "6h"), ("ticket", "1d"), ("ticket", "3d")
    ]


def test_drill_rules_divide_windows_and_holds_by_the_drill_factor() -> None:
    production = {r["alert"]: r for r in alert_rules("rules")}
    drill = {r["alert"]: r for r in alert_rules("rules-drill")}
    assert production["OutboxBacklogHigh"]["for"] == "5m"
    assert drill["OutboxBacklogHigh"]["for"] == "5s"
    assert production["OutboxBacklogHigh"]["expr"].endswith("> 300")
    assert drill["OutboxBacklogHigh"]["expr"].endswith("> 5")
    assert "[10s]" in drill["OrdersFailedRateHigh"]["expr"]
    slos = (RULES_DIR / "rules-drill" / "slos.yml").read_text()
    assert "[5s]" in slos and "[1m]" in slos and "[5m]" not in slos


def expected_alerts(case: Case, rules: list[dict[str, Any]]) -> list[dict[str, Any]]:
    mine = [r for r in rules if r["alert"] == case.alert]
    if case.expected:  # one rule; one alert per label set
        (rule,) = mine
        return [
            {"exp_labels": {**rule["labels"], **extra}, "exp_annotations": rule["annotations"]}
            for extra in case.expected
        ]
    # SLO burn: every window pair fires; the alert keeps the short window's SLI labels.
    source = generate.load(generate.SLO_SOURCE)
    slo = next(s for s in source["slos"] if s["alert"] == case.alert)
    short_of = {w["long"]: w["short"] for w in source["burn_windows"]}
    return [
        {
            "exp_labels": {
                **rule["labels"], "slo_service": source["service"], "slo": slo["name"],
                "slo_window": short_of[rule["labels"]["window"]],
            },
            "exp_annotations": rule["annotations"],
        }
        for rule in mine
    ]


def unit_test_file(case: Case, rule_set: str, scale: Scale, tmp_path: Path) -> Path:
    rules = alert_rules(rule_set)
    interval = scale.offset(case.interval)

    def test(series: list[Any], alerts: list[dict[str, Any]]) -> dict[str, Any]:
        return {
            "interval": interval,
            "input_series": [s.scaled(scale) for s in series],
            "alert_rule_test": [
                {"eval_time": scale.offset(case.at), "alertname": case.alert,
                 "exp_alerts": alerts}
            ],
        }

    # Only the file that holds the alert: the 30-day SLO rules are slow to evaluate.
    source = "slos.yml" if not case.expected else "alerts.yml"
    rule_file = RULES_DIR / rule_set / source
    groups = [g["name"] for g in yaml.safe_load(rule_file.read_text())["groups"]]
    document = {
        "rule_files": [str(rule_file)],
        "evaluation_interval": scale.offset(case.evaluation_interval or case.interval),
        # promtool evaluates the groups in an unspecified order unless told: the recording
        # groups must run before the alerts that read them at the same instant (the
        # volume alert read a stale recording now and then, and stayed silent).
        "group_eval_order": groups,
        "tests": [test(case.fires, expected_alerts(case, rules))]
        + [test(quiet, []) for quiet in case.quiet],
    }
    path = tmp_path / f"{case.name}-{rule_set}.test.yml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


def test_every_alert_has_a_case() -> None:
    assert {c.alert for c in CASES} == ALERT_NAMES


@pytest.mark.parametrize("rule_set", list(generate.RULE_SETS))
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_alert_fires_on_its_fault_and_stays_silent_on_normal_traffic(
    case: Case, rule_set: str, tmp_path: Path
) -> None:
    test_file = unit_test_file(case, rule_set, generate.RULE_SETS[rule_set], tmp_path)
    result = promtool("test", "rules", str(test_file))
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("rule_set", list(generate.RULE_SETS))
def test_an_idle_hour_leaves_the_period_budget_a_number(rule_set: str, tmp_path: Path) -> None:
    """Traffic, then none: the idle windows neither blank nor skew the period's budget
    (0/0 is NaN, and a NaN summed over the period would read NaN for 30 days)."""
    post = 'http_request_duration_seconds_count{method="POST",route="/v1/orders"'
    series = {  # an hour of traffic, 1 % failing; then two idle hours
        post + ',status="201"}': "0+99x60 5940x120",
        post + ',status="503"}': "0+1x60 60x120",
    }
    # 1 % errors against a 0.05 % budget: 20 budgets spent, 1 - 20 = -19
    assert expr_test(rule_set, tmp_path, series,
                     'round(slo:period_error_budget_remaining:ratio{slo="availability"}, 0.001)',
                     "3h", AVAILABILITY % "30d", -19) == ""


def expr_test(rule_set: str, tmp_path: Path, series: dict[str, str], expr: str,
              at: str, labels: str, value: float) -> str:
    """promtool's verdict on one expression's value over the SLO rules, '' when it passes."""
    scale = generate.RULE_SETS[rule_set]
    rule_file = RULES_DIR / rule_set / "slos.yml"
    groups = [g["name"] for g in yaml.safe_load(rule_file.read_text())["groups"]]
    document = {
        "rule_files": [str(rule_file)],
        "evaluation_interval": scale.offset("1m"),
        "group_eval_order": groups,
        "tests": [{
            "interval": scale.offset("1m"),
            "input_series": [{"series": k, "values": v} for k, v in series.items()],
            "promql_expr_test": [{"expr": expr, "eval_time": scale.offset(at),
                                  "exp_samples": [{"labels": labels, "value": value}]}],
        }],
    }
    test_file = tmp_path / f"expr-{rule_set}.test.yml"
    test_file.write_text(yaml.safe_dump(document, sort_keys=False))
    result = promtool("test", "rules", str(test_file))
    return "" if result.returncode == 0 else result.stdout + result.stderr


AVAILABILITY = '{slo="availability",slo_service="orders",slo_window="%s"}'


def test_the_alb_term_is_its_own_5xx_per_second(tmp_path: Path) -> None:
    """30 of the ALB's own 5xx per minute (0.5/s) beside 90 orders a minute (1.5/s): a
    quarter of the requests failed. (Production rules only: no ALB runs in a drill.)"""
    series = {
        'http_request_duration_seconds_count{method="POST",route="/v1/orders",status="201"}':
            "0+90x120",
        'aws_applicationelb_httpcode_elb_5_xx_count_sum{dimension_LoadBalancer="app/o/1"}':
            "30x120",
        'up{namespace="monitoring",app_kubernetes_io_instance="cloudwatch-exporter"}': "1x120",
    }
    assert expr_test("rules", tmp_path, series,
                     'round(slo:sli_error:ratio_rate1h{slo="availability"}, 0.001)', "2h",
                     AVAILABILITY % "1h", 0.25) == ""


@pytest.mark.parametrize("rule_set", list(generate.RULE_SETS))
def test_the_period_budget_weighs_every_request_alike(rule_set: str, tmp_path: Path) -> None:
    """Three busy hours served (1,000 orders a minute), then half an hour at one a minute,
    every one refused by the edge: 30 failures in 180,030 requests spend a third of the
    budget. An average of 5-minute ratios would read 100 % failure for a seventh of the
    period and spend 57 budgets (remaining -246)."""
    post = 'http_request_duration_seconds_count{method="POST",route="/v1/orders",status="201"}'
    backend = 'haproxy_backend_http_responses_total{proxy="api_replicas",code="5xx"}'
    server = 'haproxy_server_http_responses_total{proxy="api_replicas",server="api-a",code="5xx"}'
    series = {post: "0+1000x180 180000x45", backend: "0x180 1+1x29 30x15", server: "0x225"}
    assert expr_test(rule_set, tmp_path, series,
                     'round(slo:period_error_budget_remaining:ratio{slo="availability"}, 0.01)',
                     "3h45m", AVAILABILITY % "30d", 0.67) == ""
