"""Each ISO is declared in one place: its package under `carbon254.isos` holds every part of it.

Nothing outside those packages holds an ISO-specific table, and importing the
declarations (or starting the CLI) does not import any ISO's heavy parts.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from carbon254.config import Settings
from carbon254.isos import DECLARATIONS, ISOS, Iso, declaration, iso_info
from carbon254.isos.declaration import PARTS
from carbon254.isos.settings import IsoSettings
from carbon254.markets.report import Report
from carbon254.replay.server import Route
from carbon254.simulate import IsoSimulation, simulated_markets

SRC = Path(__file__).resolve().parents[2] / "src" / "carbon254"
PACKAGES = {iso: SRC / "isos" / iso.value.lower() for iso in Iso}

# Modules outside the ISO packages that may name an ISO package, and why.
ALLOWED_IMPORTS = {
    # The package that lists the seven declarations.
    "isos/__init__.py": {f"carbon254.isos.{iso.value.lower()}" for iso in Iso},
    # Settings composes one typed field per ISO settings model, so that pydantic-settings reads
    # (and the settings table documents) every CARBON254_<ISO>_* variable.
    "config.py": {f"carbon254.isos.{iso.value.lower()}.settings" for iso in Iso},
}


@pytest.mark.parametrize("iso", list(Iso), ids=lambda i: i.value)
def test_every_iso_package_declares_every_part(iso: Iso, tmp_path: Path) -> None:
    d = DECLARATIONS[iso]
    assert d.iso is iso and d.package == f"carbon254.isos.{iso.value.lower()}"
    assert iso_info(iso.value.lower()) is d.info is ISOS[iso] and declaration(iso.value) is d
    assert d.info.zoneinfo.key == d.info.timezone and d.min_request_interval_s > 0
    for part in PARTS:
        assert (PACKAGES[iso] / f"{part}.py").is_file()
        assert d.part(part).__name__ == f"{d.package}.{part}"

    reports = d.reports()
    assert reports and all(isinstance(r, Report) and r.iso is iso for r in reports)
    targets = d.targets()
    assert targets and all(t.report in reports for t in targets)
    connector = d.connector(Settings())
    assert connector.iso is iso and connector.targets == targets

    routes = d.replay_routes([tmp_path])
    assert routes and all(isinstance(r, Route) for r in routes)

    simulation = d.simulation()
    assert isinstance(simulation, IsoSimulation)
    assert simulation.iso is iso and simulation.geography.iso is iso

    own = Settings().iso_settings(iso)
    assert isinstance(own, IsoSettings) and type(own).__module__ == f"{d.package}.settings"


def test_a_part_that_is_not_one_is_refused() -> None:
    with pytest.raises(ValueError, match="settings, reports, replay, simulation"):
        declaration("PJM").part("os")


def test_every_iso_is_declared_once_in_enum_order() -> None:
    assert list(DECLARATIONS) == list(Iso) == list(ISOS)
    assert len({d.package for d in DECLARATIONS.values()}) == len(Iso)
    with pytest.raises(KeyError, match="CAISO, ERCOT"):
        declaration("ERCOTT")


def test_random_streams_keep_their_keys() -> None:
    # Part of every simulated number: changing one changes that ISO's whole demo.
    indexes = {iso: declaration(iso).simulation().stream_index for iso in Iso}
    assert indexes == {
        Iso.CAISO: 1,
        Iso.ERCOT: 2,
        Iso.PJM: 3,
        Iso.MISO: 4,
        Iso.SPP: 5,
        Iso.NYISO: 6,
        Iso.ISONE: 7,
    }


def test_what_the_simulator_makes_follows_the_declarations() -> None:
    for iso in Iso:
        simulation = declaration(iso).simulation()
        made = simulated_markets(iso)
        assert ("capacity_price" in made) == (simulation.capacity is not None)
        assert ("ordc_adder" in made) == simulation.model.ordc_adders
    assert [i for i in Iso if declaration(i).simulation().model.ordc_adders] == [Iso.ERCOT]


def _outside_the_iso_packages() -> list[Path]:
    return [p for p in sorted(SRC.rglob("*.py")) if not any(pkg in p.parents for pkg in PACKAGES.values())]


def _imported(node: ast.AST) -> list[str]:
    """The modules an import statement names (`from carbon254.isos import pjm` names the package)."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if isinstance(node, ast.ImportFrom) and node.module == "carbon254.isos":
        return [f"carbon254.isos.{alias.name}" for alias in node.names]
    if isinstance(node, ast.ImportFrom) and node.module:
        return [node.module]
    return []


