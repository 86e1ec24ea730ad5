"""Fixtures for the CLI tests: a CliRunner, a clean environment and a small simulated store."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_helpers import SIM_ARGS
from typer.testing import CliRunner

from carbon254.cli.console import console, err_console
from carbon254.cli.main import app


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No CARBON254_* setting of the developer's shell leaks into a test; output is not wrapped."""
    for name in list(os.environ):
        if name.startswith("CARBON254_"):
            monkeypatch.delenv(name)
    # Wide enough that messages stay on one line. Set on the consoles themselves:
    # Rich fixes the width at creation when COLUMNS is set, as pytest-xdist does.
    for output in (console, err_console):
        monkeypatch.setattr(output, "width", 200)


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture(scope="module")
def sim_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A data dir holding two simulated days of ERCOT (5 nodes), shared read-only by a module's tests."""
    data_dir = tmp_path_factory.mktemp("sim") / "data"
    result = CliRunner().invoke(app, ["simulate", *SIM_ARGS, "--data-dir", str(data_dir)])
    assert result.exit_code == 0, result.output
    yield data_dir
