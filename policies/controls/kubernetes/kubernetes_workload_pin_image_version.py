"""kubernetes-workload-pin-image-version

Images must be pinned to a version tag or digest, never `latest` or untagged.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ... import props as P
from ... import types as T
from ...checks.kubernetes import PCI_HARDENING, SOC2_CHANGE
from ...checks.pod_security import CATEGORY, each_container, spec_of
from ...framework import HIGH, MANDATORY, Reporter, Resource, resource_control


def image_problem(image: str) -> str | None:
    if "@sha256:" in image:
        return None
    last = image.rsplit("/", 1)[-1]
    if ":" not in last:
        return "has no tag (defaults to latest)"
    tag = last.rsplit(":", 1)[1]
    if tag.lower() == "latest":
        return "uses the latest tag"
    return None


@resource_control(
    name="kubernetes-workload-pin-image-version",
    description="Container images must be pinned to a version tag or a digest (never latest).",
    resource_types=T.K8S_PODS,
    category=CATEGORY,
    severity=HIGH,
    enforcement=MANDATORY,
    frameworks=(SOC2_CHANGE, PCI_HARDENING),
    remediation="Reference the image by release tag (e.g. `orders:1.4.2`) or by digest.",
)
def pinned_image(r: Resource, rep: Reporter, _cfg: Mapping[str, Any]) -> None:
    spec = spec_of(r, rep)
    if spec is None:
        return
    for name, container, _context in each_container(spec, rep):
        image = P.get(container, "image")
        if P.is_unknown(image):
            continue  # an image built in the same update: pinned by construction
        problem = image_problem(image) if isinstance(image, str) else "has no image"
        if problem:
            rep.violation(f"Container '{name}' image {image} {problem}.")
