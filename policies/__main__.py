"""Entry point of the policy pack.

* ``pulumi preview --policy-pack DIR`` (and a published pack) runs this file by path, with
  the engine's address as arguments: it constructs the ``PolicyPack`` and serves.
* ``python -m policies evaluate ...`` runs the offline evaluator instead, ``adversarial``
  the adversarial suite and ``catalogue`` prints the README table.

Run by path, the pack directory is loaded as a package under a fixed alias, so it works
whatever the directory is called (``pulumi policy publish`` unpacks it elsewhere); every
module inside imports its siblings relatively.
"""

import importlib
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

PACK_ALIAS = "investment_orders_policy_pack"
CLI_COMMANDS = {"evaluate", "adversarial", "anchors", "catalogue", "-h", "--help"}


def _package() -> ModuleType:
    if __package__:
        return importlib.import_module(__package__)
    if PACK_ALIAS in sys.modules:
        return sys.modules[PACK_ALIAS]
    pack_dir = Path(__file__).resolve().parent
    # Run by path, Python put the pack directory first on sys.path, where its modules
    # would shadow the standard library's (types, html): import it as a package instead.
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != pack_dir]
    spec = importlib.util.spec_from_file_location(
        PACK_ALIAS, pack_dir / "__init__.py", submodule_search_locations=[str(pack_dir)]
    )
    if spec is None or spec.loader is None:  # pragma: no cover - the file is right here
        raise ImportError(f"cannot load the policy pack from {pack_dir}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[PACK_ALIAS] = module
    spec.loader.exec_module(module)
    return module


def main(argv: list[str]) -> int | None:
    package = _package().__name__
    if argv[:1] and argv[0] in CLI_COMMANDS:
        cli = importlib.import_module(f"{package}.cli")
        return int(cli.main(argv))
    importlib.import_module(f"{package}.pack").build_pack()
    return None


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
