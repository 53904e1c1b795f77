"""The audit-log integrators (integrator-a, integrator-b; one is elected): off unless the
plan asks for them. `up` creates the Ed25519 signing key pair and the checkpoint directory
under the state dir; the service reads them from ORDERS_AUDIT_* (see service.app_env)."""

from __future__ import annotations

import os
from pathlib import Path

from chaos.stack.drivers.base import PlanContext, register
from chaos.stack.drivers.service import ServiceDriver


def write_signing_key_pair(directory: Path) -> tuple[Path, Path]:
    """Ed25519 private key (PEM PKCS#8, mode 0600) and its public key (PEM
    SubjectPublicKeyInfo)."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import (
        Encoding,
        NoEncryption,
        PrivateFormat,
        PublicFormat,
    )

    key = Ed25519PrivateKey.generate()
    directory.mkdir(parents=True, exist_ok=True)
    private = directory / "signing_key.pem"
    fd = os.open(private, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()))
    public = directory / "public_key.pem"
    public.write_bytes(
        key.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    )
    return private, public


class IntegratorDriver(ServiceDriver):
    kind = "integrator"
    command = "integrator"
    zones = ("a", "b")
    needs_sqs = False
    scrape_job = "orders-integrator"

    def wanted(self, ctx: PlanContext) -> bool:
        return ctx.options.integrator and ctx.options.app

    def plan(self, ctx: PlanContext) -> None:
        if not self.wanted(ctx):
            return
        audit = ctx.state_dir / "audit"
        private, public = write_signing_key_pair(audit)
        checkpoints = audit / "checkpoints"
        checkpoints.mkdir(mode=0o700)
        ctx.endpoints |= {
            "audit_signing_key_path": str(private),
            "audit_public_key_path": str(public),
            "audit_checkpoint_dir": str(checkpoints),
        }
        super().plan(ctx)


register(IntegratorDriver())
