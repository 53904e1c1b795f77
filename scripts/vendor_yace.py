"""Record the upstream material the CloudWatch exporter's tests check against.

    python scripts/vendor_yace.py HELM_CHARTS_GIT CHART_TAG YACE_GIT YACE_TAG

HELM_CHARTS_GIT is a clone of prometheus-community/helm-charts, CHART_TAG its tag for the
pinned chart (prometheus-yet-another-cloudwatch-exporter-X.Y.Z); YACE_GIT a clone of
prometheus-community/yet-another-cloudwatch-exporter, YACE_TAG the chart's appVersion.
Writes infra/vendor/yet-another-cloudwatch-exporter/:
- chart-values.yaml: the chart's values.yaml, unmodified (every key the release may set);
- config-schema.json: per struct of pkg/config/scrapeconf.go, its YAML keys (the config
  file's known keys), and the namespaces pkg/config/services.go supports;
- PROVENANCE.json: sources, tags, commits, sha256 of every source file.
"""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
from pathlib import Path

DEST = Path(__file__).resolve().parents[1] / "infra" / "vendor" / "yet-another-cloudwatch-exporter"
CHART_DIR = "charts/prometheus-yet-another-cloudwatch-exporter"
STRUCT_RE = re.compile(r"^type (\w+) struct \{\n(.*?)^\}", re.M | re.S)
FIELD_RE = re.compile(r'^\s+(\w+)\s+[^`\n]*`yaml:"([^"]*)"`', re.M)


def show(repo: str, tag: str, path: str) -> str:
    return subprocess.run(
        ["git", "-C", repo, "show", f"{tag}:{path}"],
        capture_output=True, text=True, check=True,
    ).stdout


def commit(repo: str, tag: str) -> str:
    return subprocess.run(
        ["git", "-C", repo, "rev-parse", f"{tag}^{{commit}}"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def struct_keys(go_source: str) -> dict[str, dict[str, str]]:
    """{struct: {yaml key: Go field}}; an inlined struct is listed under ",inline"."""
    structs: dict[str, dict[str, str]] = {}
    for name, body in STRUCT_RE.findall(go_source):
        fields = {key: field for field, key in FIELD_RE.findall(body)}
        if fields:
            structs[name] = fields
    return structs


def main(charts_repo: str, chart_tag: str, yace_repo: str, yace_tag: str) -> None:
    DEST.mkdir(parents=True, exist_ok=True)
    values = show(charts_repo, chart_tag, f"{CHART_DIR}/values.yaml")
    chart_yaml = show(charts_repo, chart_tag, f"{CHART_DIR}/Chart.yaml")
    scrapeconf = show(yace_repo, yace_tag, "pkg/config/scrapeconf.go")
    services = show(yace_repo, yace_tag, "pkg/config/services.go")
    (DEST / "chart-values.yaml").write_text(values)
    schema = {
        "structs": struct_keys(scrapeconf),
        "namespaces": sorted(set(re.findall(r'Namespace:\s+"([^"]+)"', services))),
    }
    (DEST / "config-schema.json").write_text(json.dumps(schema, indent=1, sort_keys=True) + "\n")
    chart_version = re.search(r"^version: (\S+)", chart_yaml, re.M)
    app_version = re.search(r'^appVersion: "?([^"\n]+)', chart_yaml, re.M)
    provenance = {
        "generated_by": "scripts/vendor_yace.py",
        "chart": {
            "repository": "prometheus-community/helm-charts",
            "tag": chart_tag,
            "commit": commit(charts_repo, chart_tag),
            "chart_version": chart_version[1] if chart_version else "",
            "app_version": app_version[1] if app_version else "",
            "values_source": f"{CHART_DIR}/values.yaml",
            "values_sha256": sha256(values),
        },
        "exporter": {
            "repository": "prometheus-community/yet-another-cloudwatch-exporter",
            "tag": yace_tag,
            "commit": commit(yace_repo, yace_tag),
            "sources": {
                "pkg/config/scrapeconf.go": sha256(scrapeconf),
                "pkg/config/services.go": sha256(services),
            },
        },
    }
    (DEST / "PROVENANCE.json").write_text(json.dumps(provenance, indent=1) + "\n")
    print(json.dumps(provenance, indent=1))


if __name__ == "__main__":
    if len(sys.argv) != 5:
        sys.exit(__doc__)
    main(*sys.argv[1:])
