"""``python -m policies evaluate``: the pack, offline, with a report.

Exit codes: 0 no mandatory violation, 1 at least one mandatory violation, 2 the input
(or the config) could not be read or is not in the expected format.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from . import waivers
from .config import ConfigError
from .config import load as load_config
from .evaluate import InputError, load
from .html_report import render_html
from .report import render_json, render_markdown

EXIT_OK, EXIT_VIOLATION, EXIT_INPUT = 0, 1, 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        print(f"{self.prog}: error: {message}", file=sys.stderr)
        raise SystemExit(EXIT_INPUT)


def parser() -> argparse.ArgumentParser:
    root = _Parser(prog="python -m policies", description="Investment-orders policy pack tools.")
    sub = root.add_subparsers(dest="command", required=True, parser_class=_Parser)
    ev = sub.add_parser(
        "evaluate",
        help="evaluate every control over a plan, a stack export or recorded preview events",
        description=(
            "Evaluate the policy pack offline. Exit 0: no mandatory violation; 1: a mandatory "
            "control is violated; 2: unreadable or invalid input."
        ),
    )
    source = ev.add_mutually_exclusive_group(required=True)
    source.add_argument("--plan", type=Path, help="JSON array from `python -m infra.plan --json`")
    source.add_argument(
        "--preview-events",
        type=Path,
        help="line-delimited engine events of `PULUMI_ENABLE_STREAMING_JSON_PREVIEW=true "
        "pulumi preview --json --policy-pack policies`",
    )
    source.add_argument("--stack-export", type=Path, help="JSON from `pulumi stack export`")
    ev.add_argument("--format", choices=("json", "markdown", "html"), default="json")
    ev.add_argument(
        "--waivers",
        type=Path,
        help="waiver register (JSON) to apply instead of the pack's policies/waivers.json",
    )
    ev.add_argument("--out", type=Path, help="write the report here instead of stdout")
    ev.add_argument(
        "--config",
        type=Path,
        help='policy config JSON, as for `pulumi policy enable --config`: {"<policy>": '
        '{"enforcementLevel": "...", "<setting>": value}}',
    )
    adv = sub.add_parser(
        "adversarial",
        help="run the adversarial mutation suite over a plan and score it per requirement",
        description=(
            "Adversarial mutations (deletions, new types, renamed types, weakened and combined "
            "properties, evasions). Exit 0: every mutation caught; 1: some slipped; 2: unreadable "
            "or invalid input."
        ),
    )
    adv.add_argument(
        "--plan", type=Path, required=True, help="JSON array from `python -m infra.plan --json`"
    )
    adv.add_argument("--format", choices=("json", "text"), default="text")
    adv.add_argument("--out", type=Path, help="write the result here instead of stdout")
    sub.add_parser(
        "anchors", help="coverage against FSBP, CIS AWS, CIS EKS and compliance-policies"
    )
    sub.add_parser(
        "catalogue", help="print the control catalogue (Markdown) for policies/README.md"
    )
    return root


def _emit(text: str, out: Path | None) -> None:
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)


def _adversarial(args: argparse.Namespace) -> int:
    from .adversarial import render_text, run
    from .adversarial_catalogue import CATALOGUE

    try:
        data = json.loads(args.plan.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        print(f"policies adversarial: cannot read {args.plan}: {exc}", file=sys.stderr)
        return EXIT_INPUT
    if not isinstance(data, list):
        print(f"policies adversarial: {args.plan} is not a plan (a JSON array)", file=sys.stderr)
        return EXIT_INPUT
    score = run(data, CATALOGUE)
    text = (
        json.dumps(score.to_json(), indent=2) + "\n"
        if args.format == "json"
        else render_text(score)
    )
    _emit(text, args.out)
    return EXIT_OK if not score.missed else EXIT_VIOLATION


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(list(argv) if argv is not None else None)
    if args.command == "adversarial":
        return _adversarial(args)
    if args.command == "anchors":
        from .anchors import check, markdown_table

        problems = check()
        sys.stdout.write(markdown_table())
        for problem in problems:
            print(f"anchor catalogue: {problem}", file=sys.stderr)
        return EXIT_VIOLATION if problems else EXIT_OK
    if args.command == "catalogue":
        from .catalogue import markdown_catalogue

        sys.stdout.write(markdown_catalogue())
        return EXIT_OK
    if args.plan is not None:
        kind, path = "plan", args.plan
    elif args.stack_export is not None:
        kind, path = "stack-export", args.stack_export
    else:
        kind, path = "preview-events", args.preview_events
    try:
        config = load_config(args.config)
        register = waivers.load(args.waivers or waivers.REGISTER)
    except (ConfigError, waivers.WaiverError) as exc:
        print(f"policies evaluate: {exc}", file=sys.stderr)
        return EXIT_INPUT
    token = waivers.ACTIVE.set(register)
    try:
        evaluation = load(kind, path, config)
    except InputError as exc:
        print(f"policies evaluate: {exc}", file=sys.stderr)
        return EXIT_INPUT
    finally:
        waivers.ACTIVE.reset(token)
    renderers = {"markdown": render_markdown, "json": render_json, "html": render_html}
    text = renderers[args.format](evaluation)
    _emit(text, args.out)
    mandatory = len(evaluation.mandatory_violations)
    print(
        f"policies evaluate: {len(evaluation.violations)} violation(s), {mandatory} mandatory; "
        f"{len(evaluation.notes)} check(s) not evaluated",
        file=sys.stderr,
    )
    return evaluation.exit_code
