"""Controls that depend on the day (waiver expiry, end of EKS standard support) are judged
on a fixed day in these tests, so the suite does not change verdict with the calendar."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest

from policies import waivers as W

EVALUATION_DAY = dt.date(2026, 12, 3)


@pytest.fixture(autouse=True, scope="session")
def _fixed_evaluation_day() -> Iterator[None]:
    token = W.TODAY.set(EVALUATION_DAY)
    yield
    W.TODAY.reset(token)
