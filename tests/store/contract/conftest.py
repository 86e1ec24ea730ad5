"""Fixtures of the contract suite: every test here runs once per registered store backend."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from contract_backends import Backend, make_backend

from carbon254.store import Store, backend_schemes

# The shared table builders (`store_tables`) live one level up, beside the backend-specific tests.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


@pytest.fixture(params=backend_schemes())
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    """Each registered backend in turn, with a fresh store of the test's own."""
    return make_backend(request.param, tmp_path)


@pytest.fixture
def store(backend: Backend) -> Iterator[Store]:
    """The test's fresh store, closed after the test."""
    s = backend.open()
    yield s
    s.close()
