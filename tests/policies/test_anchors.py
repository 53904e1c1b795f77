"""Coverage against the published anchors, from the checked-in catalogues."""

from __future__ import annotations

from pathlib import Path

import pytest

from policies.anchors import CATALOGUES, check, coverage, load, markdown_table
from policies.cli import main

ROOT = Path(__file__).resolve().parents[2]


def test_catalogues_and_pack_agree() -> None:
    assert check() == []


def test_catalogues_hold_the_published_sets() -> None:
    sizes = {name: len(load(name)["entries"]) for name in CATALOGUES}
    assert sizes["cis-aws"] == 62  # CIS AWS Foundations 3.0.0 recommendations
    assert sizes["cis-eks"] == 46  # CIS EKS 1.5.0 (kube-bench eks-1.5.0)
    assert sizes["fsbp"] >= 205  # FSBP controls in the archived documentation, and later ones
    assert sizes["compliance-policies"] >= 100
    ids = {e["id"] for e in load("fsbp")["entries"]}
    assert {"RDS.3", "S3.5", "EC2.8", "IAM.1", "EKS.8"} <= ids


def test_every_gap_and_exclusion_says_why() -> None:
    for name in CATALOGUES:
        for entry in load(name)["entries"]:
            if entry["status"] != "covered":
                assert len(entry["reason"]) > 20, (name, entry["id"])


def test_coverage_is_reported_per_anchor(capsys: pytest.CaptureFixture[str]) -> None:
    rows = {row.framework: row for row in coverage()}
    assert all(row.applicable > row.covered * 0 for row in rows.values())
    assert all(row.ratio >= 0.7 for row in rows.values()), rows
    assert main(["anchors"]) == 0
    assert capsys.readouterr().out == markdown_table()


def test_readme_shows_the_current_coverage() -> None:
    readme = (ROOT / "policies" / "README.md").read_text(encoding="utf-8")
    assert markdown_table() in readme, "regenerate with: python -m policies anchors"
