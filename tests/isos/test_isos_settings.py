"""Each ISO's settings are `Settings` fields with their documented variables, handed to connectors.

Connectors never read the environment: what they use is what they were built
with, so changing the environment afterwards changes nothing, and secrets
never show in a repr or an error.
"""

from __future__ import annotations

import ast
import os
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr
from typer.testing import CliRunner

from carbon254.cli.main import app
from carbon254.config import Settings
from carbon254.ingest.clients import client_for
from carbon254.isos import Iso, declaration
from carbon254.isos.ercot.settings import ErcotSettings
from carbon254.isos.pjm.settings import PjmSettings
from carbon254.isos.settings import IsoSettings
from carbon254.markets.registry import connector_for
from carbon254.replay import ReplayServer
from carbon254.replay.sites import routes_for
from carbon254.schema import Dataset
from carbon254.settings_doc import settings_fields
from shared_data import SHARED_DATA

SRC = Path(__file__).resolve().parents[2] / "src" / "carbon254"
FIXTURES = Path(__file__).resolve().parents[1] / "markets" / "fixtures"
FALL = date(2024, 11, 3)


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No CARBON254_* setting of the developer's shell reaches these tests."""
    for name in list(os.environ):
        if name.startswith("CARBON254_"):
            monkeypatch.delenv(name)


def _iso_variables() -> list[tuple[Iso, str, str]]:
    """(ISO, its settings field, variable) for every ISO setting the settings table documents."""
    out = []
    for variable, _ in settings_fields():
        for iso in Iso:
            prefix = f"CARBON254_{iso.value}_"
            if variable.startswith(prefix):
                out.append((iso, variable.removeprefix(prefix).lower(), variable))
    return out


def _sample(annotation: Any) -> tuple[str, object]:
    """A value to set a variable of this type to, and what the setting then holds."""
    text = str(annotation)
    if "SecretStr" in text:
        return " s3cret ", "s3cret"
    if "tuple" in text:
        return "A, B ,", ("A", "B")
    if annotation is bool:
        return "false", False
    if annotation is int:
        return "3", 3
    return "http://127.0.0.1:9/x", "http://127.0.0.1:9/x"


@pytest.mark.parametrize(("iso", "field", "variable"), _iso_variables(), ids=lambda v: str(v))
def test_every_documented_iso_variable_reaches_its_setting(
    monkeypatch: pytest.MonkeyPatch, iso: Iso, field: str, variable: str
) -> None:
    model = type(Settings().iso_settings(iso))
    raw, expected = _sample(model.model_fields[field].annotation)
    assert getattr(Settings().iso_settings(iso), field) != expected
    monkeypatch.setenv(variable, raw)
    value = getattr(Settings().iso_settings(iso), field)
    assert (value.get_secret_value() if isinstance(value, SecretStr) else value) == expected


def test_the_variables_users_know_are_all_still_there() -> None:
    documented = {variable for _, _, variable in _iso_variables()}
    assert documented >= {
        *(f"CARBON254_{iso.value}_URL" for iso in Iso),
        "CARBON254_PJM_API_KEY",
        "CARBON254_ERCOT_API_KEY",
        "CARBON254_ERCOT_USERNAME",
        "CARBON254_ERCOT_PASSWORD",
        "CARBON254_ERCOT_TOKEN_URL",
        "CARBON254_ERCOT_API_URL",
        "CARBON254_ISONE_USERNAME",
        "CARBON254_ISONE_PASSWORD",
        "CARBON254_NYISO_DAILY_DAYS",
        "CARBON254_CAISO_NODES",
    }
    for iso in Iso:
        assert isinstance(Settings().iso_settings(iso), IsoSettings)


