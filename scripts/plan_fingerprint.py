"""Everything the Pulumi program registers under the offline mocks, in a canonical order.

    .venv/bin/python scripts/plan_fingerprint.py OUT.json [--set orders:standbyEnabled=false]

Writes each resource's URN, type, name, parent, providers, inputs, explicit dependencies
and ignored drift, the mocks' outputs, the stack outputs and the provider calls, sorted so
that two runs of the same program give the same file (registration order is
asynchronous). Diff two files to prove a refactoring registers the same resources with the
same URNs (a changed URN on a live stack is a replacement); prints the file's sha256.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from infra.plan import (
    DEFAULT_STACK_FILE,
    load_stack_settings,
    plan_with_outputs,
    run_program,
)


def fingerprint(overrides: list[str]) -> dict[str, Any]:
    recording, error = run_program(load_stack_settings(DEFAULT_STACK_FILE, overrides))
    if error is not None:
        raise SystemExit(f"invalid stack config: {error}")
    resources = sorted((dataclasses.asdict(r) for r in recording.resources),
                       key=lambda r: r["urn"])
    for resource in resources:
        resource["dependencies"] = sorted(resource["dependencies"])
    calls = sorted(
        json.dumps({"token": c.token, "provider": c.provider,
                    "args": {k: str(v) for k, v in dict(c.args).items()}}, sort_keys=True)
        for c in recording.calls
    )
    return {
        "resources": resources,
        "plan": sorted(plan_with_outputs(recording), key=lambda e: (e["type"], e["name"])),
        "outputs": recording.stack_outputs,
        "calls": calls,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--set", dest="overrides", action="append", default=[])
    args = parser.parse_args()
    text = json.dumps(fingerprint(args.overrides), indent=1, sort_keys=True, default=str)
    args.out.write_text(text + "\n")
    print(hashlib.sha256(text.encode()).hexdigest(), args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
