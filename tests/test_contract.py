"""The contract module: dependency-free, and the single source of the facts it holds."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import contract

ROOT = Path(__file__).resolve().parents[1]


def test_contract_imports_only_the_standard_library() -> None:
    tree = ast.parse((ROOT / "contract.py").read_text())
    imported = {
        (node.module or "") if isinstance(node, ast.ImportFrom) else alias.name
        for node in ast.walk(tree) if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    }
    top = {name.split(".")[0] for name in imported}
    assert top <= set(sys.stdlib_module_names) | {"__future__"}, top


def test_contract_table_is_generated() -> None:
    text = (ROOT / "service" / "CONTRACT.md").read_text()
    assert contract.render_contract(text) == text, "run: python -m contract"


def test_every_orders_variable_the_service_reads_is_in_the_contract() -> None:
    source = "\n".join(p.read_text() for p in (ROOT / "service").rglob("*.py"))
    read = {tok.strip("\"'") for tok in source.replace("(", " ").replace(",", " ").split()
            if tok.strip("\"'").startswith("ORDERS_") and tok.strip("\"'").isupper()}
    read = {name.rstrip(":") for name in read if name.replace("_", "").isalnum()}
    assert read <= {v.name for v in contract.ENVIRONMENT}, read - {
        v.name for v in contract.ENVIRONMENT}


def test_the_facts_are_used_not_copied() -> None:
    """The literals live only in contract.py (and the docs/tests quoting them)."""
    literals = ('"AzImpairmentPower"', '"orders_owner"', '"orders_app"', '"orders-local"',
                '"app.kubernetes.io/name=orders-api"')
    packages = ("service", "infra", "policies", "chaos", "localenv", "bench")
    for path in (p for pkg in packages for p in (ROOT / pkg).rglob("*.py")):
        rel = path.relative_to(ROOT)
        if rel.parts[:2] == ("chaos", "stack"):  # the stack's own rewrite adopts it
            continue
        text = path.read_text()
        for literal in literals:
            assert literal not in text, f"{rel} spells out {literal}: use contract"
