"""Pulumi entry point: load and validate the stack config, then build the stack."""

import sys
from pathlib import Path

_PROGRAM_DIR = Path(__file__).resolve().parent
# Pulumi runs this directory as a script, which puts the directory itself first on
# sys.path; its modules (dns, config, keys, ...) would then shadow installed top-level
# modules of the same name. Import them as the `infra` package from the repository root.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _PROGRAM_DIR]
sys.path.insert(0, str(_PROGRAM_DIR.parent))

from infra.program import main  # noqa: E402

main()
