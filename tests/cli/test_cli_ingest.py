"""`carbon254 ingest`: good files are written, bad ones rejected whole with a clear message."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from cli_helpers import START, lmp_table, write_lmp_csv
from typer.testing import CliRunner

from carbon254.cli.main import app
from carbon254.store import open_store


def _flat(text: str) -> str:
    return " ".join(text.split())


def _read(data_dir: Path, location: str = "WESTERN HUB", market: str = "DAM") -> pa.Table:
    store = open_store(data_dir)
    try:
        return store.read("lmp", "PJM", market, [location], START, datetime(2025, 1, 3, tzinfo=UTC))
    finally:
        store.close()


def _manifest(data_dir: Path) -> bytes | None:
    path = data_dir / "store" / "manifest.json"
    return path.read_bytes() if path.exists() else None


def test_ingest_csv_with_offsets(runner: CliRunner, tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    eastern = write_lmp_csv(tmp_path / "eastern.csv", lmp_table(hours=12), offset="-05:00")
    utc = write_lmp_csv(tmp_path / "utc.csv", lmp_table(hours=24), offset="Z")

    result = runner.invoke(app, ["ingest", str(eastern), str(utc), "--data-dir", str(data_dir)])

    assert result.exit_code == 0, result.output
    out = _flat(result.output)
    assert "eastern.csv │ lmp │ 12 │ 12 │ 0 │ written" in out
    # The same 12 hours again (written with another offset) are not new; 12 more are.
    assert "utc.csv │ lmp │ 24 │ 12 │ 0 │ written" in out
    stored = _read(data_dir)
    assert stored.num_rows == 24
    assert stored.column("interval_start")[0].as_py() == START  # 2024-12-31T19:00-05:00 is 00:00 UTC


def test_ingest_parquet_and_revisions(runner: CliRunner, tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    first = tmp_path / "first.parquet"
    pq.write_table(lmp_table(hours=24), first)
    revised = tmp_path / "revised.parquet"
    table = lmp_table(hours=24, energy=40.0)
    # Timestamps in another zone are the same instants; only the prices changed.
    zone = pa.timestamp("us", tz="America/New_York")
    table = table.set_column(4, pa.field("interval_start", zone), table.column("interval_start").cast(zone))
    pq.write_table(table, revised)

    assert runner.invoke(app, ["ingest", str(first), "--data-dir", str(data_dir)]).exit_code == 0
    result = runner.invoke(app, ["ingest", str(revised), "--dataset", "LMP", "--data-dir", str(data_dir)])

    assert result.exit_code == 0, result.output
    assert "revised.parquet │ lmp │ 24 │ 24 │ 24 │ written" in _flat(result.output)
    assert _read(data_dir).column("energy")[0].as_py() == 40.0


def test_naive_timestamps_are_rejected_and_nothing_written(runner: CliRunner, tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    path = write_lmp_csv(tmp_path / "naive.csv", lmp_table(hours=3), offset="Z")
    lines = path.read_text().splitlines()
    lines[2] = lines[2].replace("2025-01-01T01:00:00Z", "2025-01-01 01:00:00", 1)
    path.write_text("\n".join(lines) + "\n")

    result = runner.invoke(app, ["ingest", str(path), "--data-dir", str(data_dir)])

    assert result.exit_code == 1
    out = _flat(result.output)
    assert "column interval_start: row 1 (line 3 of the file" in out
    assert "'2025-01-01 01:00:00', a timestamp without a UTC offset" in out
    assert "Traceback" not in result.output
    assert _read(data_dir).num_rows == 0


def test_rule_violation_rejects_the_whole_batch(runner: CliRunner, tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    good = write_lmp_csv(tmp_path / "good.csv", lmp_table(hours=24), offset="Z")
    assert runner.invoke(app, ["ingest", str(good), "--data-dir", str(data_dir)]).exit_code == 0
    before = _manifest(data_dir)

    table = lmp_table("EASTERN HUB", hours=24)
    lmp = table.column("lmp").to_pylist()
    lmp[5] = 99_999.0  # outside PJM's bounds and not energy + congestion + loss
    bad = write_lmp_csv(tmp_path / "bad.csv", table.set_column(6, "lmp", pa.array(lmp)), offset="Z")

    result = runner.invoke(app, ["ingest", str(bad), "--data-dir", str(data_dir)])

    assert result.exit_code == 1
    out = _flat(result.output)
    assert "bad.csv: lmp: batch rejected, nothing written" in out
    assert "[bounds] lmp outside [-10,000, 20,000] $/MWh for PJM: 1 row(s) (5)" in out
    assert "[components]" in out
    assert _manifest(data_dir) == before
    assert _read(data_dir, "EASTERN HUB").num_rows == 0


def test_missing_columns_are_named(runner: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "short.csv"
    path.write_text("iso,market,location,interval_start\nPJM,DAM,WESTERN HUB,2025-01-01T00:00:00Z\n")

    inferred = runner.invoke(app, ["ingest", str(path), "--data-dir", str(tmp_path / "data")])
    named = runner.invoke(app, ["ingest", str(path), "--dataset", "lmp", "--data-dir", str(tmp_path / "d")])

    assert inferred.exit_code == 1
    assert "closest is lmp, which also needs: interval_end, lmp" in _flat(inferred.output)
    assert named.exit_code == 1
    assert "[missing_column] required column(s) absent: interval_end, lmp" in _flat(named.output)


def test_unsupported_formats_point_to_the_connectors(runner: CliRunner, tmp_path: Path) -> None:
    archive = tmp_path / "DAM_LMP.zip"
    archive.write_bytes(b"PK\x03\x04" + b"\x00" * 40)
    report = tmp_path / "report.xml"
    report.write_text('<?xml version="1.0"?><report/>')
    doc = tmp_path / "prices.json"
    doc.write_text('{"data": []}')

    result = runner.invoke(
        app, ["ingest", str(archive), str(report), str(doc), "--data-dir", str(tmp_path / "data")]
    )

    assert result.exit_code == 1
    out = _flat(result.output)
    assert "DAM_LMP.zip: is a zip archive; without --iso, ingest reads" in out
    assert "report.xml: is an XML/HTML document" in out
    assert "prices.json: is a JSON document" in out
    assert "3 of 3 file(s) rejected" in out


def test_mixed_good_and_bad_files(runner: CliRunner, tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    good = write_lmp_csv(tmp_path / "good.csv", lmp_table(hours=24), offset="-05:00")
    garbled = tmp_path / "garbled.csv"
    garbled.write_text("iso,market,location\nPJM,DAM\nPJM,DAM,A,B,C\n")
    missing = tmp_path / "missing.csv"

    result = runner.invoke(
        app, ["ingest", str(garbled), str(good), str(missing), "--data-dir", str(data_dir)]
    )

    assert result.exit_code == 1
    out = _flat(result.output)
    assert "good.csv │ lmp │ 24 │ 24 │ 0 │ written" in out
    assert "garbled.csv: cannot read it as CSV" in out
    assert "missing.csv: no such file" in out
    assert "2 of 3 file(s) rejected" in out
    assert _read(data_dir).num_rows == 24


def test_no_files_is_a_usage_error(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(app, ["ingest", "--data-dir", str(tmp_path / "data")])
    assert result.exit_code == 2
    words = " ".join(w for w in result.output.split() if w.strip("│╭╮╰╯─"))  # drop the Rich panel's borders
    assert "give files to ingest, or --iso with --dataset" in words


def test_unknown_dataset_is_a_usage_error(runner: CliRunner, tmp_path: Path) -> None:
    path = write_lmp_csv(tmp_path / "good.csv", lmp_table(hours=1), offset="Z")
    result = runner.invoke(app, ["ingest", str(path), "--dataset", "lmps", "--data-dir", str(tmp_path / "d")])
    assert result.exit_code == 2
    assert "--dataset" in result.output


def test_data_dir_from_environment(runner: CliRunner, tmp_path: Path) -> None:
    data_dir = tmp_path / "from-env"
    path = write_lmp_csv(tmp_path / "good.csv", lmp_table(hours=6), offset="Z")

    result = runner.invoke(app, ["ingest", str(path)], env={"CARBON254_DATA_DIR": str(data_dir)})

    assert result.exit_code == 0, result.output
    assert _read(data_dir).num_rows == 6
