"""Pulumi entry point: load and validate the stack config, then build the stack."""

import sys
from pathlib import Path

# Pulumi runs this directory as a script, so the repository root (which holds the
# `infra` package) is not necessarily importable yet.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from infra.program import main

main()
