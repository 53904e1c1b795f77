"""Offline inventory: run the Pulumi program under recording mocks and print what it registers.

    python -m infra.plan [--json] [--summary] [--stack-config Pulumi.prod.yaml]
                         [--set orders:standbyEnabled=false] [--set orders:primary.apiReplicas=4]

No Pulumi CLI, engine or AWS account is involved. The stack config is read from the stack
file the CLI would use and handed to the program as the engine would (objects as JSON).
`--json` prints a JSON array of {"type", "name", "region", "inputs", "outputs"} (camelCase
inputs, as a policy pack sees them, and the outputs the mocks answered with: ARNs and ids
that let the policy pack (`policies/`) resolve references between resources without
replaying the mocks).
Exit status: 0 on success, 2 when the stack config is invalid (nothing is registered).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from infra.config import PRIMARY_DEFAULTS, ConfigError
from infra.mocks import OutputMocks, Recording, install

REPO_ROOT = Path(__file__).resolve().parent.parent
# Stands in for a `secure:` value, which only the CLI can decrypt. Long enough to pass
# length checks; the program marks it secret, so the inventory shows "[secret]".
SECURE_VALUE_STAND_IN = "offline-stand-in-for-an-encrypted-config-value"
DEFAULT_STACK_FILE = REPO_ROOT / "Pulumi.prod.yaml"


@dataclass
class StackSettings:
    project: str
    stack: str
    config: dict[str, str]  # "namespace:key" -> value as the engine passes it
    secret_keys: list[str]


def read_project_name(project_file: Path) -> str:
    data = yaml.safe_load(project_file.read_text())
    return str(data["name"])


def load_stack_settings(stack_file: Path, overrides: list[str]) -> StackSettings:
    """Read Pulumi.<stack>.yaml, apply `key=value` overrides, render values engine-style."""
    project = read_project_name(stack_file.parent / "Pulumi.yaml")
    stack = stack_file.name.removeprefix("Pulumi.").removesuffix(".yaml")
    raw: dict[str, Any] = dict((yaml.safe_load(stack_file.read_text()) or {}).get("config") or {})
    for override in overrides:
        key, sep, value = override.partition("=")
        if not sep:
            raise SystemExit(f"--set expects key=value, got {override!r}")
        _set_path(raw, key if ":" in key else f"{project}:{key}", yaml.safe_load(value))

    config: dict[str, str] = {}
    secret_keys: list[str] = []
    for key, value in raw.items():
        if isinstance(value, dict) and set(value) == {"secure"}:
            # Encrypted with the stack's key, which only the CLI can read: stand in a value.
            config[key] = SECURE_VALUE_STAND_IN
            secret_keys.append(key)
        else:
            config[key] = _engine_value(value)
    return StackSettings(project, stack, config, secret_keys)


def _set_path(raw: dict[str, Any], key: str, value: Any) -> None:
    """`orders:primary.apiReplicas` sets one field of an object (like `config set --path`)."""
    head, *path = key.split(".")
    if not path:
        raw[head] = value
        return
    node = raw.setdefault(head, {})
    for part in path[:-1]:
        node = node.setdefault(part, {})
    node[path[-1]] = value


def _engine_value(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value)


def _primary_region(config: dict[str, str]) -> str:
    """Region for resources with neither a provider nor a region input (there should be
    none, but the inventory must still say something)."""
    try:
        region = json.loads(config.get("orders:primary", "{}")).get("region")
    except (json.JSONDecodeError, AttributeError):
        region = None
    return str(region or config.get("aws:region") or PRIMARY_DEFAULTS["region"])


def run_program(settings: StackSettings) -> tuple[Recording, ConfigError | None]:
    """Run infra.program.main under the recording mocks.

    Returns what was registered and, for an invalid stack config, the ConfigError (the
    recording then shows that nothing was registered before the program stopped)."""
    import pulumi.runtime
    from pulumi.runtime.stack import run_pulumi_func
    from pulumi.runtime.sync_await import _sync_await

    pulumi.runtime.set_all_config(settings.config, settings.secret_keys)
    recording = install(_primary_region(settings.config), settings.project, settings.stack)

    from infra import program

    try:
        _sync_await(run_pulumi_func(program.main))
    except ConfigError as error:
        return recording, error
    root = pulumi.runtime.get_root_resource()
    if root is not None:  # the stack outputs, as `pulumi stack output --json` would show
        exported: Any = pulumi.Output.from_input(getattr(root, "outputs", {}))
        recording.stack_outputs = _sync_await(exported.future()) or {}
    return recording, None


def plan_with_outputs(recording: Recording) -> list[dict[str, Any]]:
    """The plan entries, each with the outputs the mocks gave that resource.

    The mocks are deterministic, so answering each registration again yields exactly the
    ARNs and ids the program saw; inputs are left as registered (secrets stay masked).
    """
    from pulumi.runtime.mocks import MockResourceArgs

    mocks = OutputMocks(Recording(default_region=recording.default_region))
    entries = recording.as_plan()
    for entry in entries:
        args = MockResourceArgs(
            typ=entry["type"], name=entry["name"], inputs=dict(entry["inputs"]), custom=True
        )
        resource_id, outputs = mocks.new_resource_in(args, entry["region"])
        entry["outputs"] = {**outputs, "id": resource_id}
    return entries


def summary(recording: Recording) -> list[tuple[str, str, int]]:
    """Resource count per top-level component and region (component itself excluded)."""
    counts: Counter[tuple[str, str]] = Counter()
    for resource in recording.resources:
        top = recording.top_component(resource)
        if top is resource:
            continue
        label = f"{top.type.rsplit(':', 1)[-1]} {top.name}" if top else "(stack)"
        counts[(label, recording.region_of(resource))] += 1
    return [(label, region, n) for (label, region), n in sorted(counts.items())]


def print_text(recording: Recording, summary_only: bool) -> None:
    plan = recording.as_plan()
    if not summary_only:
        for entry in plan:
            print(f"{entry['region']:<14} {entry['type']:<58} {entry['name']}")
            print(f"    {json.dumps(entry['inputs'], sort_keys=True)}")
        print()
    rows = summary(recording)
    print(f"{'component':<40} {'region':<14} {'resources':>9}")
    for label, region, count in rows:
        print(f"{label:<40} {region:<14} {count:>9}")
    per_region = Counter(entry["region"] for entry in plan)
    totals = ", ".join(f"{region}: {n}" for region, n in sorted(per_region.items()))
    print(f"\n{len(plan)} resources registered ({totals})")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m infra.plan", description=(__doc__ or "").split("\n")[0]
    )
    parser.add_argument("--json", action="store_true", help="print the JSON inventory")
    parser.add_argument("--summary", action="store_true", help="print only the counts")
    parser.add_argument(
        "--outputs", action="store_true", help="print the stack outputs (mock values) as JSON"
    )
    parser.add_argument(
        "--options",
        action="store_true",
        help="print each resource's explicit dependencies and ignored drift as JSON",
    )
    parser.add_argument("--stack-config", type=Path, default=DEFAULT_STACK_FILE)
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a config value, e.g. orders:standbyEnabled=false",
    )
    args = parser.parse_args(argv)

    settings = load_stack_settings(args.stack_config, args.overrides)
    recording, error = run_program(settings)
    if error is not None:
        print(f"error: {error}", file=sys.stderr)
        print(f"{len(recording.resources)} resources registered", file=sys.stderr)
        return 2
    if args.outputs:
        json.dump(recording.stack_outputs, sys.stdout, indent=2, sort_keys=True)
        sys.stdout.write("\n")
    elif args.options:
        json.dump(recording.options(), sys.stdout, indent=1)
        sys.stdout.write("\n")
    elif args.json:
        json.dump(plan_with_outputs(recording), sys.stdout, indent=1, sort_keys=False)
        sys.stdout.write("\n")
    else:
        print_text(recording, args.summary)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
