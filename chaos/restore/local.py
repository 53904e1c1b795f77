"""The restore drill on the local HA stack (`python -m chaos restore-drill`).

Scenarios:
- `pitr`: under load, a full backup, more load, an incremental backup, more load, the
  target time noted, more load; then `pgbackrest check` (it switches WAL and waits until
  the segment is archived), a restore to the target time into a fresh data directory
  started on its own port (the live stack untouched), the checks of `chaos.restore.checks`
  against the load log, `pgbackrest verify`.
- `disaster`: under load, a full backup; then the Patroni leader is killed and its data
  directory deleted; Patroni fails over to the synchronous standby (which archives from
  then on); load continues, then stops; `pgbackrest check` on the new leader; the latest
  state (the backup plus every archived segment, following the new timeline) is restored
  into a fresh instance and every acknowledged order of the whole load must be in it.
  Rollback: the destroyed node's Patroni is started again and re-creates it as a replica.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from chaos.drill.loadgen import LoadConfig, LoadGenerator, read_secret
from chaos.drill.records import History, to_iso
from chaos.drill.snapshot import connect_read_only
from chaos.restore import report as reports
from chaos.restore.checkpoints import local_published_before
from chaos.restore.checks import check_restored
from chaos.restore.instance import RestoredInstance
from chaos.restore.render import markdown, plot
from chaos.stack import Stack, backup
from service.audit.checkpoints import AuditConfig

SCENARIOS = ("pitr", "disaster")
Say = Callable[[str], None]


@dataclass(frozen=True)
class RestoreSettings:
    load_phase_s: float = 8.0  # each stretch of load between two drill steps
    rate: float = 25.0
    clients: int = 8
    accounts: int = 6
    failover_timeout_s: float = 60.0
    restore_timeout_s: float = 300.0


@dataclass
class RestoreRun:
    """One scenario's run: the stack, the load, the report being filled."""

    stack: Stack
    scenario: str
    settings: RestoreSettings
    out_dir: Path
    say: Say
    report: dict[str, Any] = field(default_factory=dict)
    tool_failures: list[str] = field(default_factory=list)
    load: LoadGenerator | None = None
    load_task: asyncio.Task[History] | None = None

    def __post_init__(self) -> None:
        self.report = reports.empty_report(self.scenario, "local",
                                           started_at=to_iso(time.time()))

    def event(self, kind: str, what: str, at: float | None = None) -> float:
        at = time.time() if at is None else at
        self.report["events"].append({"at": to_iso(at), "kind": kind, "what": what})
        self.say(f"restore-drill {self.scenario}: {what}")
        return at

    # ------------------------------------------------------------------ load
    def start_load(self) -> None:
        cfg = LoadConfig(rate=self.settings.rate, clients=self.settings.clients,
                         accounts=self.settings.accounts, duration_s=None)
        secret = read_secret(Path(self.stack.endpoints["jwt_secret_path"]))
        self.load = LoadGenerator(str(self.stack.endpoints["api_url"]), secret, cfg,
                                  self.out_dir / "client-log.jsonl")
        self.load_task = asyncio.create_task(self.load.run())
        self.event("load", "load started")

    async def stop_load(self) -> History:
        assert self.load is not None and self.load_task is not None
        self.load.stop()
        history = await self.load_task
        self.event("load", f"load stopped ({len({a.key for a in history.acks})} acknowledged)")
        self.report["acknowledged"] = len({a.key for a in history.acks})
        self.report["orders_started"] = len(history.orders)
        return history

    async def keep_loading(self) -> None:
        await asyncio.sleep(self.settings.load_phase_s)

    # ---------------------------------------------------------------- pgBackRest
    async def take_backup(self, backup_type: str) -> None:
        started = time.time()
        result = await asyncio.to_thread(backup.backup, self.stack, backup_type)
        self.event("backup", f"{result.type} backup {result.label} ({result.seconds:.1f}s)",
                   started)
        self.report["backups"].append(vars(result))
        if backup_type == "full":
            self.report.update(backup_seconds=result.seconds, backup_size_bytes=result.size_bytes,
                               backup_repo_bytes=result.repo_bytes)

    async def pgbackrest_check(self) -> datetime:
        """`pgbackrest check`; returns when it started: every commit before that instant is
        in the archive once it succeeds (it switches WAL and waits for the segment)."""
        started = datetime.now(UTC)
        try:
            seconds = await asyncio.to_thread(backup.check, self.stack)
        except backup.PgBackRestError as error:
            self.tool_failures.append(f"pgbackrest_check: {error}")
            return started
        self.report["pgbackrest_check"] = seconds
        self.event("archive", f"pgbackrest check: WAL switched and archived ({seconds:.1f}s)")
        return started

    async def pgbackrest_verify(self) -> None:
        try:
            out = await asyncio.to_thread(backup.verify, self.stack)
        except backup.PgBackRestError as error:
            self.tool_failures.append(f"pgbackrest_verify: {error}")
            self.report["pgbackrest_verify"] = "failed"
            return
        self.report["pgbackrest_verify"] = out or "ok"
        stanzas = await asyncio.to_thread(backup.info, self.stack)
        self.report["retention"] = {
            "repo1_retention_full": backup.RETENTION_FULL,
            "backups": [b["label"] for b in stanzas[0]["backup"]],
            "archive": [{"id": a["id"], "min": a["min"], "max": a["max"]}
                        for a in stanzas[0]["archive"]],
        }

    # ------------------------------------------------------------------- restore
    async def restore_and_check(self, history: History, target: datetime | None,
                                checkpoints_before: datetime) -> None:
        instance = RestoredInstance(Path(self.stack.state_dir) / "restore" / self.scenario,
                                    Path(self.stack.endpoints["pg_bin_dir"]))
        instance.prepare()
        try:
            await self._restore(instance, history, target, checkpoints_before)
        finally:
            with contextlib.suppress(Exception):
                await asyncio.to_thread(instance.stop)
            instance.remove()

    async def _restore(self, instance: RestoredInstance, history: History,
                       target: datetime | None, checkpoints_before: datetime) -> None:
        started = self.event("restore", "restore started"
                             + (f" (to {target.isoformat()})" if target else " (latest)"))
        self.report["restore_started_at"] = to_iso(started)
        self.report["restore_seconds"] = await asyncio.to_thread(
            backup.restore, self.stack, instance.data_dir, target=target)
        await asyncio.to_thread(instance.start)
        answered = await instance.first_query(self.settings.restore_timeout_s)
        self.event("first query", f"restored instance on port {instance.port} answered",
                   answered)
        self.report["rto_first_query_s"] = round(answered - started, 3)
        config = AuditConfig.from_env(self.stack.app_env())
        checkpoints, forged = await asyncio.to_thread(local_published_before, config,
                                                      checkpoints_before)
        if forged:
            self.tool_failures.append(f"forged_checkpoints: {forged[0].describe()}")
        conn = await connect_read_only(instance.dsn())
        try:
            result = await check_restored(conn, history, target, checkpoints)
        finally:
            await conn.close()
        verified = self.event("verified", f"checks done: {result.result}")
        self.report["rto_verified_s"] = round(verified - started, 3)
        reports.apply_check(self.report, result.to_json())


