"""The engine's model as controls see it: one ``Resource`` and the ``Stack`` of them.

Kept apart from ``framework`` (the policy classes) so that neither imports the other's
users: controls and the offline evaluator import the model, the framework imports it too.

Cross-resource references are resolved two ways:

* from the engine's property dependencies (``pulumi preview``/``up``): a cluster's
  ``kmsKeyId`` depends on the URN of the key it came from, even while the key's ARN is
  still unknown;
* by value, for offline inputs (plan files, stack exports) where no dependency graph is
  available: a reference string is matched against the identities each resource is
  known by (its ARN, id and name outputs when present, its ``name`` input, and the
  outputs a plan file records for each resource).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from pulumi_policy import PolicyResource

from . import props as P

_URN_RE = re.compile(r"^urn:pulumi:[^:]*::[^:]*::(?P<type>.*)::(?P<name>[^:]*)$")


def parse_urn(urn: str) -> tuple[str, str]:
    """(type, name) of a URN; the type is the last segment of a parent$child chain."""
    match = _URN_RE.match(urn or "")
    if not match:
        return "", ""
    return match.group("type").split("$")[-1], match.group("name")


@dataclass
class Resource:
    """A resource as a control sees it, whatever the source (engine, plan, export)."""

    type: str
    name: str
    props: Any
    urn: str = ""
    region: str | None = None
    provider: str | None = None  # URN of the resource's provider, when known
    # property name -> resources that property's value came from (engine only)
    property_dependencies: dict[str, list[Resource]] = field(default_factory=dict)
    dependencies: list[Resource] = field(default_factory=list)
    parent: Resource | None = None
    # Offline only: outputs known besides the props (a plan's mock-assigned ARNs and ids).
    outputs: Any = None

    def get(self, *path: str | int, default: Any = None) -> Any:
        return P.get(self.props, *path, default=default)

    def out(self, *path: str | int) -> Any:
        """The property at ``path``, else the output known offline (ARNs, ids).

        The declared property wins: an output recorded when a plan was made must not
        hide a later change of the same property.
        """
        value = self.get(*path)
        if value is not None and not P.is_unknown(value):
            return value
        known = P.get(self.outputs, *path) if self.outputs is not None else None
        return known if known is not None else value

    @property
    def label(self) -> str:
        return f"{self.type} '{self.name}'"


_EKS_ENDPOINT_REGION = re.compile(r"\.([a-z]{2}(?:-[a-z]+)+-\d)\.eks\.amazonaws\.com")


def region_of(props: Any, provider: Any) -> str | None:
    """The region a resource lives in: its own ``region`` input, else its provider's.

    An AWS provider carries ``region``; a Kubernetes provider does not, but the EKS API
    endpoint in its kubeconfig names the region, so workloads are tied to their cluster's
    region by the provider the engine gives them, never by labels they set themselves.
    """
    region = P.get(props, "region")
    if isinstance(region, str) and not P.is_unknown(region):
        return region
    if provider is None:
        return None
    region = P.get(provider.props, "region")
    if isinstance(region, str) and not P.is_unknown(region):
        return region
    kubeconfig = P.get(provider.props, "kubeconfig")
    if isinstance(kubeconfig, str):
        match = _EKS_ENDPOINT_REGION.search(kubeconfig)
        if match:
            return match.group(1)
    return None


_IDENTITY_KEYS = (
    "arn",
    "id",
    "name",
    "keyId",
    "clusterIdentifier",
    "replicationGroupId",
    "bucket",
    "url",
    "urn",
)


class Stack:
    def __init__(self, resources: Sequence[Resource]) -> None:
        self.resources = list(resources)
        self._index: dict[str, list[Resource]] = {}
        for resource in self.resources:
            for identity in identities(resource):
                bucket = self._index.setdefault(identity, [])
                if resource not in bucket:
                    bucket.append(resource)

    @classmethod
    def from_policy_resources(cls, resources: Iterable[PolicyResource]) -> Stack:
        converted: dict[str, Resource] = {}
        originals = list(resources)
        for original in originals:
            region = region_of(original.props, original.provider)
            converted[original.urn] = Resource(
                type=original.resource_type,
                name=original.name,
                props=original.props,
                urn=original.urn,
                region=region,
                provider=original.provider.urn if original.provider is not None else None,
                outputs=getattr(original, "outputs", None),
            )
        for original in originals:
            resource = converted[original.urn]
            if original.parent is not None:
                resource.parent = converted.get(original.parent.urn)
            resource.dependencies = [
                converted[dep.urn] for dep in original.dependencies if dep.urn in converted
            ]
            resource.property_dependencies = {
                key: [converted[dep.urn] for dep in deps if dep.urn in converted]
                for key, deps in original.property_dependencies.items()
            }
        return cls(list(converted.values()))

    def of_type(self, *types: str) -> list[Resource]:
        return [resource for resource in self.resources if resource.type in types]

    def __iter__(self) -> Iterator[Resource]:
        return iter(self.resources)

    def resolve(self, resource: Resource, prop: str, value: Any, *types: str) -> list[Resource]:
        """Resources (of ``types``, if given) that ``resource.<prop> == value`` refers to.

        ``prop`` is the top-level input name (used for engine property dependencies);
        ``value`` the reference itself (an ARN, id or name), possibly unknown.
        """
        found: list[Resource] = []
        for dep in resource.property_dependencies.get(prop, []):
            if not types or dep.type in types:
                found.append(dep)
        if found:
            return found
        if isinstance(value, str) and not P.is_unknown(value):
            for candidate in reference_keys(value):
                for target in self._index.get(candidate, []):
                    wanted = not types or target.type in types
                    if (
                        target is not resource
                        and wanted
                        and target not in found
                        and same_partition_account_region(value, target)
                    ):
                        found.append(target)
                if found:
                    break
        return found


_ARN_TAIL = re.compile(r"[:/]")


def reference_keys(value: str) -> list[str]:
    """Keys to look a reference up by: itself, then the last ARN segment."""
    keys = [value]
    if value.startswith("arn:"):
        tail = _ARN_TAIL.split(value)[-1]
        if tail and tail not in keys:
            keys.append(tail)
    return keys


def arn_scope(arn: str) -> tuple[str, str, str] | None:
    """(partition, region, account) of an ARN, None for anything else."""
    parts = arn.split(":")
    if len(parts) < 6 or parts[0] != "arn":
        return None
    return parts[1], parts[3], parts[4]


def same_partition_account_region(reference: str, target: Resource) -> bool:
    """A reference by ARN only matches a resource whose own ARN has the same account and
    region: a key ARN from another account must not resolve to this stack's key merely
    because the key ids (the ARN's last segment) are equal."""
    wanted = arn_scope(reference)
    if wanted is None:
        return True
    own = target.out("arn")
    if not isinstance(own, str) or P.is_unknown(own):
        return True
    scope = arn_scope(own)
    return scope is None or scope == wanted


def identities(resource: Resource) -> list[str]:
    found: list[str] = []
    for key in _IDENTITY_KEYS:
        value = resource.out(key)
        if isinstance(value, str) and value and not P.is_unknown(value):
            found.append(value)
            found.extend(reference_keys(value)[1:])
    metadata_name = resource.out("metadata", "name")
    if isinstance(metadata_name, str) and not P.is_unknown(metadata_name):
        found.append(metadata_name)
    if resource.urn:
        found.append(resource.urn)
    found.append(resource.name)
    return found