def _reads_environment(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        name = node.attr if isinstance(node, ast.Attribute) else node.id if isinstance(node, ast.Name) else ""
        if name in ("environ", "getenv", "environb"):
            found.append(f"{path.relative_to(SRC)}:{node.lineno}")
    return found


def test_no_connector_reads_the_environment() -> None:
    modules = sorted((SRC / "isos").rglob("*.py")) + sorted((SRC / "markets").rglob("*.py"))
    assert [hit for path in modules for hit in _reads_environment(path)] == []


@pytest.fixture
def pjm_server() -> Iterator[ReplayServer]:
    with ReplayServer(routes_for(Iso.PJM, [FIXTURES / "pjm"])) as server:
        yield server


def _pjm_keys_sent(
    server: ReplayServer, settings: Settings, monkeypatch: pytest.MonkeyPatch, after: dict[str, str]
) -> set[str]:
    """Download PJM's day-ahead LMPs of FALL with a connector built from `settings`, the environment
    then changed to `after` before anything is fetched; the subscription keys PJM was sent."""
    connector = connector_for(Iso.PJM, settings)
    with client_for(Iso.PJM, settings, connector) as client:
        for name, value in after.items():
            monkeypatch.setenv(name, value)
        payloads = list(connector.fetch(client, Dataset.LMP, "DAM", FALL))
    assert payloads
    return {r.headers["ocp-apim-subscription-key"] for r in server.requests}


def test_a_connector_uses_the_settings_it_was_built_with(
    pjm_server: ReplayServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    declaration(Iso.PJM).reports()  # the connector module is imported before the environment says anything
    monkeypatch.setenv("CARBON254_PJM_API_KEY", "from-the-environment")
    monkeypatch.setenv("CARBON254_PJM_URL", "http://127.0.0.1:9")  # nothing listens there
    explicit = Settings(pjm=PjmSettings(api_key="explicit", url=pjm_server.url), iso_min_interval_s=0)
    later = {"CARBON254_PJM_API_KEY": "changed-later", "CARBON254_PJM_URL": "http://127.0.0.1:9"}
    assert _pjm_keys_sent(pjm_server, explicit, monkeypatch, later) == {"explicit"}

    pjm_server.requests.clear()
    monkeypatch.setenv("CARBON254_PJM_URL", pjm_server.url)
    monkeypatch.setenv("CARBON254_PJM_API_KEY", "from-the-environment")
    from_environment = Settings(iso_min_interval_s=0)  # read now; the connector gets what it read
    assert _pjm_keys_sent(pjm_server, from_environment, monkeypatch, later) == {"from-the-environment"}


def test_ercot_api_account_and_token_endpoint_come_from_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    roots = [SHARED_DATA / "iso" / "ercot", FIXTURES / "ercot"]
    with ReplayServer(routes_for(Iso.ERCOT, roots)) as server:
        account = ErcotSettings(url=server.url, api_key="sub-key", username="user", password="pw")
        settings = Settings(ercot=account, iso_min_interval_s=0)
        monkeypatch.setenv("CARBON254_ERCOT_API_KEY", "")  # the environment says: no API
        connector = connector_for(Iso.ERCOT, settings)
        with client_for(Iso.ERCOT, settings, connector) as client:
            monkeypatch.setenv("CARBON254_ERCOT_URL", "http://127.0.0.1:9")
            payloads = list(connector.fetch(client, Dataset.LMP, "DAM", FALL))
        assert payloads and all("/api/public-reports/" in p.url for p in payloads)
        tokens = [r for r in server.requests if r.path.endswith("/oauth2/v2.0/token")]
        assert len(tokens) == 1 and b"username=user" in tokens[0].body
        api = [r for r in server.requests if r.path.startswith("/api/public-reports/")]
        assert api and {r.headers["ocp-apim-subscription-key"] for r in api} == {"sub-key"}


@pytest.mark.parametrize("iso", list(Iso), ids=lambda i: i.value)
def test_every_isos_client_goes_where_its_settings_say(iso: Iso, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(f"CARBON254_{iso.value}_URL", "http://elsewhere.invalid")
    settings = Settings(**{iso.value.lower(): {"url": "http://127.0.0.1:9/mirror"}})
    with client_for(iso, settings) as client:
        assert client.url("https://example.com/a?b=1") == "http://127.0.0.1:9/mirror/a?b=1"
        assert client.config.min_interval_s == declaration(iso).min_request_interval_s


def test_secrets_never_show() -> None:
    settings = Settings(
        pjm=PjmSettings(api_key="pjm-secret"),
        ercot=ErcotSettings(api_key="ercot-key-secret", username="u", password="ercot-pw-secret"),
        isone={"username": "u", "password": "isone-pw-secret"},
    )
    shown = " ".join([repr(settings), str(settings), settings.model_dump_json(), repr(settings.isone)])
    for secret in ("pjm-secret", "ercot-key-secret", "ercot-pw-secret", "isone-pw-secret"):
        assert secret not in shown
    auth = getattr(connector_for(Iso.ERCOT, settings), "auth", None)
    assert auth is not None and "ercot-pw-secret" not in repr(vars(auth))


def test_a_bad_iso_setting_is_a_clear_error_of_the_download_command(tmp_path: Path) -> None:
    args = ["ingest", "--iso", "NYISO", "--dataset", "lmp", "--market", "RT5", "--start", "2022-11-05"]
    args += ["--end", "2022-11-06", "--data-dir", str(tmp_path / "data")]
    result = CliRunner().invoke(app, args, env={"CARBON254_NYISO_DAILY_DAYS": "a week"})
    assert result.exit_code == 1
    assert "invalid CARBON254_* setting: nyiso.daily_days" in " ".join(result.output.split())
    assert "Traceback" not in result.output
