"""The add-in manifest, checked offline, and every file it (or the files it loads) names is served."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient

from carbon254.config import AuthMode, Settings
from carbon254.excel import ASSET_MEDIA_TYPES, build_manifest
from carbon254.excel.declarations import declarations_js
from carbon254.isos import ISOS
from carbon254.service import create_app

OFFICE = "{http://schemas.microsoft.com/office/appforoffice/1.1}"
OV = "{http://schemas.microsoft.com/office/taskpaneappversionoverrides}"
BT = "{http://schemas.microsoft.com/office/officeappbasictypes/1.0}"
XSI_TYPE = "{http://www.w3.org/2001/XMLSchema-instance}type"
STATIC = Path(__file__).resolve().parents[2] / "src" / "carbon254" / "excel" / "static"


def _urls(root: ET.Element) -> list[str]:
    found = [e.get("DefaultValue", "") for e in root.iter() if e.get("DefaultValue", "").startswith("http")]
    return found + [e.text or "" for e in root.iter(f"{OFFICE}AppDomain")]


def test_manifest_is_well_formed_with_the_elements_office_requires() -> None:
    root = ET.fromstring(build_manifest("https://prices.example.com:8443/"))
    assert root.tag == f"{OFFICE}OfficeApp"
    assert root.get(XSI_TYPE) == "TaskPaneApp"
    required = (
        "Id",
        "Version",
        "ProviderName",
        "DefaultLocale",
        "DisplayName",
        "Description",
        "IconUrl",
        "HighResolutionIconUrl",
        "SupportUrl",
        "Hosts",
        "DefaultSettings",
        "Permissions",
    )
    children = [child.tag for child in root]
    for name in required:
        assert f"{OFFICE}{name}" in children, name
    # The schema fixes the order of OfficeApp's children.
    assert [t for t in children if t.removeprefix(OFFICE) in required] == [f"{OFFICE}{n}" for n in required]
    assert re.fullmatch(r"[0-9a-f]{8}-([0-9a-f]{4}-){3}[0-9a-f]{12}", root.findtext(f"{OFFICE}Id", ""))
    assert re.fullmatch(r"\d+\.\d+\.\d+\.\d+", root.findtext(f"{OFFICE}Version", ""))
    assert root.find(f"{OFFICE}Hosts/{OFFICE}Host").get("Name") == "Workbook"  # type: ignore[union-attr]
    assert root.findtext(f"{OFFICE}Permissions") == "ReadWriteDocument"
    shared = root.find(f"{OFFICE}Requirements/{OFFICE}Sets/{OFFICE}Set")
    assert shared is not None and shared.get("Name") == "SharedRuntime"

    overrides = root.find(f"{OV}VersionOverrides")
    assert overrides is not None and overrides.get(XSI_TYPE) == "VersionOverridesV1_0"
    host = overrides.find(f"{OV}Hosts/{OV}Host")
    assert host is not None and host.get(XSI_TYPE) == "Workbook"
    runtime = host.find(f"{OV}Runtimes/{OV}Runtime")
    assert runtime is not None and runtime.get("lifetime") == "long"
    point = host.find(f"{OV}AllFormFactors/{OV}ExtensionPoint")
    assert point is not None and point.get(XSI_TYPE) == "CustomFunctions"
    resids = {
        part: point.find(f"{OV}{part}/{OV}SourceLocation").get("resid")  # type: ignore[union-attr]
        for part in ("Script", "Page", "Metadata")
    }
    namespace_id = point.find(f"{OV}Namespace").get("resid")  # type: ignore[union-attr]

    urls = {e.get("id"): e.get("DefaultValue") for e in overrides.iter(f"{BT}Url")}
    strings = {e.get("id"): e.get("DefaultValue") for e in overrides.iter(f"{BT}String")}
    images = {e.get("id"): e.get("DefaultValue") for e in overrides.iter(f"{BT}Image") if e.get("id")}
    assert urls[resids["Script"]] == "https://prices.example.com:8443/excel/functions.js"
    assert urls[resids["Page"]] == "https://prices.example.com:8443/excel/taskpane.html"
    assert urls[resids["Metadata"]] == "https://prices.example.com:8443/excel/functions.json"
    assert strings[namespace_id] == "C254"
    # Every resid used anywhere resolves to a resource.
    known = set(urls) | set(strings) | set(images)
    used = {e.get("resid") for e in overrides.iter() if e.get("resid")}
    assert used <= known, used - known
    # The task pane button opens the task pane.
    action = overrides.find(f".//{OV}Action")
    assert action is not None and action.get(XSI_TYPE) == "ShowTaskpane"


@pytest.mark.parametrize(
    ("base_url", "origin"),
    [
        ("https://prices.example.com/", "https://prices.example.com"),
        ("http://127.0.0.1:8000/", "http://127.0.0.1:8000"),
        ("https://proxy.example.com/carbon/", "https://proxy.example.com/carbon"),
    ],
)
def test_every_manifest_url_is_under_the_serving_host(base_url: str, origin: str) -> None:
    urls = _urls(ET.fromstring(build_manifest(base_url)))
    assert len(urls) >= 8
    for url in urls:
        assert url == origin or url.startswith(origin + "/"), url
        assert urlsplit(url).scheme == urlsplit(origin).scheme


def test_a_deployment_keeps_its_id_and_two_deployments_differ() -> None:
    def id_of(base: str) -> str:
        return ET.fromstring(build_manifest(base)).findtext(f"{OFFICE}Id", "")

    assert id_of("https://a.example.com/") == id_of("https://a.example.com")
    assert id_of("https://a.example.com/") != id_of("https://b.example.com/")


@pytest.mark.parametrize("bad", ["", "prices.example.com", "ftp://prices.example.com/", "https://"])
def test_a_base_url_that_is_not_absolute_http_is_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="absolute http"):
        build_manifest(bad)


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    # Auth required: the add-in's files must not need credentials.
    settings = Settings(data_dir=tmp_path_factory.mktemp("excel-data"), auth=AuthMode.REQUIRED)
    with TestClient(create_app(settings), raise_server_exceptions=False) as c:
        yield c


def test_the_served_manifest_points_at_the_requesting_host(client: TestClient) -> None:
    answer = client.get("/excel/manifest.xml")  # TestClient's base URL: http://testserver
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("application/xml")
    urls = _urls(ET.fromstring(answer.content))
    assert urls and all(u.startswith("http://testserver/") or u == "http://testserver" for u in urls)

    tls = TestClient(client.app, base_url="https://excel.example.com:9443")
    urls = _urls(ET.fromstring(tls.get("/excel/manifest.xml").content))
    assert urls and all(u.startswith("https://excel.example.com:9443") for u in urls)


def _referenced_files(client: TestClient) -> set[str]:
    """Every /excel/ file the manifest names, and those its pages and scripts load in turn."""
    names = {
        urlsplit(u).path.removeprefix("/excel/")
        for u in _urls(ET.fromstring(client.get("/excel/manifest.xml").content))
        if urlsplit(u).path.startswith("/excel/")
    }
    for page in ("taskpane.html", "taskpane.js", "functions.js", "c254.js"):
        text = (STATIC / page).read_text()
        names |= set(re.findall(r'(?:src|href)="([\w.-]+)"', text))
        names |= set(re.findall(r'from "\./([\w.-]+)"', text))
    return names


def test_every_referenced_file_is_served_without_credentials(client: TestClient) -> None:
    names = _referenced_files(client)
    assert {
        "functions.js",
        "functions.json",
        "taskpane.html",
        "c254.js",
        "declarations.js",
        "taskpane.js",
        "taskpane.css",
    } <= names
    assert {"icon-16.png", "icon-32.png", "icon-64.png", "icon-80.png"} <= names
    for name in names:
        answer = client.get(f"/excel/{name}")
        assert answer.status_code == 200, (name, answer.text)
        assert answer.headers["content-type"] == ASSET_MEDIA_TYPES[name]
        assert "max-age" in answer.headers["cache-control"]
    metadata = client.get("/excel/functions.json").json()
    assert [f["id"] for f in metadata["functions"]] == [
        "LMP",
        "BASIS",
        "CURVE",
        "HPFC",
        "BATTERY_REVENUE",
        "BATTERY_DISPATCH",
        "PPA_NPV",
        "PPA_BREAKEVEN",
        "PPA_CASHFLOWS",
        "VAR",
        "ES",
        "FORECAST",
        "LOCATIONS",
        "LIVE",
    ]


def test_icons_are_png_of_their_size(client: TestClient) -> None:
    for size in (16, 32, 64, 80):
        body = client.get(f"/excel/icon-{size}.png").content
        assert body.startswith(b"\x89PNG\r\n\x1a\n")
        assert int.from_bytes(body[16:20], "big") == size and int.from_bytes(body[20:24], "big") == size


def test_the_task_pane_may_load_office_js_and_be_framed_by_office(client: TestClient) -> None:
    answer = client.get("/excel/taskpane.html")
    policy = answer.headers["content-security-policy"]
    assert "script-src 'self' https://appsforoffice.microsoft.com" in policy
    assert "https://*.officeapps.live.com" in policy.split("frame-ancestors", 1)[1]
    assert "x-frame-options" not in answer.headers
    assert "https://appsforoffice.microsoft.com/lib/1/hosted/office.js" in answer.text


@pytest.mark.parametrize("name", ["..%2Fmanifest.py", "manifest.py", "__init__.py", "static", "secret.txt"])
def test_only_the_listed_files_are_served(client: TestClient, name: str) -> None:
    answer = client.get(f"/excel/{name}")
    assert answer.status_code == 404
    assert answer.json()["code"] == "not_found"


def test_the_data_api_still_needs_credentials(client: TestClient) -> None:
    assert client.get("/v1/locations").status_code == 401


def test_the_checked_in_metadata_lists_each_function_once() -> None:
    metadata = json.loads((STATIC / "functions.json").read_text())
    ids = [f["id"] for f in metadata["functions"]]
    assert len(ids) == len(set(ids))
    live = next(f for f in metadata["functions"] if f["id"] == "LIVE")
    assert live["options"]["stream"] is True
    assert all(f["result"]["dimensionality"] == "matrix" for f in metadata["functions"])


def test_the_served_declarations_are_generated_from_the_platform_declarations() -> None:
    # c254.js reads each ISO's zone and the operations' Excel functions from this file; it must
    # say exactly what carbon254.isos and the operation declarations say.
    assert (STATIC / "declarations.js").read_text() == declarations_js()
    text = declarations_js()
    for iso, info in ISOS.items():
        assert f'"{iso.value}": "{info.timezone}"' in text
    assert '"id": "BASIS"' in text and '"endpoint": "/v1/spreads"' in text
