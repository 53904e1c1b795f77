"""Proofs over HTTP, `audit prove` bundles and the standalone auditor verifier."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from service.app import create_app
from service.audit import merkle
from service.audit.checkpoints import AuditConfig
from service.audit.notes import Verifier, open_checkpoint
from service.config import Settings
from service.observability import Metrics
from tests.service.audit_support import ROOT, integrate, make_audit_config, placed, run_cli
from tests.service.conftest import Database, auth_headers, new_key, order_body


@pytest.fixture
def audit_config(tmp_path: Path) -> AuditConfig:
    return make_audit_config(tmp_path / "audit")


@pytest.fixture
async def audit_client(settings: Settings) -> AsyncIterator[AsyncTestClient[Any]]:
    async with AsyncTestClient(app=create_app(settings, Metrics())) as test_client:
        yield test_client


def verifier(config: AuditConfig) -> Verifier:
    assert config.public_key_file is not None
    return Verifier.from_pem(config.origin, config.public_key_file.read_bytes())


async def place(client: AsyncTestClient[Any], count: int) -> list[str]:
    ids = [placed(await client.post("/v1/orders", json=order_body(),
                                    headers=auth_headers("ACC-1", key=new_key())))
           for _ in range(count)]
    await client.post(f"/v1/orders/{ids[0]}/cancel", headers=auth_headers("ACC-1"))
    return ids


async def latest(client: AsyncTestClient[Any], config: AuditConfig) -> tuple[int, bytes]:
    response = await client.get("/v1/audit/checkpoints/latest", headers=auth_headers("ACC-1"))
    assert response.status_code == 200, response.text
    checkpoint = open_checkpoint(response.text, verifier(config), config.origin)
    return checkpoint.tree_size, checkpoint.root_hash


async def test_events_carry_leaf_indices_and_inclusion_proofs(
    audit_client: AsyncTestClient[Any], database: Database, audit_config: AuditConfig
) -> None:
    ids = await place(audit_client, 5)
    before = (await audit_client.get(f"/v1/orders/{ids[0]}/events",
                                     headers=auth_headers("ACC-1"))).json()
    assert [e["leaf_index"] for e in before["events"]] == [None, None]  # not yet integrated
    assert before["checkpoint"] is None
    await integrate(database, audit_config)
    size, root = await latest(audit_client, audit_config)
    assert size == 6
    for order_id in ids:
        trail = (await audit_client.get(f"/v1/orders/{order_id}/events",
                                        headers=auth_headers("ACC-1"))).json()
        assert trail["checkpoint"]["tree_size"] == size
        for event in trail["events"]:
            leaf = base64.b64decode(event["leaf_hash"])
            proof = [base64.b64decode(p) for p in event["inclusion_proof"]]
            merkle.verify_inclusion(event["leaf_index"], size, leaf, proof, root)
    # Another account sees nothing, not even the proofs.
    other = await audit_client.get(f"/v1/orders/{ids[0]}/events", headers=auth_headers("ACC-2"))
    assert other.status_code == 404


async def test_consistency_proofs_link_published_checkpoints(
    audit_client: AsyncTestClient[Any], database: Database, audit_config: AuditConfig
) -> None:
    await place(audit_client, 3)
    await integrate(database, audit_config)
    first, first_root = await latest(audit_client, audit_config)
    await place(audit_client, 4)
    await integrate(database, audit_config)
    second, second_root = await latest(audit_client, audit_config)
    assert (first, second) == (4, 9)
    response = await audit_client.get(
        f"/v1/audit/consistency?first={first}&second={second}", headers=auth_headers("ACC-1"))
    assert response.status_code == 200, response.text
    proof = [base64.b64decode(p) for p in response.json()["proof"]]
    merkle.verify_consistency(first, second, first_root, second_root, proof)
    with pytest.raises(merkle.ProofError):
        merkle.verify_consistency(first, second, first_root, second_root, proof[:-1])
    for query, status in (("first=5&second=4", 422), ("first=1&second=99", 404),
                          ("first=0&second=4", 400)):
        bad = await audit_client.get(f"/v1/audit/consistency?{query}",
                                     headers=auth_headers("ACC-1"))
        assert bad.status_code == status, (query, bad.text)
    assert (await audit_client.get("/v1/audit/checkpoints/latest")).status_code == 401


async def test_bundle_verifies_standalone_and_tampering_fails(
    audit_client: AsyncTestClient[Any], database: Database, audit_config: AuditConfig,
    tmp_path: Path,
) -> None:
    ids = await place(audit_client, 3)
    await integrate(database, audit_config)
    result = run_cli(database, audit_config, "audit", "prove", ids[0])
    assert result.returncode == 0, result.stderr
    bundle = json.loads(result.stdout)
    assert len(bundle["events"]) == 2  # created, cancelled
    bundle_path = tmp_path / "bundle.json"
    bundle_path.write_text(result.stdout)
    store = audit_config.store()
    checkpoint_path = tmp_path / "checkpoint.note"
    checkpoint_path.write_bytes(store.read(store.names()[-1]))  # fetched from the store

    def standalone(bundle_file: Path, key: Path | None = None) -> subprocess.CompletedProcess[str]:
        # -I: no PYTHONPATH, no current directory on sys.path: the service is not importable.
        return subprocess.run(
            [sys.executable, "-I", str(ROOT / "auditor" / "verify_bundle.py"), str(bundle_file),
             "--public-key", str(key or audit_config.public_key_file),
             "--checkpoint", str(checkpoint_path), "--origin", audit_config.origin],
            capture_output=True, text=True, cwd=tmp_path, check=False, timeout=60,
        )

    ok = standalone(bundle_path)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert f"verified: 2 events of order {ids[0]}" in ok.stdout

    event = json.loads(base64.b64decode(bundle["events"][1]["leaf_data"]))
    event["actor"] = "mallory"
    bundle["events"][1]["leaf_data"] = base64.b64encode(
        json.dumps(event, sort_keys=True, separators=(",", ":")).encode()).decode()
    forged = tmp_path / "forged.json"
    forged.write_text(json.dumps(bundle))
    bad = standalone(forged)
    assert bad.returncode == 1 and "is not in the tree" in bad.stdout, bad.stdout

    other = make_audit_config(tmp_path / "other")
    wrong_key = standalone(bundle_path, other.public_key_file)
    assert wrong_key.returncode == 1 and "no signature" in wrong_key.stdout, wrong_key.stdout
