"""``pulumi stack export``: the deployed resources' outputs, with the engine's graph."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .evaluate import InputError, Provenance, Subject, _read_json, provenance
from .model import parse_urn


def load_stack_export(path: Path) -> tuple[list[Subject], Provenance]:
    data = _read_json(path)
    if not isinstance(data, dict):
        raise InputError(f"{path}: a stack export is a JSON object")
    deployment = data.get("deployment", data)
    resources = deployment.get("resources") if isinstance(deployment, dict) else None
    if not isinstance(resources, list):
        raise InputError(
            f"{path}: no deployment.resources array (is this `pulumi stack export` output?)"
        )
    by_urn: dict[str, dict[str, Any]] = {}
    for index, res in enumerate(resources):
        if (
            not isinstance(res, dict)
            or not isinstance(res.get("urn"), str)
            or not isinstance(res.get("type"), str)
        ):
            raise InputError(f"{path}: resource {index} lacks a urn or type")
        by_urn[res["urn"]] = res

    def region_of(res: dict[str, Any], depth: int = 0) -> str | None:
        for bag in (res.get("outputs"), res.get("inputs")):
            if isinstance(bag, dict) and isinstance(bag.get("region"), str):
                return str(bag["region"])
        provider = res.get("provider")
        if isinstance(provider, str) and depth < 10:
            ref = provider.rsplit("::", 1)[0]
            if ref in by_urn:
                return region_of(by_urn[ref], depth + 1)
        parent = res.get("parent")
        if isinstance(parent, str) and parent in by_urn and depth < 50:
            return region_of(by_urn[parent], depth + 1)
        return None

    subjects: list[Subject] = []
    for res in resources:
        if res["type"] == "pulumi:pulumi:Stack" or res.get("delete"):
            continue
        inputs = res.get("inputs") if isinstance(res.get("inputs"), dict) else {}
        outputs = res.get("outputs") if isinstance(res.get("outputs"), dict) else {}
        _, name = parse_urn(res["urn"])
        deps = (
            res.get("propertyDependencies")
            if isinstance(res.get("propertyDependencies"), dict)
            else {}
        )
        provider = res.get("provider")
        subjects.append(
            Subject(
                type=res["type"],
                name=name or res["urn"],
                region=region_of(res),
                props={**inputs, **outputs},
                urn=res["urn"],
                outputs={**outputs, "id": res["id"]} if isinstance(res.get("id"), str) else None,
                parent=res.get("parent") if isinstance(res.get("parent"), str) else None,
                provider=provider.rsplit("::", 1)[0] if isinstance(provider, str) else None,
                dependencies=[d for d in res.get("dependencies") or [] if isinstance(d, str)],
                property_dependencies={
                    k: [d for d in v if isinstance(d, str)]
                    for k, v in deps.items()
                    if isinstance(v, list)
                },
            )
        )
    return subjects, provenance(path, "stack-export", len(subjects))
