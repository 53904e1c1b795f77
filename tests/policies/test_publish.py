"""The pack as `pulumi policy publish` ships it: its own requirements, any directory name."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import grpc
import pytest
import yaml
from google.protobuf import empty_pb2
from pulumi.runtime.proto import analyzer_pb2_grpc

from policies import all_policies

ROOT = Path(__file__).resolve().parents[2]
PACK = ROOT / "policies"


@pytest.fixture
def renamed_pack(tmp_path: Path) -> Path:
    """The pack directory copied under another name, as a published pack is unpacked."""
    target = tmp_path / "orders-controls-pack"
    shutil.copytree(PACK, target, ignore=shutil.ignore_patterns("__pycache__", "venv"))
    return target


def test_requirements_pin_the_sdk_that_has_severity_and_frameworks() -> None:
    lines = (PACK / "requirements.txt").read_text(encoding="utf-8").splitlines()
    reqs = [line for line in lines if line and not line.startswith("#")]
    assert "pulumi-policy>=1.18.0,<2" in reqs
    import jsonschema  # noqa: F401 - the pack's other import, also listed

    assert any(r.startswith("jsonschema") for r in reqs)
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert '"pulumi-policy>=1.18,<2"' in pyproject


def test_pulumipolicy_yaml_uses_a_venv_inside_the_pack() -> None:
    meta = yaml.safe_load((PACK / "PulumiPolicy.yaml").read_text(encoding="utf-8"))
    assert meta["runtime"]["name"] == "python"
    assert meta["runtime"]["options"]["virtualenv"] == "venv"  # not ../.venv: publishable
    assert re.fullmatch(r"\d+\.\d+\.\d+", str(meta["version"]))


def test_no_module_imports_the_pack_by_the_name_policies() -> None:
    offenders = [
        str(path.relative_to(PACK))
        for path in PACK.rglob("*.py")
        if re.search(r"^\s*(from|import) policies\b", path.read_text(encoding="utf-8"), re.M)
    ]
    assert offenders == []


def test_renamed_pack_runs_its_cli(renamed_pack: Path, tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(renamed_pack / "__main__.py"), "catalogue"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "`pulumi-resource-type-allow-list`" in done.stdout


def test_renamed_pack_serves_every_policy_to_the_engine(renamed_pack: Path, tmp_path: Path) -> None:
    """Start the pack as the CLI does and ask it, over gRPC, what it analyses."""
    process = subprocess.Popen(
        [sys.executable, str(renamed_pack / "__main__.py")],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        port = int(process.stdout.readline().strip())
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = analyzer_pb2_grpc.AnalyzerStub(channel)
            info = stub.GetAnalyzerInfo(empty_pb2.Empty(), timeout=30)
    finally:
        process.terminate()
        process.wait(timeout=30)
    assert info.name == "investment-orders-controls"
    served = {policy.name for policy in info.policies}
    assert served == {policy.name for policy in all_policies()}
    imds = next(p for p in info.policies if p.name == "aws-ec2-instance-require-imdsv2")
    assert imds.severity and imds.framework.name and imds.remediation_steps


def test_preview_event_fixture_uses_the_real_project_name() -> None:
    project = yaml.safe_load((ROOT / "Pulumi.yaml").read_text(encoding="utf-8"))["name"]
    data = ROOT / "tests" / "policies" / "data"
    for name in ("preview-events.jsonl", "stack-export.json"):
        urns = re.findall(r"urn:pulumi:[^:]+::([^:]+)::", (data / name).read_text(encoding="utf-8"))
        assert urns and set(urns) == {project}, name
