#!/usr/bin/env bash
# Refresh the vendored AWS Load Balancer Controller IAM policy for a controller tag.
#   scripts/vendor_lbc_policy.sh v3.5.0 [path/to/aws-load-balancer-controller.git]
# Writes infra/vendor/aws-load-balancer-controller/iam_policy.json unmodified and prints
# its sha256 for PROVENANCE.json (tests/infra/test_lbc_policy.py checks both).
set -euo pipefail
tag="$1"
repo="${2:-}"
dest="$(dirname "$0")/../infra/vendor/aws-load-balancer-controller/iam_policy.json"
if [[ -n "$repo" ]]; then
  git -C "$repo" show "$tag:docs/install/iam_policy.json" > "$dest"
else
  curl -fsSL "https://raw.githubusercontent.com/kubernetes-sigs/aws-load-balancer-controller/$tag/docs/install/iam_policy.json" -o "$dest"
fi
sha256sum "$dest"
