"""`python -m chaos restore-drill --target aws`: the local restore drill's CLI hands its
arguments here; the AWS drill itself is chaos/aws/restore.py (options: chaos/aws/restore_cli.py,
whose `add_arguments` the `restore-drill` parser includes)."""

from __future__ import annotations

import argparse

from chaos.aws.restore_cli import run


def main(args: argparse.Namespace) -> int:
    return run(args)
