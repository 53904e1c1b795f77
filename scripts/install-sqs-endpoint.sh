#!/usr/bin/env bash
# Installs the local SQS endpoint (LocalStack's SQS provider, run without Docker) into its own
# virtual environment, .venv-sqs, with every package pinned. LocalStack needs Python >= 3.13;
# the project itself runs on 3.11, hence the separate venv.
#
# Idempotent: a stamp keyed on the interpreter and the pinned set makes a second run a no-op.
# Python is taken from $SQS_ENDPOINT_PYTHON, else python3.13+ on PATH, else pyenv's versions.
# Network: PyPI only. Usage: bash scripts/install-sqs-endpoint.sh [--force]
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${SQS_ENDPOINT_VENV:-$ROOT/.venv-sqs}"
STAMP="$VENV/.installed"
MIN_MINOR=13  # localstack-core 2026.3.0 imports warnings.deprecated (Python 3.13)

die() { echo "install-sqs-endpoint: ERROR: $*" >&2; exit 1; }
say() { echo "install-sqs-endpoint: $*" >&2; }

# Every package pinned (pip freeze of a working install). localstack-core's own ranges let
# newer releases in that break it (cbor2 >= 5.8, pyOpenSSL > 24.3, cryptography >= 45).
read -r -d '' LOCK <<'PINS' || true
localstack-core[runtime]==2026.3.0
airspeed_ext==0.6.9
annotated-types==0.8.0
antlr4-python3-runtime==4.13.2
apispec==6.10.1
asn1crypto==1.5.1
attrs==26.1.0
aws-sam-translator==1.115.0
aws-xray-sdk==2.15.0
awscli==1.44.62
awscrt==0.38.1
boto3==1.42.72
botocore==1.42.72
cachetools==8.0.2
cbor2==5.7.1
certifi==2026.10.19.post1
cffi==2.1.1
cfn-lint==1.58.0
charset-normalizer==3.5.2
click==8.5.1
colorama==0.4.6
constantly==23.10.4
crontab==1.0.5
cryptography==44.0.3
decorator==5.3.1
dill==0.3.6
dnslib==0.9.26
dnspython==2.9.2
docker==7.2.0
docutils==0.19
Events==0.5
graphql-core==3.3.2
grpcio==1.85.3
h11==0.16.0
h2==4.4.1
hpack==4.2.0
Hypercorn==0.18.0
hyperframe==6.1.0
hyperlink==21.0.0
idna==3.20
Incremental==24.11.0
isodate==0.7.2
Jinja2==3.1.6
jmespath==1.1.0
joserfc==1.5.0
jpype1==1.7.1
jsonpatch==1.48
jsonpath-ng==1.7.0
jsonpath-rw==1.4.0
jsonpointer==3.12
jsonschema==4.26.0
jsonschema-path==0.4.6
jsonschema-specifications==2025.9.1
kclpy-ext==3.1.3.post4
lazy-object-proxy==1.13.0
localstack-twisted==26.4.0
markdown-it-py==4.3.0
MarkupSafe==3.0.4
mdurl==0.1.2
more-itertools==11.2.1
moto-ext==5.1.54
mpmath==1.3.0
multipart==2.0.1
networkx==3.7
openapi-core==0.23.1
openapi-schema-validator==0.8.1
openapi-spec-validator==0.8.5
opensearch-protobufs==1.2.0
opensearch-py==3.2.0
packaging==26.3
pathable==0.5.0
plux==1.16.0
ply==3.11
priority==1.3.0
protobuf==7.36.2
psutil==7.2.2
py-partiql-parser==0.6.3
pyasn1==0.6.5
pyasn1_modules==0.4.2
pycparser==3.12
pydantic==2.13.5
pydantic-settings==2.16.3
pydantic_core==2.46.5
Pygments==2.21.0
pymongo==4.20.1
pyOpenSSL==24.3.0
pyparsing==3.3.3
python-dateutil==2.9.0.post0
python-dotenv==1.2.4
PyYAML==6.0.4
readerwriterlock==1.0.10
referencing==0.37.0
regex==2026.11.19
requests==2.34.2
requests-aws4auth==1.4.0
responses==0.26.3
rfc3339-validator==0.1.4
rich==15.0.0
rolo==0.8.9
rpds-py==2026.9.1
rsa==4.7.2
s3transfer==0.16.1
semver==3.1.2
service-identity==24.2.0
six==1.17.0
sympy==1.14.0
typing-inspection==0.4.5
typing_extensions==4.16.0
urllib3==2.8.0
Werkzeug==3.1.9
wrapt==2.5.2
wsproto==1.3.2
xmltodict==1.0.4
zope.interface==8.7
PINS

