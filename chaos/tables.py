"""The README tables derived from the scenario catalogue, kept current by a test.

    python -m chaos.tables          # rewrite the tables in place
    python -m chaos.tables --check  # exit 1 when a table is stale (what the test checks)

Each table sits between `<!-- scenarios:NAME:begin -->` and `<!-- scenarios:NAME:end -->`
in the file that shows it.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from chaos import catalogue
from chaos.catalogue import Scenario

ROOT = Path(__file__).resolve().parents[1]


def _cell(text: str) -> str:
    return text.replace("|", "/").replace("\n", " ")


def _aws(s: Scenario) -> str:
    if s.aws is None:
        return f"none: {_cell(s.no_aws)}"
    return _cell(s.aws.aws_fault)


def _sets(s: Scenario) -> str:
    marks = [m for m, on in (("standard", s.standard), ("ci", s.ci)) if on]
    return ", ".join(marks) or "by name"


def root_table(scenarios: Sequence[Scenario]) -> list[str]:
    lines = ["| scenario | what fails | local | AWS | sets |", "|---|---|---|---|---|"]
    lines += [
        f"| `{s.name}` | {_cell(s.title)} | {'yes' if s.local else 'no'} | "
        f"{'yes' if s.aws else 'no'} | {_sets(s)} |"
        for s in scenarios
    ]
    return lines


def drill_table(scenarios: Sequence[Scenario]) -> list[str]:
    lines = ["| scenario | fault | rollback | expected alerts |", "|---|---|---|---|"]
    lines += [
        f"| `{s.name}` | {_cell(s.method)} | {_cell(s.rollback)} | "
        f"{', '.join(s.expected_alerts.names) or '—'} |"
        for s in scenarios if s.local is not None
    ]
    return lines


def runbook_table(scenarios: Sequence[Scenario]) -> list[str]:
    lines = ["| scenario | runbook | local fault | AWS fault |", "|---|---|---|---|"]
    lines += [
        f"| `{s.name}` | [{s.runbook}.md]({s.runbook}.md) | {_cell(s.method)} | {_aws(s)} |"
        for s in scenarios if s.local is not None
    ]
    return lines


TABLES: dict[str, tuple[str, Callable[[Sequence[Scenario]], list[str]]]] = {
    "overview": ("README.md", root_table),
    "drill": ("chaos/drill/README.md", drill_table),
    "runbooks": ("runbooks/README.md", runbook_table),
}


def render(text: str, name: str, lines: list[str]) -> str:
    begin, end = f"<!-- scenarios:{name}:begin -->", f"<!-- scenarios:{name}:end -->"
    if begin not in text or end not in text:
        raise ValueError(f"no {begin} ... {end} markers")
    block = "\n".join([begin, *lines, end])
    pattern = re.escape(begin) + r".*?" + re.escape(end)
    return re.sub(pattern, lambda _: block, text, count=1, flags=re.S)


def stale(root: Path = ROOT, write: bool = False) -> list[str]:
    """The files whose tables differ from the catalogue (rewritten when `write`)."""
    scenarios = list(catalogue.SCENARIOS.values())
    out = []
    for name, (rel, build) in TABLES.items():
        path = root / rel
        text = path.read_text()
        new = render(text, name, build(scenarios))
        if new != text:
            out.append(rel)
            if write:
                path.write_text(new)
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m chaos.tables", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="exit 1 if a table is stale")
    args = parser.parse_args(argv)
    changed = stale(write=not args.check)
    verb = "stale" if args.check else "rewritten"
    print(f"{verb}: {', '.join(changed)}" if changed else "tables current")
    return 1 if args.check and changed else 0


if __name__ == "__main__":
    sys.exit(main())
