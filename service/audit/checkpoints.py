"""Where signed checkpoints are published: never in the database they vouch for.

- Locally: a directory, written append-only (a new file per checkpoint, created with an
  exclusive link, read-only mode). Database credentials give no access to it.
- On AWS: an S3 bucket with Object Lock in COMPLIANCE mode (no one, root included, can
  delete or overwrite a version before its retention ends), versioning and a CMK; writes
  use `If-None-Match: *` so an object is never replaced.

Publishing is idempotent: a checkpoint's object name is its tree size and issue time, and
its bytes are deterministic (Ed25519), so a retry writes the same object or finds it there.
The same name with other bytes is a conflict: a fork, reported, never overwritten.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from service.audit.notes import FileSigner, KmsSigner, NoteError, Signer, Verifier

DEFAULT_ORIGIN = "orders.local/audit-log"
S3_PREFIX = "checkpoints/"


class CheckpointConflict(RuntimeError):
    """The store already holds other bytes under this checkpoint's name."""


class StoreUnavailable(RuntimeError):
    """No checkpoint store is configured or reachable."""


def object_name(tree_size: int, issued_at: datetime) -> str:
    return f"{tree_size:020d}.{issued_at.astimezone(UTC):%Y%m%dT%H%M%S%fZ}.note"


def issued_at_of(name: str) -> datetime:
    stamp = name.split(".")[1]
    return datetime.strptime(stamp, "%Y%m%dT%H%M%S%fZ").replace(tzinfo=UTC)


class CheckpointStore(Protocol):
    def publish(self, name: str, note: bytes) -> bool:
        """Store the note; False when it was already there (same bytes)."""
        ...

    def names(self) -> list[str]: ...

    def read(self, name: str) -> bytes: ...


class LocalCheckpointStore:
    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def publish(self, name: str, note: bytes) -> bool:
        self.directory.mkdir(parents=True, exist_ok=True)
        target = self.directory / name
        fd, temp = tempfile.mkstemp(dir=self.directory, prefix=".incoming-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(note)
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(temp, 0o444)
            try:
                os.link(temp, target)  # fails if the name exists: nothing is ever replaced
            except FileExistsError:
                if target.read_bytes() != note:
                    raise CheckpointConflict(f"{name} already holds another checkpoint") from None
                return False
        finally:
            os.unlink(temp)
        directory_fd = os.open(self.directory, os.O_RDONLY)
        try:
            os.fsync(directory_fd)
        finally:
            os.close(directory_fd)
        return True

    def names(self) -> list[str]:
        if not self.directory.is_dir():
            raise StoreUnavailable(f"checkpoint directory {self.directory} does not exist")
        return sorted(p.name for p in self.directory.glob("*.note"))

    def read(self, name: str) -> bytes:
        return (self.directory / name).read_bytes()


class S3CheckpointStore:
    def __init__(self, client: Any, bucket: str, prefix: str = S3_PREFIX) -> None:
        self._client, self._bucket, self._prefix = client, bucket, prefix

    def publish(self, name: str, note: bytes) -> bool:
        from botocore.exceptions import ClientError

        try:
            # Object Lock buckets require an integrity checksum on PUT.
            self._client.put_object(
                Bucket=self._bucket, Key=self._prefix + name, Body=note, IfNoneMatch="*",
                ChecksumAlgorithm="SHA256", ContentType="text/plain; charset=utf-8",
            )
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "")
            if code not in {"PreconditionFailed", "ConditionalRequestConflict"}:
                raise
            if self.read(name) != note:
                raise CheckpointConflict(f"{name} already holds another checkpoint") from None
            return False
        return True

    def names(self) -> list[str]:
        paginator = self._client.get_paginator("list_objects_v2")
        names: list[str] = []
        for page in paginator.paginate(Bucket=self._bucket, Prefix=self._prefix):
            names.extend(
                item["Key"][len(self._prefix):] for item in page.get("Contents", [])
                if item["Key"].endswith(".note")
            )
        return sorted(names)

    def read(self, name: str) -> bytes:
        body = self._client.get_object(Bucket=self._bucket, Key=self._prefix + name)["Body"]
        return bytes(body.read())


@dataclass(frozen=True)
class AuditConfig:
    """What the integrator, `audit verify` and the proof endpoints read from the environment."""

    origin: str = DEFAULT_ORIGIN
    signing_key_file: Path | None = None
    public_key_file: Path | None = None
    checkpoint_dir: Path | None = None
    checkpoint_bucket: str | None = None
    kms_key_id: str | None = None
    region: str | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> AuditConfig:
        env = os.environ if env is None else env

        def path(name: str) -> Path | None:
            return Path(env[name]) if env.get(name) else None

        return cls(
            origin=env.get("ORDERS_AUDIT_LOG_ORIGIN") or DEFAULT_ORIGIN,
            signing_key_file=path("ORDERS_AUDIT_SIGNING_KEY_FILE"),
            public_key_file=path("ORDERS_AUDIT_PUBLIC_KEY_FILE"),
            checkpoint_dir=path("ORDERS_CHECKPOINT_DIR"),
            checkpoint_bucket=env.get("ORDERS_CHECKPOINT_BUCKET") or None,
            kms_key_id=env.get("ORDERS_AUDIT_KMS_KEY_ID") or None,
            region=env.get("ORDERS_AWS_REGION") or None,
        )

    def signer(self) -> Signer:
        if self.kms_key_id:
            import boto3

            return KmsSigner(self.origin, boto3.client("kms", region_name=self.region),
                             self.kms_key_id)
        if self.signing_key_file:
            return FileSigner(self.origin, self.signing_key_file)
        raise StoreUnavailable(
            "no signing key: set ORDERS_AUDIT_SIGNING_KEY_FILE or ORDERS_AUDIT_KMS_KEY_ID"
        )

    def store(self) -> CheckpointStore:
        if self.checkpoint_bucket:
            import boto3

            return S3CheckpointStore(boto3.client("s3", region_name=self.region),
                                     self.checkpoint_bucket)
        if self.checkpoint_dir:
            return LocalCheckpointStore(self.checkpoint_dir)
        raise StoreUnavailable(
            "no checkpoint store: set ORDERS_CHECKPOINT_DIR or ORDERS_CHECKPOINT_BUCKET"
        )

    def verifier(self) -> Verifier:
        """The public key checkpoints must be signed with; never read from the database."""
        try:
            if self.public_key_file:
                return Verifier.from_pem(self.origin, self.public_key_file.read_bytes())
            if self.kms_key_id:
                return Verifier(self.origin, self.signer().public_key())
        except (OSError, NoteError) as error:
            raise StoreUnavailable(f"cannot load the checkpoint public key: {error}") from None
        raise StoreUnavailable(
            "no public key: set ORDERS_AUDIT_PUBLIC_KEY_FILE (or ORDERS_AUDIT_KMS_KEY_ID)"
        )


def generate_key_files(private_path: Path, public_path: Path) -> None:
    """A new Ed25519 key pair: private PEM PKCS#8 (0600), public PEM SubjectPublicKeyInfo."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    key = Ed25519PrivateKey.generate()
    private_path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ))
    public_path.write_bytes(key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo,
    ))
