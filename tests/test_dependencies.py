"""Imports point one way: the service ships alone, the scenario implementations never reach
back into the catalogue, the pure checker does no I/O."""

from __future__ import annotations

import ast
import functools
import importlib.util
import os
import re
import sys
import tomllib
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement

from chaos.aws.restore_verify import CHECKS_MODULE

ROOT = Path(__file__).resolve().parents[1]


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module)
    return found


def imports_resolved(path: Path) -> set[str]:
    """Like `imported_modules`, and for `from m import n` also m.n (n may be a module, as in
    `from chaos import catalogue`), relative imports resolved: what a walk through local
    modules must follow. (`imported_modules` stays as the layering tests read it: with this
    reading, chaos/aws/cli.py's `from chaos import catalogue` shows, which they never saw.)"""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{anchor}.{base}" if base else anchor
            found |= {base} | {f"{base}.{alias.name}" for alias in node.names}
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
    """Every module imported, at any depth, by the local modules reachable from `entries`
    (and their parent packages, whose __init__ runs on import)."""
    seen: set[str] = set()
    found: set[str] = set()
    todo = list(entries)
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        parts = name.split(".")
        todo += [".".join(parts[:n]) for n in range(1, len(parts))]
        path = module_file(name)
        if path is None:
            continue
        names = imports_resolved(path)
        found |= names
        todo += [n for n in names if n.split(".")[0] in LOCAL]
    return found


@functools.cache
def file_owners() -> dict[str, str]:
    """Every installed Python file, by the distribution whose RECORD lists it."""
    owners: dict[str, str] = {}
    for dist in metadata.distributions():
        name = _dist(dist.metadata["Name"])
        for file in dist.files or []:
            if file.suffix in (".py", ".so", ".pyd"):
                owners[os.path.normpath(str(dist.locate_file(file)))] = name
    return owners


def owner_of(module: str) -> str | None:
    """The distribution that installed the file `module` is loaded from. A name that is
    not a module (`from x import attribute`) is looked up as its parent; a namespace
    package has no file and no owner of its own (its submodules are checked instead)."""
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        spec = None
    if spec is None:
        parent = module.rpartition(".")[0]
        return owner_of(parent) if parent else "no installed distribution"
    if spec.origin is None:  # a namespace package
        return None
    return file_owners().get(os.path.normpath(spec.origin), "no installed distribution")


def core_requirements() -> list[str]:
    """What the images install: `pip install .`, the core dependencies only."""
    return list(tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"])


def third_party(modules: set[str]) -> list[str]:
    outside = set(sys.stdlib_module_names) | set(LOCAL)
    return sorted(m for m in modules if m.split(".")[0] not in outside)


def service_imports() -> set[str]:
    return {m for modules in imports_under("service").values() for m in modules}


def not_shipped(modules: set[str]) -> list[str]:
    """The third-party modules among `modules` whose files the core dependencies do not
    install (by file, so each part of a namespace package such as opentelemetry counts)."""
    shipped = installed_by(core_requirements())
    missing = []
    for module in third_party(modules):
        owner = owner_of(module)
        if owner is not None and owner not in shipped:
            missing.append(f"{module} (from {owner})")
    return missing


def test_the_check_tells_a_namespace_package_s_parts_apart() -> None:
    """opentelemetry is one namespace over several distributions: the HTTP exporter is a
    core dependency, the gRPC one (installed here through another package) is not."""
    http = "opentelemetry.exporter.otlp.proto.http.trace_exporter"
    grpc = "opentelemetry.exporter.otlp.proto.grpc.trace_exporter"
    assert not_shipped({http}) == []
    if importlib.util.find_spec(grpc) is not None:
        assert not_shipped({grpc}) == [f"{grpc} (from opentelemetry-exporter-otlp-proto-grpc)"]
    assert not_shipped({"no_such_package.module"}) == [
        "no_such_package.module (from no installed distribution)"]


def test_every_package_the_service_imports_is_a_core_dependency() -> None:
    """The image installs the core dependencies only (`pip install .`): a module the service
    imports from an extra would stop the first pod at start-up (it happened: the audit
    notes' `cryptography` came only with the drills extra)."""
    imported = service_imports()
    assert {"litestar", "asyncpg", "jwt", "cryptography"} <= {m.split(".")[0] for m in imported}
    assert not_shipped(imported) == []


def test_what_the_service_imports_it_declares() -> None:
    """Not only installed by chance: a distribution the service imports from is named in
    the core dependencies, so a dependency dropping it cannot break the image."""
    declared = {_dist(Requirement(text).name) for text in core_requirements()}
    undeclared = sorted({f"{owner} ({module})" for module in third_party(service_imports())
                         if (owner := owner_of(module)) is not None and owner not in declared})
    assert undeclared == []


def test_the_restore_verifier_image_has_what_its_jobs_import() -> None:
    """Dockerfile.restore-verifier also installs only the core dependencies, and its
    CronJobs run these two modules (infra/restore_testing.py), which load the checks."""
    imported = reached_from(["chaos.aws.restore_cli", "chaos.aws.restore_freshness",
                             # loaded by name at run time (chaos/aws/restore_verify.py)
                             CHECKS_MODULE])
    assert "boto3" in {m.split(".")[0] for m in imported}  # the walk reached the AWS layer
    assert "service.audit.verify" in imported  # ... and the checks the verifier loads
    assert not_shipped(imported) == []
