"""Regenerate the schemas the offline validator checks the program's objects against.

    python scripts/vendor_schemas.py --argo-helm DIR --keda-charts DIR

- Kubernetes: the JSON schemas of the pinned Kubernetes version shipped by the PyPI
  package `kubernetes-validate` (generated from the upstream OpenAPI spec, "strict":
  unknown fields rejected), cut to the kinds the program registers plus the definitions
  they reference.
- Custom resources: `openAPIV3Schema` of each CRD the program uses, read from the chart
  source at the pinned chart version's tag (DIR: a clone of argoproj/argo-helm and of
  kedacore/charts).
Writes infra/schemas/ and its PROVENANCE.json (sources, tags, commits, sha256).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import subprocess
from pathlib import Path
from typing import Any

import yaml

from infra.config import CHART_VERSIONS, KUBERNETES_VERSION

OUT = Path(__file__).resolve().parent.parent / "infra" / "schemas"
# (apiVersion, kind) of every built-in object the program registers
KUBERNETES_KINDS = [
    ("v1", "Namespace"),
    ("v1", "ServiceAccount"),
    ("v1", "Secret"),
    ("v1", "ConfigMap"),
    ("v1", "Service"),
    ("apps/v1", "Deployment"),
    ("batch/v1", "Job"),
    ("batch/v1", "CronJob"),
    ("policy/v1", "PodDisruptionBudget"),
    ("autoscaling/v2", "HorizontalPodAutoscaler"),
    ("networking.k8s.io/v1", "NetworkPolicy"),
    ("networking.k8s.io/v1", "Ingress"),
]
# (apiVersion, kind, source repository, tag, path in the repository)
CUSTOM_RESOURCES = [
    (
        "argoproj.io/v1alpha1",
        "Rollout",
        "argoproj/argo-helm",
        f"argo-rollouts-{CHART_VERSIONS['argoRolloutsChart']}",
        "charts/argo-rollouts/templates/crds/rollout-crd.yaml",
    ),
    (
        "argoproj.io/v1alpha1",
        "AnalysisTemplate",
        "argoproj/argo-helm",
        f"argo-rollouts-{CHART_VERSIONS['argoRolloutsChart']}",
        "charts/argo-rollouts/templates/crds/analysis-template-crd.yaml",
    ),
    (
        "keda.sh/v1alpha1",
        "ScaledObject",
        "kedacore/charts",
        f"v{CHART_VERSIONS['kedaChart']}",
        "keda/templates/crds/crd-scaledobjects.yaml",
    ),
    (
        "keda.sh/v1alpha1",
        "TriggerAuthentication",
        "kedacore/charts",
        f"v{CHART_VERSIONS['kedaChart']}",
        "keda/templates/crds/crd-triggerauthentications.yaml",
    ),
]
_REF = re.compile(r'"\$ref": "(?:/api/_definitions\.json)?#/\$defs/([^"]+)"')


def kubernetes_file_name(api_version: str, kind: str) -> str:
    """kubernetes-validate's naming: deployment-apps-v1.json, ingress-networking-v1.json."""
    group, _, version = api_version.rpartition("/")
    group = group.split(".")[0]
    return "-".join(p for p in (kind.lower(), group, version) if p) + ".json"


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def vendor_kubernetes(version: str) -> dict[str, Any]:
    import kubernetes_validate

    package = Path(kubernetes_validate.__file__).parent
    source = package / "kubernetes-json-schema" / f"v{version}.0-local-strict"
    definitions_raw = (source / "_definitions.json").read_bytes()
    definitions = json.loads(definitions_raw)
    target = OUT / "kubernetes" / f"v{version}"
    target.mkdir(parents=True, exist_ok=True)
    needed: set[str] = set()
    files = {}
    for api_version, kind in KUBERNETES_KINDS:
        name = kubernetes_file_name(api_version, kind)
        raw = (source / name).read_bytes()
        (target / name).write_bytes(raw)
        files[name] = sha256(raw)
        _closure(raw.decode(), definitions["$defs"], needed)
    trimmed = {**definitions, "$defs": {k: definitions["$defs"][k] for k in sorted(needed)}}
    (target / "_definitions.json").write_text(json.dumps(trimmed, indent=1, sort_keys=True) + "\n")
    return {
        "source": f"PyPI kubernetes-validate {kubernetes_validate.__version__}, "
        f"kubernetes-json-schema/v{version}.0-local-strict",
        "kubernetes_version": version,
        "source_definitions_sha256": sha256(definitions_raw),
        "kind_files_sha256": files,
        "definitions_kept": len(needed),
    }


def _closure(text: str, defs: dict[str, Any], needed: set[str]) -> None:
    for name in _REF.findall(text):
        if name not in needed:
            needed.add(name)
            _closure(json.dumps(defs[name]), defs, needed)


def vendor_crds(repos: dict[str, Path]) -> list[dict[str, Any]]:
    target = OUT / "crds"
    target.mkdir(parents=True, exist_ok=True)
    entries = []
    for api_version, kind, repo, tag, path in CUSTOM_RESOURCES:
        git = ["git", "-C", str(repos[repo])]
        raw = subprocess.run(
            [*git, "show", f"{tag}:{path}"], check=True, capture_output=True
        ).stdout
        commit = subprocess.run(
            [*git, "rev-parse", f"{tag}^{{commit}}"], check=True, capture_output=True, text=True
        ).stdout.strip()
        # Helm directives sit only in the CRDs' metadata; the schema is plain YAML.
        text = "\n".join(line for line in raw.decode().splitlines() if "{{" not in line)
        crd = yaml.safe_load(text)
        group, _, version = api_version.partition("/")
        (served,) = [v for v in crd["spec"]["versions"] if v["name"] == version]
        name = f"{kind.lower()}-{group.split('.')[0]}-{version}.json"
        schema = served["schema"]["openAPIV3Schema"]
        (target / name).write_text(json.dumps(schema, indent=1, sort_keys=True) + "\n")
        entries.append(
            {
                "apiVersion": api_version,
                "kind": kind,
                "file": name,
                "source": f"https://github.com/{repo}/blob/{tag}/{path}",
                "commit": commit,
                "source_sha256": sha256(raw),
            }
        )
    return entries


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--argo-helm", type=Path, required=True)
    parser.add_argument("--keda-charts", type=Path, required=True)
    args = parser.parse_args()
    provenance = {
        "generated_by": "scripts/vendor_schemas.py",
        "kubernetes": vendor_kubernetes(KUBERNETES_VERSION),
        "custom_resources": vendor_crds(
            {"argoproj/argo-helm": args.argo_helm, "kedacore/charts": args.keda_charts}
        ),
    }
    (OUT / "PROVENANCE.json").write_text(json.dumps(provenance, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
