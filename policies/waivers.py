"""The waiver register: the only way to exempt a resource from a control.

A waiver names one control and one resource (URN or logical name), who owns the risk,
why it is accepted, who approved it (not the owner) and when it expires. While it is
valid, a matching violation is recorded as *exempted* (listed by URN in the report, never
counted as a pass); once it has expired the violation counts again, and the expired entry
itself fails the evaluation until it is renewed or removed.

The register ships inside the pack (``waivers.json``), so the same waivers apply under
``pulumi preview`` and offline; ``python -m policies evaluate --waivers FILE`` reads another.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from contextvars import ContextVar
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

REGISTER = Path(__file__).resolve().parent / "waivers.json"
REQUIRED = ("id", "policy", "resource", "owner", "justification", "approver", "expires")
MAX_VALIDITY_DAYS = 366


class WaiverError(ValueError):
    """The register is unreadable or an entry is incomplete (exit code 2)."""


@dataclass(frozen=True)
class Waiver:
    id: str
    policy: str
    resource: str  # URN or logical name
    owner: str
    justification: str
    approver: str
    expires: dt.date
    created: dt.date | None = None

    def matches(self, policy: str, urn: str | None, name: str | None) -> bool:
        return policy == self.policy and self.resource in {urn, name}

    def expired(self, today: dt.date) -> bool:
        return today > self.expires

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["expires"] = self.expires.isoformat()
        data["created"] = self.created.isoformat() if self.created else None
        return data


@dataclass(frozen=True)
class Exemption:
    """A violation a valid waiver exempted."""

    policy: str
    urn: str
    resource_name: str
    message: str
    waiver: str


def _date(entry: dict[str, Any], key: str, where: str) -> dt.date:
    try:
        return dt.date.fromisoformat(str(entry[key]))
    except ValueError as exc:
        raise WaiverError(f"{where}: {key} is not an ISO date ({entry[key]!r})") from exc


def parse(data: Any, origin: str = "waivers") -> list[Waiver]:
    entries = data.get("waivers") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise WaiverError(f"{origin}: expected an object with a 'waivers' array")
    waivers: list[Waiver] = []
    for index, entry in enumerate(entries):
        where = f"{origin}: waiver {index}"
        if not isinstance(entry, dict):
            raise WaiverError(f"{where} is not an object")
        missing = [k for k in REQUIRED if not str(entry.get(k) or "").strip()]
        if missing:
            raise WaiverError(f"{where} lacks {', '.join(missing)}")
        if entry["owner"].strip().lower() == entry["approver"].strip().lower():
            raise WaiverError(f"{where} ({entry['id']}): the approver must not be the owner")
        expires = _date(entry, "expires", where)
        created = _date(entry, "created", where) if entry.get("created") else None
        if created and (expires - created).days > MAX_VALIDITY_DAYS:
            raise WaiverError(f"{where} ({entry['id']}): valid for more than a year")
        waivers.append(
            Waiver(
                id=str(entry["id"]),
                policy=str(entry["policy"]),
                resource=str(entry["resource"]),
                owner=str(entry["owner"]),
                justification=str(entry["justification"]),
                approver=str(entry["approver"]),
                expires=expires,
                created=created,
            )
        )
    ids = [w.id for w in waivers]
    if len(set(ids)) != len(ids):
        raise WaiverError(f"{origin}: duplicate waiver ids")
    return waivers


def load(path: Path = REGISTER) -> list[Waiver]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise WaiverError(f"cannot read waiver register {path}: {exc}") from exc
    return parse(data, str(path))


# The register in force and the day waivers are judged on; the offline evaluator and the
# tests set them, under the Pulumi CLI the pack's own register and today apply.
ACTIVE: ContextVar[Sequence[Waiver] | None] = ContextVar("policy_waivers", default=None)
TODAY: ContextVar[dt.date | None] = ContextVar("policy_waiver_day", default=None)
EXEMPTION_SINK: ContextVar[list[Exemption] | None] = ContextVar("policy_exemptions", default=None)
_PACK_REGISTER: list[Sequence[Waiver]] = []


def active() -> Sequence[Waiver]:
    given = ACTIVE.get()
    if given is not None:
        return given
    if not _PACK_REGISTER:
        _PACK_REGISTER.append(load() if REGISTER.exists() else [])
    return _PACK_REGISTER[0]


def today() -> dt.date:
    return TODAY.get() or dt.datetime.now(dt.UTC).date()


def find(policy: str, urn: str | None, name: str | None) -> Waiver | None:
    for waiver in active():
        if waiver.matches(policy, urn, name):
            return waiver
    return None
