"""The SDK runs with only its own dependencies: nothing from the server, no undeclared package."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest
from live_service import LiveService

ROOT = Path(__file__).resolve().parents[2]
CLIENT_PYPROJECT = ROOT / "clients" / "python" / "pyproject.toml"

# What the declared dependencies import under their own names (and what those pull in).
DEPENDENCY_MODULES = {
    "httpx": {"httpx", "httpcore", "anyio", "sniffio", "h11", "certifi", "idna"},
    "pyarrow": {"pyarrow", "numpy"},
    "pandas": {"pandas", "numpy", "dateutil", "pytz", "tzdata", "six"},
    "pydantic": {"pydantic", "pydantic_core", "typing_extensions", "annotated_types", "typing_inspection"},
    "websockets": {"websockets"},
}

# Runs in a child process: every import outside the standard library, the declared
# dependencies and carbon254.client is refused, then the SDK is used against the service.
SCRIPT = """
import importlib.abc, sys

allowed = set(sys.argv[3].split(","))

class Refuse(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        top = name.partition(".")[0]
        if top == "carbon254":
            if name in ("carbon254", "carbon254.client") or name.startswith("carbon254.client."):
                return None
            raise ImportError(f"the SDK imported server code: {name}")
        if top in sys.stdlib_module_names or top in allowed or top.startswith("_"):
            return None
        raise ImportError(f"the SDK imported an undeclared package: {name}")

sys.meta_path.insert(0, Refuse())

from carbon254.client import Client

with Client(base_url=sys.argv[1], api_key=sys.argv[2]) as client:
    frame = client.lmp(
        iso="PJM", market="DAM", locations=["WESTERN HUB"], start="2024-01-01", end="2024-01-02"
    )
    found = client.locations(iso="ERCOT", search="HB_")
    report = client.quality(iso="PJM", start="2024-01-01", end="2024-01-02")
    print(len(frame), len(found) > 0, report.count)
    job = client.export(
        iso="PJM", market="DAM", locations=["WESTERN HUB"], start="2024-01-01", end="2024-01-02",
        format="csv",
    )
    job.wait(progress=True)
    print("export:", len(open(job.download(sys.argv[4])).read().splitlines()))
try:
    Client.local(".")
except ImportError as exc:
    print("local:", "full carbon254 package" in str(exc))
"""


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveService]:
    with LiveService.seeded(tmp_path_factory.mktemp("sdk-standalone")) as live:
        yield live


def test_the_sdk_needs_only_its_declared_dependencies(service: LiveService, tmp_path: Path) -> None:
    declared = tomllib.loads(CLIENT_PYPROJECT.read_text())["project"]["dependencies"]
    names = {d.split(">")[0].split("=")[0].split("[")[0].strip() for d in declared}
    assert names == set(DEPENDENCY_MODULES)
    allowed = set().union(*DEPENDENCY_MODULES.values())
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            SCRIPT,
            service.base_url,
            service.keys.full,
            ",".join(sorted(allowed)),
            str(tmp_path / "export.csv"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    # 3 PJM LMP markets a day; the export: a header and 24 hours.
    assert done.stdout.split("\n")[:3] == ["24 True 3", "export: 25", "local: True"]


def test_the_client_distribution_holds_only_the_sdk() -> None:
    tool = tomllib.loads(CLIENT_PYPROJECT.read_text())["tool"]["setuptools"]
    assert tool["packages"] == ["carbon254.client"]
    assert (CLIENT_PYPROJECT.parent / tool["package-dir"][""] / "carbon254" / "client" / "py.typed").is_file()
