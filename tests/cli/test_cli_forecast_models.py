"""`carbon254 forecast models list|show|promote|rollback|archive` on the data dir's metadata database."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from carbon254.application.identity import ANONYMOUS_TENANT
from carbon254.cli.main import app
from carbon254.config import Settings
from carbon254.metadata import MetadataDatabase
from registry_models import METRICS, register


def _run(runner: CliRunner, data_dir: Path, *args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["forecast", "models", *args, "--data-dir", str(data_dir)])
    return result.exit_code, result.output


def _registered(data_dir: Path, versions: int, **changes: str) -> None:
    db = MetadataDatabase(Settings(data_dir=data_dir).metadata_database_url())
    try:
        for _ in range(versions):
            register(db, ANONYMOUS_TENANT, **changes)
    finally:
        db.close()


def test_list_show_promote_rollback_archive_round_trip(runner: CliRunner, tmp_path: Path) -> None:
    code, out = _run(runner, tmp_path, "list")
    assert code == 0 and "No forecast models" in out
    _registered(tmp_path, 3, name="Houston DAM")
    _registered(tmp_path, 1, name="north", location="HB_NORTH", model="lightgbm")
    code, out = _run(runner, tmp_path, "list", "--format", "json")
    assert code == 0, out
    listed = json.loads(out)
    assert [(m["name"], m["version"]) for m in listed] == [
        ("north", 1),
        ("Houston DAM", 3),
        ("Houston DAM", 2),
        ("Houston DAM", 1),
    ]
    assert listed[0]["metrics"] == METRICS and listed[0]["stage"] == "candidate"
    code, out = _run(runner, tmp_path, "list", "--location", "HB_NORTH")
    assert code == 0 and "north" in out and "Houston" not in out and "lightgbm" in out
    code, out = _run(runner, tmp_path, "promote", "houston dam", "1")
    assert code == 0 and "Promoted Houston DAM version 1 to production" in out
    code, out = _run(runner, tmp_path, "promote", "HOUSTON DAM", "2", "--format", "json")
    assert code == 0 and json.loads(out)["stage"] == "production" and json.loads(out)["version"] == 2
    code, out = _run(runner, tmp_path, "show", "houston dam", "--format", "json")
    assert code == 0
    assert {m["version"]: m["stage"] for m in json.loads(out)} == {
        3: "candidate",
        2: "production",
        1: "archived",
    }
    code, out = _run(runner, tmp_path, "rollback", "houston dam")
    assert code == 0 and "back to version 1" in out
    code, out = _run(runner, tmp_path, "show", "houston dam", "--version", "2", "--format", "json")
    assert code == 0 and json.loads(out)["stage"] == "archived"
    code, out = _run(runner, tmp_path, "rollback", "houston dam")
    assert code == 1 and "before version 1" in out
    code, out = _run(runner, tmp_path, "archive", "houston dam", "3")
    assert code == 0 and "Archived Houston DAM version 3" in out
    code, out = _run(runner, tmp_path, "show", "houston dam")
    assert code == 0 and "production" in out and "archived" in out and "4.200" in out


def test_refusals_exit_1_naming_what_is_wrong(runner: CliRunner, tmp_path: Path) -> None:
    _registered(tmp_path, 1, name="solo")
    code, out = _run(runner, tmp_path, "show", "nothing")
    assert code == 1 and "no model 'nothing'" in out
    code, out = _run(runner, tmp_path, "promote", "solo", "4")
    assert code == 1 and "no version 4" in out
    code, out = _run(runner, tmp_path, "list", "--market", "intraday")
    assert code == 1 and "--market" in out
    code, out = _run(runner, tmp_path, "show", "solo", "--format", "json")
    assert code == 0 and json.loads(out)[0]["stage"] == "candidate"  # nothing changed
