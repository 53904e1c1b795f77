"""`python -m chaos.stack up|down|status`: the same as `python -m chaos stack ...`."""

import sys

from chaos.stack.cli import main

sys.exit(main())
