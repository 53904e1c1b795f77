"""Imports point one way: the service ships alone, the scenario implementations never reach
back into the catalogue, the pure checker does no I/O."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[1]


def imported_modules(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module)
    return found


def imports_under(directory: str) -> dict[str, set[str]]:
    return {str(p.relative_to(ROOT)): imported_modules(p)
            for p in (ROOT / directory).rglob("*.py")}


def offenders(imports: dict[str, set[str]], forbidden: tuple[str, ...]) -> list[str]:
    return sorted(f"{path}: {module}" for path, modules in imports.items()
                  for module in modules if module.split(".")[0] in forbidden
                  or module.startswith(forbidden))


def test_the_service_imports_only_itself_and_the_contract() -> None:
    local = ("localenv", "chaos", "infra", "policies", "bench", "tests")
    assert offenders(imports_under("service"), local) == []


def test_scenario_implementations_do_not_import_the_catalogue() -> None:
    imports = imports_under("chaos/aws") | {
        "chaos/drill/methods.py": imported_modules(ROOT / "chaos/drill/methods.py")}
    assert offenders(imports, ("chaos.catalogue", "chaos.tables")) == []


def test_the_checker_is_pure() -> None:
    modules = imported_modules(ROOT / "chaos/drill/checker.py")
    io = ("asyncpg", "asyncio", "boto3", "httpx", "subprocess", "os", "socket")
    assert not {m for m in modules if m.split(".")[0] in io}, modules


def test_the_image_ships_only_the_service_and_the_contract() -> None:
    copies = [line.split()[1] for line in (ROOT / "Dockerfile").read_text().splitlines()
              if line.startswith("COPY ") and "--from" not in line]
    assert copies == ["pyproject.toml", "contract.py", "service"], copies


def _dist(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def installed_by(requirements: list[str]) -> set[str]:
    """The distributions `pip install` of these requirements brings in: their closure over
    what is installed here, each requirement's markers evaluated with no extra asked for."""
    seen: set[str] = set()
    todo = [Requirement(text) for text in requirements]
    while todo:
        requirement = todo.pop()
        name = _dist(requirement.name)
        if name in seen or (requirement.marker and not requirement.marker.evaluate({"extra": ""})):
            continue
        seen.add(name)
        todo.extend(Requirement(text) for text in metadata.requires(name) or [])
    return seen


LOCAL = ("service", "chaos", "contract", "__future__")


def module_file(name: str) -> Path | None:
    base = ROOT / name.replace(".", "/")
    for path in (base.with_suffix(".py"), base / "__init__.py"):
        if path.is_file():
            return path
    return None


def reached_from(entries: list[str]) -> set[str]:
    """Every module imported, at any depth, by the local modules reachable from `entries`."""
    seen: set[str] = set()
    found: set[str] = set()
    todo = list(entries)
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        path = module_file(name)
        if path is None:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
            else:
                continue
            found |= set(names)
            todo.extend(n for n in names if n.split(".")[0] in LOCAL)
    return found


def not_shipped(modules: set[str]) -> list[str]:
    """The third-party modules among `modules` that the core dependencies do not install."""
    core = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    shipped = installed_by(core)
    providers = metadata.packages_distributions()
    third_party = {m.split(".")[0] for m in modules} - set(sys.stdlib_module_names) - set(LOCAL)
    return sorted(
        f"{module} (from {', '.join(providers.get(module, ['no installed distribution']))})"
        for module in third_party
        if not {_dist(d) for d in providers.get(module, [])} & shipped
    )


def test_every_package_the_service_imports_is_a_core_dependency() -> None:
    """The image installs the core dependencies only (`pip install .`): a module the service
    imports from an extra would stop the first pod at start-up (it happened: the audit
    notes' `cryptography` came only with the drills extra)."""
    imported = {m for modules in imports_under("service").values() for m in modules}
    assert {"litestar", "asyncpg", "jwt", "cryptography"} <= {m.split(".")[0] for m in imported}
    assert not_shipped(imported) == []


def test_the_restore_verifier_image_has_what_its_jobs_import() -> None:
    """Dockerfile.restore-verifier also installs only the core dependencies, and its
    CronJobs run these two modules (infra/restore_testing.py)."""
    imported = reached_from(["chaos.aws.restore_cli", "chaos.aws.restore_freshness"])
    assert "boto3" in {m.split(".")[0] for m in imported}  # the walk reached the AWS layer
    assert not_shipped(imported) == []
