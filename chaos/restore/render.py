"""The restore-drill report as Markdown, and its timeline PNG (acknowledgements per second
with the backups, the target time, the disaster and the restore marked)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from chaos.drill.records import History, from_iso
from chaos.drill.render import _fmt

ROWS = (
    ("started_at", "started at"), ("target_time", "target time (restored to)"),
    ("cut_off", "acknowledged up to this must be restored"),
    ("backup_seconds", "backup duration (s)"),
    ("backup_size_bytes", "backup: database size (bytes)"),
    ("backup_repo_bytes", "backup: repository bytes added"),
    ("restore_seconds", "pgbackrest restore (s)"),
    ("rto_first_query_s", "RTO to first query answered (s)"),
    ("rto_verified_s", "RTO to verified (s)"),
    ("rpo_missing_acknowledged", "RPO: acknowledged orders missing"),
    ("rpo_data_loss_s", "RPO: seconds of acknowledged data lost"),
    ("acknowledged", "orders acknowledged (whole load)"),
    ("acknowledged_before_cut_off", "acknowledged before the cut-off"),
    ("orders_restored", "orders in the restored database"),
    ("in_doubt_present", "in doubt (sent before, acked after the target): present"),
    ("in_doubt_absent", "in doubt: absent"),
    ("audit_chain_ok", "audit log verified"),
    ("migrations_ok", "migrations at the expected version"),
    ("migration_version", "migration version"),
    ("pgbackrest_check", "pgbackrest check (s)"), ("pgbackrest_verify", "pgbackrest verify"),
    ("retention", "backups kept (repo1-retention-full)"), ("duration_s", "drill duration (s)"),
)


def markdown(report: dict[str, Any], png_name: str | None = None) -> str:
    r = report
    lines = [f"# Restore drill `{r['scenario']}` ({r['target']}): **{r['verdict'].upper()}**",
             "", f"Verdict: {r['verdict_reason']}.", "", "| figure | value |", "|---|---|"]
    lines += [f"| {label} | {_fmt(r.get(key))} |" for key, label in ROWS]
    anomalies = r.get("anomalies") or {}
    lines += ["", "## Anomalies", ""]
    lines += [f"- `{k}`: {v}" for k, v in anomalies.items()] or ["none"]
    if r.get("audit_detail"):
        lines += ["", f"Audit log: {r['audit_detail']}"]
    if r.get("errors"):
        lines += ["", "## Errors", "", *[f"- {e}" for e in r["errors"]]]
    if r.get("notes"):
        lines += ["", "## Notes", "", *[f"- {n}" for n in r["notes"]]]
    lines += ["", "## Events", "", "| at | event |", "|---|---|"]
    lines += [f"| {e['at']} | {e['what']} |" for e in r.get("events") or []]
    if png_name:
        lines += ["", f"![timeline]({png_name})"]
    lines += ["", "## Definitions", ""]
    lines += [f"- **{k}**: {v}" for k, v in (r.get("definitions") or {}).items()]
    return "\n".join(lines) + "\n"


MARK_STYLES = {"backup": ("tab:blue", "--"), "target": ("tab:green", "-"),
               "disaster": ("tab:red", "-"), "restore": ("tab:purple", ":"),
               "first query": ("tab:orange", ":"), "verified": ("black", ":")}


def plot(report: dict[str, Any], history: History | None, path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    events = [(from_iso(e["at"]), e["kind"], e["what"]) for e in report.get("events") or []]
    acks = sorted(a.t for a in (history.acks if history else []))
    t0 = min([*(t for t, _, _ in events), *acks[:1]], default=0.0)
    fig, ax = plt.subplots(figsize=(13, 3.8))
    if acks:
        seconds = [int(t - t0) for t in acks]
        counts = [seconds.count(s) for s in range(max(seconds) + 1)]
        ax.plot([s + 0.5 for s in range(len(counts))], counts, color="tab:blue",
                label="orders acknowledged/s")
    for t, kind, what in events:
        color, style = MARK_STYLES.get(kind, ("tab:gray", ":"))
        ax.axvline(t - t0, color=color, linestyle=style, linewidth=1.2, label=what[:40])
    ax.set_xlabel("seconds since the drill started")
    ax.set_ylabel("per second")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=7)
    fig.suptitle(
        f"restore {report['scenario']}: {report['verdict']} | RPO missing "
        f"{_fmt(report.get('rpo_missing_acknowledged'))} ({_fmt(report.get('rpo_data_loss_s'))} s)"
        f" | RTO first query {_fmt(report.get('rto_first_query_s'))} s, verified "
        f"{_fmt(report.get('rto_verified_s'))} s", fontsize=10)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