# ------------------------------------------------------------------------ scenarios
async def pitr(run: RestoreRun) -> History:
    run.start_load()
    await run.keep_loading()
    await run.take_backup("full")
    await run.keep_loading()
    await run.take_backup("incr")
    await run.keep_loading()
    now = datetime.now(UTC)  # pgBackRest takes milliseconds: the target is that precise
    target = now.replace(microsecond=now.microsecond // 1000 * 1000)
    run.event("target", "target time noted", target.timestamp())
    run.report["target_time"] = target.isoformat()
    await run.keep_loading()
    history = await run.stop_load()
    await run.pgbackrest_check()
    await run.restore_and_check(history, target, checkpoints_before=target)
    await run.pgbackrest_verify()
    return history


async def _await_new_leader(stack: Stack, old: str, wait_s: float) -> str:
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        leader = await asyncio.to_thread(stack.pg_leader)
        if leader is not None and leader != old:
            return leader
        await asyncio.sleep(0.5)
    raise RuntimeError(f"no new PostgreSQL leader within {wait_s:.0f}s after {old} was lost")


def destroy_leader(stack: Stack) -> str:
    """SIGKILL the leader (Patroni and postmaster) and delete its data directory."""
    leader = stack.pg_leader()
    if leader is None:
        raise RuntimeError("no PostgreSQL leader to destroy")
    stack.kill(leader)
    shutil.rmtree(stack.component(leader).paths["data_dir"])
    return leader


async def disaster(run: RestoreRun) -> History:
    run.start_load()
    await run.keep_loading()
    await run.take_backup("full")
    await run.keep_loading()
    destroyed = await asyncio.to_thread(destroy_leader, run.stack)
    run.event("disaster", f"{destroyed} killed and its data directory deleted")
    try:
        leader = await _await_new_leader(run.stack, destroyed, run.settings.failover_timeout_s)
        run.event("failover", f"{leader} leads")
        await run.keep_loading()
        history = await run.stop_load()
        archived_before = await run.pgbackrest_check()
        # The latest state is what was archived: checkpoints published (their trees
        # committed) before the WAL switch. The integrator keeps publishing after the load
        # stops (the worker's fills), and those may be newer than the archive.
        await run.restore_and_check(history, None, checkpoints_before=archived_before)
    finally:
        await asyncio.to_thread(run.stack.start_component, destroyed, 180.0)
        run.event("rollback", f"{destroyed} re-created as a replica")
    await run.pgbackrest_verify()
    return history


SCENARIO_STEPS = {"pitr": pitr, "disaster": disaster}


def write_files(run: RestoreRun, history: History | None) -> dict[str, Path]:
    files = {"json": run.out_dir / "report.json", "markdown": run.out_dir / "report.md",
             "png": run.out_dir / "timeline.png"}
    try:
        plot(run.report, history, files["png"])
    except Exception as error:  # a missing plot must not lose the report
        run.report["notes"].append(f"timeline not drawn: {error}")
    run.report["files"] = {k: str(v) for k, v in files.items()}
    files["json"].write_text(json.dumps(run.report, indent=2, default=str) + "\n")
    files["markdown"].write_text(markdown(run.report, files["png"].name))
    return files


async def run_scenario(stack: Stack, scenario: str, settings: RestoreSettings,
                       out_dir: Path, say: Say) -> dict[str, Any]:
    """One scenario; `out_dir` (existing) gets report.json/.md, timeline.png and the log."""
    run = RestoreRun(stack, scenario, settings, out_dir, say)
    history: History | None = None
    begun = time.monotonic()
    try:
        await asyncio.to_thread(stack.wait_healthy, 120.0)
        await run.pgbackrest_check()
        history = await SCENARIO_STEPS[scenario](run)
    except Exception as error:
        run.report["errors"].append(f"{type(error).__name__}: {error}")
        if run.load is not None and run.load_task is not None and not run.load_task.done():
            run.load.stop()
            with contextlib.suppress(Exception):
                history = await run.load_task
    run.report["finished_at"] = to_iso(time.time())
    run.report["duration_s"] = round(time.monotonic() - begun, 1)
    reports.finish(run.report, run.tool_failures)
    write_files(run, history)
    say(f"restore-drill {scenario}: {run.report['verdict'].upper()} "
        f"({run.report['verdict_reason']})")
    return run.report
