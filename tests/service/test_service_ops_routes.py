"""The per-domain router registry behind `serve --only`."""

from __future__ import annotations

import sys
import types
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import APIRouter
from fastapi.testclient import TestClient

from carbon254.config import AuthMode, Settings
from carbon254.service import create_app
from carbon254.service import routes as registry
from carbon254.service.routes import (
    DOMAIN_NAMES,
    Domain,
    DomainUnavailable,
    RouterRef,
    UnknownDomain,
    load_router,
    routers_for,
    select_domains,
)
from carbon254.store import Store

LMP = {"iso": "PJM", "market": "DAM", "start": "2024-03-01", "end": "2024-03-02"}


def paths(settings: Settings, store: Store) -> set[str]:
    with TestClient(create_app(settings, store)) as client:
        return set(client.get("/openapi.json").json()["paths"])


def test_domains_are_the_documented_ones() -> None:
    assert DOMAIN_NAMES == (
        "ops",
        "data",
        "analytics",
        "quality",
        "graphql",
        "stream",
        "jobs",
        "admin",
        "excel",
    )


def test_ops_is_always_selected() -> None:
    assert [d.name for d in select_domains(["quality"])] == ["ops", "quality"]
    assert [d.name for d in select_domains([" Data ", "quality", "data"])] == ["ops", "data", "quality"]
    assert select_domains(None) == registry.DOMAINS


def test_unknown_domain_lists_the_valid_ones() -> None:
    with pytest.raises(UnknownDomain) as raised:
        select_domains(["data", "curvez", "riskk"])
    assert str(raised.value) == (
        "unknown domains 'curvez', 'riskk'; "
        "valid domains: ops, data, analytics, quality, graphql, stream, jobs, admin, excel"
    )


def test_only_mounts_the_selected_domains(data_dir: Path, store: Store) -> None:
    quality_only = paths(Settings(data_dir=data_dir, auth=AuthMode.OFF, only=["quality"]), store)
    assert {"/health", "/ready", "/v1/quality"} <= quality_only
    assert "/v1/lmp" not in quality_only and "/v1/locations" not in quality_only
    everything = paths(Settings(data_dir=data_dir, auth=AuthMode.OFF), store)
    assert {"/health", "/ready", "/v1/lmp", "/v1/locations", "/v1/quality"} <= everything


def test_a_process_serving_one_domain_answers_404_elsewhere(data_dir: Path, store: Store) -> None:
    app = create_app(Settings(data_dir=data_dir, auth=AuthMode.OFF, only=["data"]), store)
    with TestClient(app) as client:
        assert client.get("/v1/lmp", params={**LMP, "locations": "WESTERN HUB"}).json()["count"] == 24
        assert client.get("/v1/quality", params=LMP).status_code == 404
        assert client.get("/metrics").status_code == 200


def test_create_app_refuses_an_unknown_domain(data_dir: Path, store: Store) -> None:
    with pytest.raises(UnknownDomain, match="valid domains: ops, data"):
        create_app(Settings(data_dir=data_dir, auth=AuthMode.OFF, only=["nope"]), store)


@pytest.fixture
def fake_domains(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, types.ModuleType]]:
    """Swap the registry for test domains whose routers live in modules made here."""
    modules: dict[str, types.ModuleType] = {}
    plain = types.ModuleType("carbon254_test_plain")
    plain.router = APIRouter()  # type: ignore[attr-defined]
    factory = types.ModuleType("carbon254_test_factory")
    factory.make = lambda settings: APIRouter(prefix=f"/{settings.port}")  # type: ignore[attr-defined]
    broken = types.ModuleType("carbon254_test_broken")
    for module in (plain, factory, broken):
        modules[module.__name__] = module
        monkeypatch.setitem(sys.modules, module.__name__, module)
    domains = (
        Domain("ops", "always", (RouterRef("carbon254_test_plain"),)),
        Domain("built", "from settings", (RouterRef("carbon254_test_factory", "make"),)),
        Domain("absent", "not installed", (RouterRef("carbon254_test_no_such_module"),)),
        Domain("unfinished", "module without its router", (RouterRef("carbon254_test_broken"),)),
    )
    monkeypatch.setattr(registry, "DOMAINS", domains)
    monkeypatch.setattr(registry, "DOMAIN_NAMES", tuple(d.name for d in domains))
    yield modules


