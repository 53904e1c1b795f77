"""Entry point of the policy pack.

* ``pulumi preview --policy-pack policies`` runs this file (via ``runpy.run_path``, with
  the engine's address as arguments): it constructs the ``PolicyPack`` and serves.
* ``python -m policies evaluate ...`` runs the offline evaluator instead, and
  ``python -m policies adversarial --plan FILE`` the adversarial suite.

Nothing imports this module; the policies live in importable modules.
"""

import sys
from pathlib import Path

if not __package__:  # run by path (the Pulumi CLI): make the `policies` package importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


CLI_COMMANDS = {"evaluate", "adversarial", "catalogue", "-h", "--help"}


def main(argv: list[str]) -> int | None:
    if argv[:1] and argv[0] in CLI_COMMANDS:
        from policies.cli import main as cli_main

        return cli_main(argv)
    from policies.pack import build_pack

    build_pack()
    return None


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
