"""Every command works on the store `--store` (CARBON254_STORE) names, and refuses a bad URL cleanly."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from cli_helpers import SIM_ARGS, START, lmp_table, write_lmp_csv
from typer.testing import CliRunner

from carbon254.cli.main import app
from carbon254.store import ParquetStore

DAY = ["--iso", "ERCOT", "--market", "DAM", "--start", "2025-01-01", "--end", "2025-01-02"]


def _flat(text: str) -> str:
    return " ".join(text.split())


def _pjm_rows(directory: Path) -> int:
    store = ParquetStore(directory)
    try:
        return store.read("lmp", "PJM", "DAM", None, START, datetime(2025, 1, 2, tzinfo=UTC)).num_rows
    finally:
        store.close()


def test_simulate_query_and_quality_follow_store(runner: CliRunner, tmp_path: Path) -> None:
    shared, data_dir = tmp_path / "shared", tmp_path / "data"
    url = f"duckdb://{shared}"
    result = runner.invoke(app, ["simulate", *SIM_ARGS, "--data-dir", str(data_dir), "--store", url])
    assert result.exit_code == 0, result.output
    assert (shared / "store" / "manifest.json").is_file()
    assert not (data_dir / "store").exists()
    assert f"into {url}" in _flat(result.output)

    query = ["query", *DAY, "--locations", "HB_NORTH", "--data-dir", str(tmp_path / "other")]
    result = runner.invoke(app, [*query, "--store", url])
    assert result.exit_code == 0, result.output
    assert "24 rows" in _flat(result.output)
    # The same through the environment, as a deployment sets it.
    result = runner.invoke(app, query, env={"CARBON254_STORE": url})
    assert result.exit_code == 0, result.output
    assert "24 rows" in _flat(result.output)
    # Without it, the data dir holds no store.
    result = runner.invoke(app, query)
    assert result.exit_code == 1
    assert "--data-dir: no store in" in _flat(result.output)

    quality = ["quality", "--iso", "ERCOT", "--market", "DAM", "--start", "2025-01-01", "--end", "2025-01-02"]
    result = runner.invoke(app, [*quality, "--data-dir", str(tmp_path / "other"), "--store", url])
    assert result.exit_code == 0, result.output
    assert "(480 of 480 intervals)" in _flat(result.output)


def test_ingest_writes_to_the_store_and_keeps_its_ledger_in_the_data_dir(
    runner: CliRunner, tmp_path: Path
) -> None:
    csv = write_lmp_csv(tmp_path / "pjm.csv", lmp_table(hours=24), offset="Z")
    result = runner.invoke(
        app,
        ["ingest", str(csv), "--data-dir", str(tmp_path / "data")],
        env={"CARBON254_STORE": "duckdb://stores/pjm"},  # relative: read from the data dir
    )
    assert result.exit_code == 0, result.output
    assert _pjm_rows(tmp_path / "data" / "stores" / "pjm") == 24


def test_missing_store_at_a_url_names_store(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(app, ["query", *DAY, "--store", f"duckdb://{tmp_path}/nowhere"])
    assert result.exit_code == 1
    out = _flat(result.output)
    assert f"--store: no store in {tmp_path.resolve()}/nowhere" in out
    assert "CARBON254_STORE" in out  # the hint
    assert not (tmp_path / "nowhere").exists()


@pytest.mark.parametrize(
    "command",
    [
        ["query", *DAY],
        ["quality", "--iso", "ERCOT", "--start", "2025-01-01", "--end", "2025-01-02"],
        ["simulate", *SIM_ARGS],
        ["ingest", "prices.csv"],
        ["ingest", "--iso", "ERCOT", "--dataset", "lmp", "--market", "DAM", "--start", "2025-01-01"],
        ["ingest", "--follow", "--iso", "ERCOT", "--polls", "1"],
        ["serve"],
        ["demo", "--no-feed"],
    ],
)
@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("clickhouse://db.example.com/c254", "unknown store scheme clickhouse://"),
        ("/srv/c254", "malformed store URL '/srv/c254'"),
    ],
)
def test_a_bad_store_url_is_refused_before_any_work(
    runner: CliRunner, tmp_path: Path, command: list[str], url: str, says: str
) -> None:
    # The flag rather than the environment, so a command that did not know it would stop at once.
    result = runner.invoke(
        app, [*command, "--data-dir", str(tmp_path / "data"), "--store", url], env={"CARBON254_AUTH": "off"}
    )
    assert result.exit_code == 1, result.output
    out = _flat(result.output)
    assert says in out and "supported schemes: duckdb://" in out
    assert isinstance(result.exception, SystemExit)  # a clean exit, not an exception deep inside
    assert not (tmp_path / "data").exists()


def test_a_bad_store_url_in_the_environment_is_refused(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["query", *DAY, "--data-dir", str(tmp_path)], env={"CARBON254_STORE": "duckdb:/srv/c254"}
    )
    assert result.exit_code == 1
    out = _flat(result.output)
    assert "--store (CARBON254_STORE): malformed store URL 'duckdb:/srv/c254'" in out
    assert "supported schemes: duckdb://" in out