def test_a_factory_is_built_with_the_settings(
    fake_domains: dict[str, types.ModuleType], tmp_path: Path
) -> None:
    (ops, built) = routers_for(Settings(data_dir=tmp_path, port=8123, only=["built"]))
    assert ops is fake_domains["carbon254_test_plain"].router
    assert built.prefix == "/8123"


@pytest.mark.parametrize("domain", ["absent", "unfinished"])
def test_a_missing_router_is_an_error_only_when_asked_for(
    fake_domains: dict[str, types.ModuleType], tmp_path: Path, domain: str, caplog: pytest.LogCaptureFixture
) -> None:
    with pytest.raises(DomainUnavailable, match=f"domain '{domain}' needs .* which is not installed"):
        routers_for(Settings(data_dir=tmp_path, only=[domain]))
    assert len(routers_for(Settings(data_dir=tmp_path, only=["built"]))) == 2
    with caplog.at_level("WARNING", logger="carbon254.service"):
        assert len(routers_for(Settings(data_dir=tmp_path))) == 2  # everything: skipped, and said so
    assert f"of domain '{domain}' is not installed" in caplog.text


def test_an_import_error_inside_a_router_module_propagates(
    fake_domains: dict[str, types.ModuleType], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fails(name: str) -> types.ModuleType:
        raise ModuleNotFoundError("No module named 'some_dependency'", name="some_dependency")

    monkeypatch.setattr(registry.importlib, "import_module", fails)
    with pytest.raises(ModuleNotFoundError, match="some_dependency"):
        routers_for(Settings(data_dir=tmp_path))


def test_a_router_attribute_of_the_wrong_type_is_refused(
    fake_domains: dict[str, types.ModuleType], tmp_path: Path
) -> None:
    fake_domains["carbon254_test_plain"].router = "not a router"  # type: ignore[attr-defined]
    with pytest.raises(TypeError, match="neither an APIRouter nor a factory"):
        routers_for(Settings(data_dir=tmp_path, only=["built"]))


def test_every_registered_router_is_installed_and_loads(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, auth=AuthMode.OFF)
    for domain in registry.DOMAINS:
        for ref in domain.routers:
            assert isinstance(load_router(ref, settings), APIRouter), ref


def test_no_package_attribute_shadows_a_router_submodule() -> None:
    import carbon254.service.graphql as graphql_package
    import carbon254.service.graphql.router as router_module

    # A factory named like its submodule would hide it: `graphql.router` must be the module itself.
    assert graphql_package.router is router_module
    assert isinstance(graphql_package.graphql_router(Settings(auth=AuthMode.OFF)), APIRouter)


def test_every_battery_path_has_one_owning_domain() -> None:
    # The battery runs are analytics; the fleet screen's submit is a job: a process serving one
    # must point a caller of the other at the right domain.
    from carbon254.service.routes import DOMAINS

    owners = {
        path: [d.name for d in DOMAINS if d.owns(path)]
        for path in (
            "/v1/battery/optimize",
            "/v1/battery/chart",
            "/v1/battery/revenue",
            "/v1/battery/dispatch",
            "/v1/battery/screen",
        )
    }
    assert owners == {
        "/v1/battery/optimize": ["analytics"],
        "/v1/battery/chart": ["analytics"],
        "/v1/battery/revenue": ["analytics"],
        "/v1/battery/dispatch": ["analytics"],
        "/v1/battery/screen": ["jobs"],
    }