force=0
case "${1:-}" in
  "") ;;
  --force) force=1 ;;
  *) die "unknown argument '$1' (usage: $0 [--force])" ;;
esac

python_ok() {  # usable interpreter of version >= 3.MIN_MINOR with venv support
  "$1" -c "import sys, venv, ensurepip; sys.exit(0 if sys.version_info >= (3, $MIN_MINOR) else 1)" \
    >/dev/null 2>&1
}

find_python() {
  local cand
  if [ -n "${SQS_ENDPOINT_PYTHON:-}" ]; then
    python_ok "$SQS_ENDPOINT_PYTHON" || die "SQS_ENDPOINT_PYTHON=$SQS_ENDPOINT_PYTHON is not a \
Python >= 3.$MIN_MINOR with the venv and ensurepip modules"
    echo "$SQS_ENDPOINT_PYTHON"; return
  fi
  local pyenv_root="${PYENV_ROOT:-$HOME/.pyenv}"
  # Concrete interpreters first (pyenv shims for versions not selected fail), newest first.
  for cand in $(ls -d "$pyenv_root"/versions/3.*/bin/python3 /usr/bin/python3.* \
                  /usr/local/bin/python3.* 2>/dev/null | grep -E '(/3\.[0-9]+\.[0-9]+/bin/python3|python3\.[0-9]+)$' \
                  | sort -rV) python3.14 python3.13; do
    if python_ok "$cand"; then
      command -v "$cand" 2>/dev/null || echo "$cand"; return
    fi
  done
  die "no Python >= 3.$MIN_MINOR found (LocalStack needs it; the project's 3.11 is too old).
  Install one, e.g. 'pyenv install 3.13' (on Debian 13: apt-get install python3.13-venv),
  or point SQS_ENDPOINT_PYTHON at one, then run: make sqs-endpoint"
}

# One installer at a time (make -j, parallel test runs): lock on this script itself.
exec 9<"${BASH_SOURCE[0]}"
flock 9

PY="$(find_python)"
PY_VERSION="$("$PY" -c 'import sys; print("%d.%d.%d" % sys.version_info[:3])')"
KEY="$( { echo "$PY_VERSION"; echo "$LOCK"; } | sha256sum | cut -d' ' -f1)"

if [ "$force" -eq 0 ] && [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$KEY" ] \
   && [ -x "$VENV/bin/python" ]; then
  exit 0  # already installed with exactly these pins
fi

say "installing LocalStack SQS endpoint into $VENV (Python $PY_VERSION from $PY)"
started=$(date +%s)
rm -rf "$VENV"
"$PY" -m venv "$VENV" || die "could not create $VENV with $PY"
lockfile="$(mktemp)"
trap 'rm -f "$lockfile"' EXIT
printf '%s\n' "$LOCK" >"$lockfile"
# (The grep drops pip's warnings about this machine's optional local index mirrors.)
set +o pipefail
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-input \
  --prefer-binary -r "$lockfile" 2>&1 | { grep -v 'is ignored: it is neither a file nor a dir' >&2 || true; }
pip_rc=${PIPESTATUS[0]}
set -o pipefail
if [ "$pip_rc" -ne 0 ]; then
  die "pip could not install the pinned packages into $VENV (network to PyPI? see pip's output
  above); re-run: make sqs-endpoint"
fi
if ! "$VENV/bin/python" -c "import localstack.runtime.main, localstack.services.sqs.provider, \
localstack.runtime.components, localstack.runtime.server.core, rolo.response, \
werkzeug.wrappers" 2>"$VENV/import-check.log"; then
  die "LocalStack installed but does not import; see $VENV/import-check.log"
fi
# LocalStack indexes every AWS service spec at start-up unless it finds this prebuilt index
# (its Docker image ships one): without it each start takes ~5 s more and 350 MB more RSS.
# localenv/sqs.py copies it into each endpoint's file-system root.
catalog_root="$VENV/ls-root"
mkdir -p "$catalog_root/usr/lib/localstack"
if ! env -i PATH="$PATH" HOME="$catalog_root" OVERRIDE_IN_DOCKER=0 FILESYSTEM_ROOT="$catalog_root" \
     "$VENV/bin/python" -I -m localstack.aws.spec >"$VENV/catalog-build.log" 2>&1 \
   || ! ls "$catalog_root"/usr/lib/localstack/service-catalog-*.dill >/dev/null 2>&1; then
  die "could not build LocalStack's service catalog index; see $VENV/catalog-build.log"
fi
echo "$KEY" >"$STAMP"
say "done in $(( $(date +%s) - started ))s, $(du -sh "$VENV" | cut -f1)"
