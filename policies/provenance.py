"""What a report was produced from: the pack's exact code, its config and the input.

* the git commit of the pack directory (``unknown`` outside a git work tree, e.g. a
  published pack), and whether the work tree had uncommitted changes;
* a SHA-256 over the pack's own files (code, PulumiPolicy.yaml, requirements.txt, the
  waiver register), so two reports can be tied to the same pack even without git;
* a SHA-256 of the policy config in force (canonical JSON) and of the waiver register;
* the input source: offline mocks, a deployed stack's state, or a real preview.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

PACK_DIR = Path(__file__).resolve().parent
PACK_SUFFIXES = (".py", ".yaml", ".txt", ".json", ".md")
INPUT_SOURCES = {
    "plan": "offline: the program run under infra's mocks (python -m infra.plan --json)",
    "stack-export": "deployed: `pulumi stack export` of the stack's state",
    "preview-events": "real preview: the engine's own policy events of `pulumi preview`",
}


def pack_sha256(root: Path = PACK_DIR) -> str:
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        if not path.is_file() or path.suffix not in PACK_SUFFIXES:
            continue
        if "__pycache__" in path.parts or "venv" in path.parts:
            continue
        digest.update(str(path.relative_to(root)).encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()


def config_sha256(config: Mapping[str, Any] | None) -> str:
    canonical = json.dumps(config or {}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _git(*args: str) -> str | None:
    try:
        done = subprocess.run(
            ["git", "-C", str(PACK_DIR), *args],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def git_commit() -> str:
    commit = _git("rev-parse", "HEAD")
    if not commit:
        return "unknown (not a git work tree)"
    dirty = _git("status", "--porcelain", "--", ".")
    return f"{commit} (uncommitted changes in the pack)" if dirty else commit


def describe(kind: str) -> str:
    return INPUT_SOURCES.get(kind, kind)
