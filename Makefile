# Every target runs inside the project's virtual environment at .venv.
SHELL := /bin/bash
PYTHON_BOOT ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PORT ?= 8000
SCENARIO ?=
REPORTS_DIR ?= reports

.PHONY: venv sysdeps sqs-endpoint lint test test-fast run token runbook-timings plan policy-report drill restore-drill stack-up stack-down stack-status bench clean

venv: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON_BOOT) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[infra,drills,dev]'
	@touch $(STAMP)

sysdeps:
	@bash scripts/install-system-deps.sh

sqs-endpoint: venv
	@bash scripts/install-sqs-endpoint.sh

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

test: sysdeps sqs-endpoint lint
	$(VENV)/bin/pytest

test-fast: venv
	$(VENV)/bin/pytest -m "not drill"

run: sysdeps sqs-endpoint
	$(PY) -m localenv.devrun --port $(PORT)

# A development JWT for the `make run` stack: make token ACCOUNT=ACC-1
token: venv
	@test -f var/dev/jwt-secret || { echo "no var/dev/jwt-secret: run 'make run' first" >&2; exit 1; }
	@ORDERS_JWT_SECRET="$$(cat var/dev/jwt-secret)" $(PY) -m service token --account $(or $(ACCOUNT),ACC-1)

plan: venv
	$(PY) -m infra.plan

policy-report: venv
	@mkdir -p reports
	$(PY) -m infra.plan --json > reports/plan.json
	$(PY) -m policies evaluate --plan reports/plan.json --format html --out reports/policy-report.html || true
	$(PY) -m policies evaluate --plan reports/plan.json --format markdown --out reports/policy-report.md; \
	  rc=$$?; echo "report written to reports/policy-report.md and reports/policy-report.html"; exit $$rc

# RESTORE=1 also runs the restore drill (both scenarios, its own stack with pgBackRest)
# after the failover drills; the exit status is the worse of the two.
drill: sysdeps sqs-endpoint
	@rc=0; $(PY) -m chaos drill --reports-dir $(REPORTS_DIR) $(if $(SCENARIO),--scenario $(SCENARIO),) || rc=$$?; \
	  $(if $(RESTORE),$(PY) -m chaos restore-drill --reports-dir $(REPORTS_DIR) || { r=$$?; [ $$r -eq 1 ] || [ $$rc -eq 1 ] && rc=1 || rc=$$r; };,) \
	  exit $$rc

# Backups proven by restoring them: PITR and a destroyed primary (RESTORE_SCENARIO=pitr|disaster).
restore-drill: sysdeps sqs-endpoint
	$(PY) -m chaos restore-drill --reports-dir $(REPORTS_DIR) $(if $(RESTORE_SCENARIO),--scenario $(RESTORE_SCENARIO),)

# With Prometheus and Alertmanager: the drills read the alerts they expect from it.
stack-up: sysdeps sqs-endpoint
	$(PY) -m chaos stack up

stack-down: venv
	$(PY) -m chaos stack down

stack-status: venv
	$(PY) -m chaos stack status

# Copy the latest passing drill figures into the runbooks' "Expected timings" tables.
runbook-timings: venv
	$(PY) -m chaos.drill.runbook_timings

# The whole system against the PostgreSQL ceiling (~3 min); BENCH_ARGS="api-latency" etc.
bench: sysdeps sqs-endpoint
	$(PY) -m bench $(BENCH_ARGS)

clean:
	rm -rf var reports .pytest_cache .mypy_cache .ruff_cache
