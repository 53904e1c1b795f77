"""The restore-drill report: one schema for every target (local PITR, an Aurora clone).

`empty_report` lists every field (null until measured); `finish` sets the verdict from the
checks (`chaos.restore.checks`) and the drill's own errors. Verdicts as in `chaos.drill`:
`passed` (every check ran and held), `failed` (an anomaly: RPO > 0, data after the target,
a broken audit log, wrong migrations, a failing `pgbackrest check`/`verify`), `unknown` (no
anomaly but a check could not run: never a pass), `aborted` (the drill could not restore
or check at all). Exit status (`chaos.drill.verdict.exit_code`): 0 passed, 1 failed, 2
unknown or aborted.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from chaos.drill.checker import INVALID, UNKNOWN, VALID
from chaos.drill.verdict import ABORTED, FAILED, PASSED, UNKNOWN_VERDICT

DEFINITIONS: dict[str, str] = {
    "target_time": "the point in time restored (UTC); null: the latest state (end of archive)",
    "cut_off": (
        "acknowledgements at or before it must be in the restored database: the target time, "
        "or for a latest-state restore the end of the load"
    ),
    "backup_seconds / backup_size_bytes / backup_repo_bytes": (
        "the backup taken under load: wall time of `pgbackrest backup`, the database size it "
        "covers, and what it added to the repository (compressed, encrypted)"
    ),
    "rto_first_query_s": (
        "restore start (the restore command) until the restored, promoted instance answered "
        "its first query"
    ),
    "rto_verified_s": "restore start until every check of the restored database finished",
    "rpo_missing_acknowledged": (
        "orders acknowledged to the client at or before the cut-off but absent after the "
        "restore (provable: an acknowledgement follows its commit)"
    ),
    "rpo_data_loss_s": (
        "from the earliest missing acknowledgement to the cut-off; 0 when nothing "
        "acknowledged is missing"
    ),
    "after_target": (
        "orders present although their client started them after the target: committed after "
        "it (an order started before and acknowledged after the target may fall either side: "
        "in_doubt_present / in_doubt_absent, never judged)"
    ),
    "audit_chain_ok": (
        "the service's audit verifier over the restored tree, compared with the signed "
        "checkpoints published before the target: true intact, false broken, null unverified"
    ),
    "migrations_ok": "every migration file applied with its checksum, and nothing else",
}

REPORT_FIELDS = (
    "scenario", "target", "verdict", "verdict_reason", "started_at", "finished_at",
    "duration_s", "target_time", "cut_off", "backups", "backup_seconds", "backup_size_bytes",
    "backup_repo_bytes", "restore_started_at", "restore_seconds", "rto_first_query_s",
    "rto_verified_s", "rpo_missing_acknowledged", "rpo_data_loss_s", "acknowledged",
    "acknowledged_before_cut_off", "orders_started", "orders_restored", "in_doubt_present",
    "in_doubt_absent", "anomalies", "check", "audit_chain_ok", "audit_detail",
    "migrations_ok", "migration_version", "pgbackrest_check", "pgbackrest_verify",
    "retention", "events", "errors", "notes",
)


def empty_report(scenario: str, target: str, **known: Any) -> dict[str, Any]:
    report: dict[str, Any] = dict.fromkeys(REPORT_FIELDS)
    report.update(scenario=scenario, target=target, backups=[], events=[], errors=[],
                  notes=[], anomalies={})
    report.update(known)
    report["definitions"] = DEFINITIONS
    return report


def apply_check(report: dict[str, Any], check: dict[str, Any]) -> None:
    """Copy a `RestoreCheckResult.to_json()` into the report's figures."""
    report["check"] = check
    report["anomalies"] = dict(check["violations"])
    report.update(
        rpo_missing_acknowledged=check["missing_acknowledged"] if check["with_history"]
        else None,
        rpo_data_loss_s=check["data_loss_s"],
        acknowledged_before_cut_off=check["acknowledged_before_cut_off"],
        orders_restored=check["orders_in_db"], in_doubt_present=check["in_doubt_present"],
        in_doubt_absent=check["in_doubt_absent"], audit_chain_ok=check["audit_chain_ok"],
        audit_detail=check["audit_detail"], migrations_ok=check["migrations_ok"],
        migration_version=check["migration_version"], cut_off=check["cut_off"],
    )


def verdict(check_result: str | None, errors: Sequence[str],
            tool_failures: Sequence[str] = ()) -> tuple[str, str]:
    """(verdict, reason). `errors`: the drill could not do something (restore, start, read);
    `tool_failures`: pgBackRest's own `check`/`verify` said no (an anomaly)."""
    if check_result == INVALID or tool_failures:
        return FAILED, "; ".join([*(["the restored database failed its checks"]
                                    if check_result == INVALID else []), *tool_failures])
    if errors:
        return ABORTED, "; ".join(errors)
    if check_result is None:
        return ABORTED, "the restored database was not checked"
    if check_result == UNKNOWN:
        return UNKNOWN_VERDICT, "no anomaly found, but a check could not run"
    assert check_result == VALID
    return PASSED, "every acknowledged order before the cut-off restored, nothing after the" \
                   " target, audit log and migrations verified"


def finish(report: dict[str, Any], tool_failures: Sequence[str] = ()) -> dict[str, Any]:
    check = report.get("check")
    for failure in tool_failures:
        report["anomalies"][failure.split(":", 1)[0]] = 1
    report["verdict"], report["verdict_reason"] = verdict(
        check["result"] if check else None, report["errors"], tool_failures)
    return report

