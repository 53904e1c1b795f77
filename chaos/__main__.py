"""`python -m chaos stack up|down|status`, `python -m chaos drill ...`."""

from __future__ import annotations

import argparse
import sys


def build_parser() -> argparse.ArgumentParser:
    from chaos.aws.restore_cli import register as register_restore_drill
    from chaos.drill.cli import register as register_drill
    from chaos.stack.cli import register as register_stack

    parser = argparse.ArgumentParser(
        prog="python -m chaos", description="Local HA stack and failover drills."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    register_stack(commands)
    register_drill(commands)
    register_restore_drill(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
