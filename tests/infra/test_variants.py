"""Configuration variants, each run through `python -m infra.plan` in its own process."""

from __future__ import annotations

from .conftest import PRIMARY, STANDBY, Plan, load_plan, run_plan


def test_turning_the_standby_off_removes_every_standby_resource(
    plan: Plan, plan_without_standby: Plan
) -> None:
    without = plan_without_standby
    assert {e["region"] for e in without} == {PRIMARY}
    assert not [e for e in without if e["name"].startswith("standby-")]
    assert [p["name"] for p in without.of_type("pulumi:providers:aws")] == ["aws-primary"]
    # the cross-region pieces of shared components go too
    assert len(without.of_type("aws:backup/vault:Vault")) == 1
    (backup_plan,) = without.of_type("aws:backup/plan:Plan")
    daily = next(r for r in backup_plan["inputs"]["rules"] if r["ruleName"] == "daily")
    assert not daily.get("copyActions")
    records = without.of_type("aws:route53/record:Record")
    kinds = [
        r["inputs"]["failoverRoutingPolicies"][0]["type"]
        for r in records
        if r["inputs"].get("failoverRoutingPolicies")
    ]
    assert kinds == ["PRIMARY"]
    # and the primary region is untouched
    primary_of = {(e["type"], e["name"]) for e in plan if e["region"] == PRIMARY}
    assert {(e["type"], e["name"]) for e in without} <= primary_of
    assert len(without.entries) < len(plan.entries)
    assert STANDBY not in {e["region"] for e in without}


def test_invalid_config_fails_before_any_resource_is_registered() -> None:
    run = run_plan(
        "--json",
        "--set",
        'orders:primary.azs=["eu-central-1a","eu-central-1b"]',
        "--set",
        "orders:primary.cacheNodes=1",
    )
    assert run.returncode == 2
    assert run.stdout == ""
    assert "invalid stack configuration (2 problem(s))" in run.stderr
    assert "orders:primary.azs must list exactly 3 availability zones, got 2" in run.stderr
    assert "orders:primary.cacheNodes must be >= 2, got 1" in run.stderr
    assert "0 resources registered" in run.stderr
    assert "Traceback" not in run.stderr


def test_overrides_reach_the_program() -> None:
    scaled = load_plan("orders:primary.apiReplicas=5", "orders:standby.cacheNodes=3")
    api = scaled.named("primary-workload-api")["inputs"]
    assert api["spec"]["replicas"] == 5
    (redis,) = scaled.of_type("aws:elasticache/replicationGroup:ReplicationGroup", STANDBY)
    assert redis["inputs"]["numCacheClusters"] == 3


def test_make_plan_text_lists_resources_and_counts_per_component_and_region() -> None:
    run = run_plan()
    assert run.returncode == 0, run.stderr[-2000:]
    assert "Database primary-database" in run.stdout
    assert "Database standby-database" in run.stdout
    assert "resources registered (eu-central-1:" in run.stdout
