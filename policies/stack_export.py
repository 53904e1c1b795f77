"""``pulumi stack export``: the deployed resources' outputs, with the engine's graph."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .evaluate import InputError, Provenance, Subject, _read_json, provenance
from .model import parse_urn


def _resources(path: Path) -> list[dict[str, Any]]:
    data = _read_json(path)
    if not isinstance(data, dict):
        raise InputError(f"{path}: a stack export is a JSON object")
    deployment = data.get("deployment", data)
    resources = deployment.get("resources") if isinstance(deployment, dict) else None
    if not isinstance(resources, list):
        raise InputError(
            f"{path}: no deployment.resources array (is this `pulumi stack export` output?)"
        )
    for index, res in enumerate(resources):
        if (
            not isinstance(res, dict)
            or not isinstance(res.get("urn"), str)
            or not isinstance(res.get("type"), str)
        ):
            raise InputError(f"{path}: resource {index} lacks a urn or type")
    return resources


def _region_of(
    res: dict[str, Any], by_urn: dict[str, dict[str, Any]], depth: int = 0
) -> str | None:
    """The resource's region, else its provider's, else its parent's."""
    for bag in (res.get("outputs"), res.get("inputs")):
        if isinstance(bag, dict) and isinstance(bag.get("region"), str):
            return str(bag["region"])
    provider = res.get("provider")
    if isinstance(provider, str) and depth < 10:
        ref = provider.rsplit("::", 1)[0]
        if ref in by_urn:
            return _region_of(by_urn[ref], by_urn, depth + 1)
    parent = res.get("parent")
    if isinstance(parent, str) and parent in by_urn and depth < 50:
        return _region_of(by_urn[parent], by_urn, depth + 1)
    return None


def _subject(res: dict[str, Any], by_urn: dict[str, dict[str, Any]]) -> Subject:
    raw_inputs, raw_outputs = res.get("inputs"), res.get("outputs")
    inputs: dict[str, Any] = raw_inputs if isinstance(raw_inputs, dict) else {}
    outputs: dict[str, Any] = raw_outputs if isinstance(raw_outputs, dict) else {}
    _, name = parse_urn(res["urn"])
    deps = res.get("propertyDependencies")
    deps = deps if isinstance(deps, dict) else {}
    provider = res.get("provider")
    return Subject(
        type=res["type"],
        name=name or res["urn"],
        region=_region_of(res, by_urn),
        props={**inputs, **outputs},
        urn=res["urn"],
        outputs={**outputs, "id": res["id"]} if isinstance(res.get("id"), str) else None,
        parent=res.get("parent") if isinstance(res.get("parent"), str) else None,
        provider=provider.rsplit("::", 1)[0] if isinstance(provider, str) else None,
        dependencies=[d for d in res.get("dependencies") or [] if isinstance(d, str)],
        property_dependencies={
            k: [d for d in v if isinstance(d, str)] for k, v in deps.items() if isinstance(v, list)
        },
    )


def load_stack_export(path: Path) -> tuple[list[Subject], Provenance]:
    resources = _resources(path)
    by_urn = {res["urn"]: res for res in resources}
    subjects = [
        _subject(res, by_urn)
        for res in resources
        if res["type"] != "pulumi:pulumi:Stack" and not res.get("delete")
    ]
    return subjects, provenance(path, "stack-export", len(subjects))
