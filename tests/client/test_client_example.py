"""The SDK example script runs as documented, against a real service and in local mode."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from live_service import LiveService

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "sdk_quickstart.py"


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveService]:
    with LiveService.seeded(tmp_path_factory.mktemp("sdk-example")) as live:
        yield live


def run_example(*args: str, env: dict[str, str]) -> list[str]:
    done = subprocess.run(
        [sys.executable, str(EXAMPLE), *args],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout.splitlines()


def test_the_example_runs_against_a_service(service: LiveService) -> None:
    lines = run_example(env={"CARBON254_URL": service.base_url, "CARBON254_API_KEY": service.keys.full})
    assert lines[0].startswith("January average LMP ($/MWh): {")
    assert "'WESTERN HUB'" in lines[0] and "'AEP-DAYTON HUB'" in lines[0]
    assert lines[1] == "on-peak days: 4"  # Jan 2-5: Jan 1 2024 is a NERC holiday, Jan 6-7 a weekend
    assert lines[2].startswith("basis ") and "over 168 hours" in lines[2]
    assert lines[3].startswith("suggestions: ['WESTERN HUB'")
    assert lines[4] == "DAM completeness: 100% over 7 days"


def test_the_example_runs_offline_in_local_mode(service: LiveService) -> None:
    lines = run_example("--local", str(service.data_dir), env={})
    assert lines[1] == "on-peak days: 4" and lines[4] == "DAM completeness: 100% over 7 days"
