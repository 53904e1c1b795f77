"""Shared pieces of the bench tests; registers the smoke-run marker."""

from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "bench_smoke: a few seconds of the real system bench (wrk + pgbench on real servers);"
        " runs in CI, under ~60 s, asserts shape and non-zero figures, never timings",
    )
