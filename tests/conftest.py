"""Shared test fixtures: services are real; without one a test skips, and under CI=true it fails."""

from __future__ import annotations

import os

import pytest

from equitoken.domain.errors import require_catalogued_codes

# A code raised anywhere in a test run must be in domain.catalogue (production stays lenient).
require_catalogued_codes()

UNDER_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
POSTGRES_URL = os.environ.get(
    "EQUITOKEN_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def service_missing(what: str, why: str) -> None:
    """Skip the calling test because ``what`` is unavailable — or fail it under CI, where nothing may skip."""
    message = f"{what} is not available ({why})"
    if UNDER_CI:
        pytest.fail(f"{message}; under CI=true every service must run", pytrace=False)
    pytest.skip(message)
