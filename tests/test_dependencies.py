"""Imports point one way: the service ships alone, the scenario implementations never reach
back into the catalogue, the pure checker does no I/O."""

from __future__ import annotations

import ast
from pathlib import Path

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