def _iso_specific(path: Path, root: Path = SRC) -> list[str]:
    """What in `path` is specific to one ISO: `Iso.PJM` references, ISO-keyed literals, ISO packages."""
    names = {iso.value for iso in Iso}
    packages = {f"carbon254.isos.{iso.value.lower()}" for iso in Iso}
    where = path.relative_to(root).as_posix()
    allowed = ALLOWED_IMPORTS.get(where, set())
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        line = getattr(node, "lineno", 0)
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "Iso":
            found += [f"{where}:{line} Iso.{node.attr}"] if node.attr in names else []
        keys: list[ast.expr | None] = []
        if isinstance(node, ast.Dict):
            keys = list(node.keys)
        elif isinstance(node, ast.Compare):
            keys = [node.left, *node.comparators]
        elif isinstance(node, ast.Subscript):
            keys = [node.slice]
        found += [
            f"{where}:{line} {k.value!r} as a key"
            for k in keys
            if isinstance(k, ast.Constant) and k.value in names
        ]
        found += [
            f"{where}:{line} imports {module}"
            for module in _imported(node)
            if module not in allowed and any(module == p or module.startswith(p + ".") for p in packages)
        ]
    return found


def test_nothing_outside_the_iso_packages_holds_iso_specific_tables() -> None:
    modules = _outside_the_iso_packages()
    assert len(modules) > 100  # the scan sees the whole code base
    assert [hit for path in modules for hit in _iso_specific(path)] == []


def test_the_scan_finds_what_it_looks_for(tmp_path: Path) -> None:
    planted = tmp_path / "config.py"  # allowed to import ISO settings models, and nothing else
    planted.write_text(
        "from carbon254.isos import Iso\nfrom carbon254.isos.pjm import reports\n"
        "from carbon254.isos.pjm.settings import PjmSettings\n"
        "LIMITS = {Iso.PJM: 10.0, 'NYISO': 0.5}\nTZ = ZONES['MISO']\nFIRST = name == 'CAISO'\n"
    )
    hits = _iso_specific(planted, tmp_path)
    assert len(hits) == 5, hits
    assert [h for h in hits if "imports" in h] == ["config.py:2 imports carbon254.isos.pjm"]


def _modules_after(statement: str) -> set[str]:
    code = f"import sys\n{statement}\nprint('\\n'.join(sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(done.stdout.split())


HEAVY = {"numpy", "polars", "pyarrow", "httpx", "pydantic", "pydantic_settings"}


def _iso_parts(modules: set[str]) -> set[str]:
    parts = {f"carbon254.isos.{iso.value.lower()}.{part}" for iso in Iso for part in PARTS}
    return modules & parts


def test_importing_the_declarations_is_cheap() -> None:
    modules = _modules_after("import carbon254.isos")
    assert {f"carbon254.isos.{iso.value.lower()}" for iso in Iso} <= modules
    assert modules & HEAVY == set()
    assert _iso_parts(modules) == set()


def test_the_cli_starts_without_any_isos_connector_replay_site_or_simulator_model() -> None:
    modules = _modules_after("import carbon254.cli.main")
    assert _iso_parts(modules) <= {f"carbon254.isos.{iso.value.lower()}.settings" for iso in Iso}


@pytest.mark.parametrize("iso", list(Iso), ids=lambda i: i.value)
def test_reserve_products_are_the_ones_the_simulator_prices(iso: Iso) -> None:
    # A battery reads the demo's as_price rows by these names: a product declared but never
    # simulated (or the reverse) would silently drop out of every revenue stack.
    d = DECLARATIONS[iso]
    model = d.simulation().model
    assert sorted(s.product for s in d.reserves.services) == sorted(p.name for p in model.as_products)
    assert d.reserves.regions[0] == model.as_regions[0][0]
    for service in d.reserves.services:
        assert service.direction in ("up", "down", "both")
        assert 0 < service.duration_h <= 4 and 0 < service.deployment < 1
        for name in service.names:
            assert d.reserves.service(name.lower()) is service
    assert d.reserves.service("NOT_A_PRODUCT") is None


def test_a_reserve_service_refuses_a_duration_or_deployment_out_of_range() -> None:
    from carbon254.isos.declaration import ReserveService

    with pytest.raises(ValueError, match="REGUP"):
        ReserveService("REGUP", "up", 0.0, 0.1)
    with pytest.raises(ValueError, match="REGUP"):
        ReserveService("REGUP", "up", 1.0, 1.5)
