"""The layering DESIGN.md describes, checked on the import statements of every module.

domain packages -> application layer -> surfaces (REST, GraphQL, CLI, Excel);
the SDK imports nothing server-side. A surface calls down into the
application layer and never sideways into another surface.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "carbon254"

WEB = ("fastapi", "starlette", "strawberry", "uvicorn")
SURFACES = ("carbon254.service", "carbon254.cli", "carbon254.client", "carbon254.excel")
DOMAINS = (
    "schema",
    "isos",
    # Each ISO's package (connector, replay site, simulator model), named so a failure says which.
    "isos/caiso",
    "isos/ercot",
    "isos/pjm",
    "isos/miso",
    "isos/spp",
    "isos/nyiso",
    "isos/isone",
    "names",
    "store",
    "timeseries",
    "spreads",
    "quality",
    "simulate",
    "markets",
    "replay",
    "ingest",
    # Long work: the job system and its executors are plain Python under every surface.
    "jobs",
    "compute",
    # Analytics: curves (and the packages that follow) take tables and return typed results.
    "curves",
    "scenarios",
    "battery",
    "risk",
    "ppa",
    "forecast",
)


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def _modules(*parts: str) -> list[Path]:
    root = PACKAGE.joinpath(*parts)
    return sorted(root.rglob("*.py")) if root.is_dir() else [root.with_suffix(".py")]


def _offending(paths: list[Path], forbidden: tuple[str, ...]) -> list[str]:
    return [
        f"{path.relative_to(PACKAGE)} imports {name}"
        for path in paths
        for name in sorted(_imports(path))
        if any(name == f or name.startswith(f + ".") for f in forbidden)
    ]


@pytest.mark.parametrize("domain", DOMAINS)
def test_domain_packages_import_no_web_framework_surface_or_application(domain: str) -> None:
    assert _offending(_modules(domain), (*WEB, *SURFACES, "carbon254.application")) == []


def test_the_application_layer_imports_no_web_framework_or_surface() -> None:
    assert _offending(_modules("application"), (*WEB, *SURFACES)) == []


def test_exports_import_no_web_framework_or_surface() -> None:
    """Exports run in job workers, which have no web stack: the REST encoders they share are in `formats`."""
    assert _offending(_modules("exports") + _modules("formats"), (*WEB, *SURFACES)) == []


def test_job_kinds_import_no_web_framework_or_surface() -> None:
    """Job kinds run in job workers (a pool process, a Dask worker), which have no web stack.

    `forecast_registry` too: the training job saves its fitted models through it.
    """
    kinds = [
        *_modules("screening"),
        *_modules("sweeps"),
        *_modules("forecast_registry"),
        *_modules("forecast_jobs"),
        *_modules("ppa_montecarlo"),
        *_modules("risk_montecarlo"),
    ]
    assert _offending(kinds, (*WEB, *SURFACES)) == []


# The packages whose import registers job kinds: a worker process imports one of them first, alone.
JOB_KIND_PACKAGES = (
    "carbon254.exports",
    "carbon254.forecast_jobs",
    "carbon254.ppa_montecarlo",
    "carbon254.risk_montecarlo",
    "carbon254.screening",
    "carbon254.sweeps",
)


@pytest.mark.parametrize("package", JOB_KIND_PACKAGES)
def test_a_job_kind_package_imports_first_in_a_fresh_process(package: str) -> None:
    # A task unpickled in a spawned worker imports its kind's package before anything else; an
    # import cycle that the service's import order hides breaks it there and only there.
    run = subprocess.run([sys.executable, "-c", f"import {package}"], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr[-2000:]


def test_graphql_calls_down_into_the_application_layer_never_into_rest_routes() -> None:
    assert _offending(_modules("service", "graphql"), ("carbon254.service.routes",)) == []


def test_the_sdk_imports_nothing_server_side_outside_local_mode() -> None:
    sdk = [p for p in _modules("client") if p.name != "inprocess.py"]
    server = ("carbon254.service", "carbon254.application", "carbon254.store", "carbon254.config", *WEB)
    assert _offending(sdk, server) == []
