"""Suite-wide rules.

Tests that need a real backend (PostgreSQL, Redis) skip with a reason starting
with `service unavailable` on a machine without it. CI sets
`CARBON254_REQUIRE_SERVICES=1`, which turns exactly those skips into failures,
so a missing backend can never pass silently there.
"""

from __future__ import annotations

import os
from collections.abc import Generator

import pytest

SERVICE_SKIP_PREFIX = "service unavailable"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, None, None]:
    outcome = yield
    report = outcome.get_result()
    if not (report.skipped and os.environ.get("CARBON254_REQUIRE_SERVICES") == "1"):
        return
    reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
    if SERVICE_SKIP_PREFIX in reason:
        report.outcome = "failed"
        report.longrepr = f"{reason} (CARBON254_REQUIRE_SERVICES=1 forbids skipping this test)"
