"""`carbon254 simulate`, and the app's shared behaviour (help, version, CARBON254_DATA_DIR)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from cli_helpers import SIM_ARGS
from typer.testing import CliRunner

from carbon254.cli.main import app
from carbon254.isos import Iso
from carbon254.simulate import SimulationConfig, count_rows
from carbon254.store import open_store


def _flat(text: str) -> str:
    return " ".join(text.split())


def test_simulate_writes_every_dataset_and_is_idempotent(runner: CliRunner, tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    first = runner.invoke(app, ["simulate", *SIM_ARGS, "--rt5-days", "1", "--data-dir", str(data_dir)])
    assert first.exit_code == 0, first.output
    expected = count_rows(
        SimulationConfig(
            start=datetime(2025, 1, 1, tzinfo=UTC),
            end=datetime(2025, 1, 3, tzinfo=UTC),
            isos=(Iso.ERCOT,),
            nodes=5,
            rt5_start=datetime(2025, 1, 2, tzinfo=UTC),
        )
    )
    out = _flat(first.output)
    assert f"{expected:,} rows simulated, {expected:,} new" in out
    for dataset in ("lmp", "as_price", "ordc_adder", "load"):
        assert f"│ {dataset} │" in out

    store = open_store(data_dir)
    try:
        assert store.markets("lmp", "ERCOT") == ["DAM", "RT5", "RTH"]
        rt5 = store.read(
            "lmp",
            "ERCOT",
            "RT5",
            ["HB_NORTH"],
            datetime(2025, 1, 1, tzinfo=UTC),
            datetime(2025, 1, 3, tzinfo=UTC),
        )
        assert rt5.num_rows == 288  # --rt5-days 1: only the last day
        assert store.locations(iso="ERCOT").column("source").unique().to_pylist() == ["simulated"]
    finally:
        store.close()

    again = runner.invoke(app, ["simulate", *SIM_ARGS, "--rt5-days", "1", "--data-dir", str(data_dir)])
    assert again.exit_code == 0, again.output
    assert f"{expected:,} rows simulated, 0 new" in _flat(again.output)


def test_simulate_markets_datasets_and_seed(runner: CliRunner, tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    args = ["simulate", "--isos", "pjm,ercot", "--nodes", "2", "--start", "2025-06-01", "--end", "2025-06-02"]
    result = runner.invoke(
        app, [*args, "--markets", "dam", "--datasets", "lmp", "--seed", "7", "--data-dir", str(data_dir)]
    )
    assert result.exit_code == 0, result.output
    store = open_store(data_dir)
    try:
        assert store.markets("lmp", "PJM") == ["DAM"]
        assert store.markets("as_price", "PJM") == []
    finally:
        store.close()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--isos", "ERCOT,PJN"], "--isos: unknown ISO: 'PJN'"),
        (["--markets", "DAM,RT15"], "--markets: unknown market(s): 'RT15'"),
        (["--datasets", "lmps"], "--datasets: unknown dataset(s): 'lmps'"),
        (["--start", "2025-02-30"], "--start: cannot read '2025-02-30'"),
        (["--end", "2024-12-01"], "--end (2024-12-01T00:00:00+00:00) must be after --start"),
    ],
)
def test_simulate_bad_options(runner: CliRunner, tmp_path: Path, args: list[str], message: str) -> None:
    base = {"--start": "2025-01-01", "--end": "2025-01-02", "--isos": "ERCOT"}
    base.update(dict(zip(args[::2], args[1::2], strict=True)))
    argv = [item for pair in base.items() for item in pair]
    result = runner.invoke(app, ["simulate", *argv, "--data-dir", str(tmp_path / "data")])
    assert result.exit_code == 1
    assert message in _flat(result.output)
    assert "Traceback" not in result.output


def test_simulate_nodes_must_be_positive(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(app, ["simulate", *SIM_ARGS[:-2], "--end", "2025-01-02", "--nodes", "0"])
    assert result.exit_code == 2
    assert "--nodes" in result.output


def test_simulate_honours_data_dir_environment(runner: CliRunner, tmp_path: Path) -> None:
    data_dir = tmp_path / "env-data"
    result = runner.invoke(
        app,
        ["simulate", "--isos", "SPP", "--nodes", "1", "--start", "2025-01-01", "--end", "2025-01-02"],
        env={"CARBON254_DATA_DIR": str(data_dir)},
    )
    assert result.exit_code == 0, result.output
    assert (data_dir / "store" / "manifest.json").exists()
    assert str(data_dir) in _flat(result.output)


def test_help_and_version(runner: CliRunner) -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for command in ("ingest", "query", "simulate", "serve", "demo"):
        assert command in result.output
    version = runner.invoke(app, ["--version"])
    assert version.exit_code == 0
    assert version.output.startswith("carbon254 ")
    for command in ("ingest", "query", "simulate", "serve", "demo"):
        assert "--data-dir" in runner.invoke(app, [command, "--help"]).output
