"""The verdict of a drill run, and the exit status of a drill invocation.

- `failed`: the checker found an anomaly, or the audit log is broken (checker: invalid), or
  the stack was not steady again after the rollback, even after healing (every hypothesis
  includes recovering: a run that leaves a replica down is not a pass).
- `unknown`: nothing found, but a verifier could not run (checker: unknown): never a pass.
- `aborted`: steady state did not hold before the fault (nothing injected) or did not
  return after it, or the checker did not run at all.
- `passed`: otherwise.

Local and AWS runs share these verdicts; AWS adds `refused`, `not-supported`, `dry-run`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from chaos.drill.checker import INVALID, UNKNOWN, CheckResult

PASSED, FAILED, ABORTED, UNKNOWN_VERDICT = "passed", "failed", "aborted", "unknown"
REFUSED, NOT_SUPPORTED, DRY_RUN = "refused", "not-supported", "dry-run"
EXIT_CODES = {FAILED: 1, ABORTED: 2, UNKNOWN_VERDICT: 2, REFUSED: 2, NOT_SUPPORTED: 2,
              PASSED: 0, DRY_RUN: 0}


def run_verdict(check: CheckResult | None, aborted: str | None,
                rejected: int = 0, *, unrecovered: str | None = None) -> tuple[str, str]:
    """(verdict, reason) of one run from the checker's result, the runner's abort, and
    whether the stack recovered after the rollback."""
    if check is not None and check.result == INVALID:
        found = ", ".join(f"{k}={v}" for k, v in check.violations.items())
        return FAILED, f"checker found: {found}"
    if aborted:
        return ABORTED, aborted
    if check is None:
        return ABORTED, "the checker did not run"
    if unrecovered:
        return FAILED, f"no anomaly in the history, but the stack did not recover: {unrecovered}"
    if check.result == UNKNOWN:
        return UNKNOWN_VERDICT, f"no anomaly found, but the audit log was not verified: " \
                                f"{check.audit_detail}"
    reason = "no anomaly; steady state held before and after the fault"
    if rejected:
        reason += f"; note: {rejected} orders were rejected with a non-retryable 4xx"
    return PASSED, reason


def overall_verdict(reports: Sequence[dict[str, Any]]) -> str:
    verdicts = {r["verdict"] for r in reports}
    if not reports:
        return ABORTED
    for verdict in (FAILED, ABORTED, UNKNOWN_VERDICT, REFUSED, NOT_SUPPORTED):
        if verdict in verdicts:
            return verdict
    return PASSED if PASSED in verdicts else DRY_RUN


def exit_code(reports: Sequence[dict[str, Any]]) -> int:
    """1: an anomaly or a broken audit log; 2: a run aborted, unverified, refused or not
    supported; 0: all passed (or a dry run)."""
    return EXIT_CODES[overall_verdict(reports)]
