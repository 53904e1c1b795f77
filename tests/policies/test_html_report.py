"""The HTML report renders in a real browser (headless Chromium, Debian's `chromium`)."""

from __future__ import annotations

import shutil
import struct
import subprocess
import tempfile
import zlib
from pathlib import Path

import pytest

from policies import all_policies
from policies.cli import main

from .fixtures import baseline_plan, mutated
from .test_evidence import _write

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)


def _chromium(*args: str) -> subprocess.CompletedProcess[str]:
    assert CHROMIUM, "chromium is not installed (scripts/install-system-deps.sh installs it)"
    with tempfile.TemporaryDirectory() as profile:
        return subprocess.run(
            [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *args],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )


def _png_rows(path: Path) -> tuple[int, int, bytes]:
    """(width, height, raw scanlines) of a non-interlaced 8-bit PNG, decoded with zlib."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    chunks, offset = [], 8
    while offset < len(data):
        length = struct.unpack(">I", data[offset : offset + 4])[0]
        kind = data[offset + 4 : offset + 8]
        if kind == b"IDAT":
            chunks.append(data[offset + 8 : offset + 8 + length])
        offset += 12 + length
    return width, height, zlib.decompress(b"".join(chunks))


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("html")
    plan = _write(tmp, "plan.json", mutated("orders-primary-0", ("publiclyAccessible",), True))
    out = tmp / "report.html"
    assert main(["evaluate", "--plan", str(plan), "--format", "html", "--out", str(out)]) == 1
    return out


def test_html_dom_has_the_controls_table_and_verdict(report: Path) -> None:
    done = _chromium("--dump-dom", report.as_uri())
    assert done.returncode == 0, done.stderr[-2000:]
    dom = done.stdout
    assert '<table id="controls">' in dom and 'id="verdict">FAIL<' in dom
    for policy in all_policies():
        assert f"<code>{policy.name}</code>" in dom
    assert "aws-rds-instance-disallow-public-access" in dom and "Provenance" in dom


def test_html_screenshot_is_not_blank(report: Path, tmp_path: Path) -> None:
    shot = tmp_path / "report.png"
    done = _chromium("--window-size=1280,1600", f"--screenshot={shot}", report.as_uri())
    assert done.returncode == 0 and shot.exists(), done.stderr[-2000:]
    width, height, raw = _png_rows(shot)
    assert (width, height) == (1280, 1600)
    # A blank page compresses to (nearly) one repeated byte; text and tables do not.
    distinct = len(set(raw[: width * 4 * 400]))
    assert distinct > 20, distinct


def test_html_escapes_what_it_shows(tmp_path: Path) -> None:
    plan = baseline_plan()
    plan.append(
        {"type": "<script>alert(1)</script>", "name": "x", "region": "eu-central-1", "inputs": {}}
    )
    out = tmp_path / "r.html"
    main(
        [
            "evaluate",
            "--plan",
            str(_write(tmp_path, "p.json", plan)),
            "--format",
            "html",
            "--out",
            str(out),
        ]
    )
    text = out.read_text(encoding="utf-8")
    assert "<script>" not in text and "&lt;script&gt;" in text
