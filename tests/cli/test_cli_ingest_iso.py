"""`carbon254 ingest` on native ISO data, end to end through real processes and a local replay server.

Uses NYISO's real files from ../shared/data/iso/nyiso (never copied): the
November 2022 real-time zonal archive (with the fall-back day) and the
2022-03-13 spring-forward file, served under NYISO's URL layout.
"""

from __future__ import annotations

import json
import os
import signal
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cli_helpers import CliProcess, run_cli
from typer.testing import CliRunner

from carbon254.cli.main import app
from carbon254.isos import Iso
from carbon254.replay import Fault, FaultKind, ReplayServer
from carbon254.replay.sites import routes_for
from carbon254.store import open_store
from shared_data import SHARED_DATA

NYISO_FILES = SHARED_DATA / "iso" / "nyiso"
ARCHIVE = NYISO_FILES / "20221101realtime_zone_csv.zip"
SPRING = NYISO_FILES / "20220313realtime_zone.csv"
pytestmark = pytest.mark.skipif(not ARCHIVE.exists(), reason=f"real NYISO files not found at {NYISO_FILES}")

NOV = datetime(2022, 11, 1, 4, tzinfo=UTC)  # midnight EDT
DEC = datetime(2022, 12, 1, 5, tzinfo=UTC)


@pytest.fixture
def replay() -> Iterator[ReplayServer]:
    with ReplayServer(routes_for(Iso.NYISO, [NYISO_FILES])) as server:
        yield server


def env_for(server: ReplayServer, data_dir: Path) -> dict[str, str]:
    return {
        "CARBON254_NYISO_URL": server.url,
        "CARBON254_DATA_DIR": str(data_dir),
        "CARBON254_ISO_MIN_INTERVAL_S": "0",
        "CARBON254_ISO_RETRIES": "2",
        "COLUMNS": "200",
    }


def rt5_rows(data_dir: Path, start: datetime = NOV, end: datetime = DEC) -> int:
    store = open_store(data_dir)
    try:
        return store.read("lmp", "NYISO", "RT5", None, start, end).num_rows
    finally:
        store.close()


def test_native_files_are_detected_parsed_and_written_once(runner: CliRunner, tmp_path: Path) -> None:
    data = tmp_path / "data"
    first = runner.invoke(
        app, ["ingest", str(ARCHIVE), str(SPRING), "--iso", "NYISO", "--data-dir", str(data)]
    )
    assert first.exit_code == 0, first.output
    assert "realtime_zone" in first.output and "written" in first.output
    assert rt5_rows(data) == 132_855
    spring = rt5_rows(data, datetime(2022, 3, 13, 5, tzinfo=UTC), datetime(2022, 3, 14, 4, tzinfo=UTC))
    assert spring == 4_335  # every data line of the file, one row each
    again = runner.invoke(app, ["ingest", str(ARCHIVE), "--iso", "nyiso", "--data-dir", str(data)])
    assert again.exit_code == 0 and "unchanged" in again.output
    assert rt5_rows(data) == 132_855
    catalog = open_store(data).locations("NYISO")
    types = dict(
        zip(catalog.column("location").to_pylist(), catalog.column("location_type").to_pylist(), strict=True)
    )
    assert types["N.Y.C."] == "zone" and types["H Q"] == "interface"


def test_a_native_file_that_fails_to_parse_is_quarantined_and_the_rest_written(
    runner: CliRunner, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    broken = tmp_path / "20220314realtime_zone.csv"
    lines = SPRING.read_bytes().splitlines(keepends=True)
    broken.write_bytes(
        b"".join([*lines[:10], b'03/14/2022 00:50:00,"WEST",61752,not-a-price,1.0,2.0\n', *lines[10:]])
    )
    unknown = tmp_path / "notes.csv"
    unknown.write_text("a,b\n1,2\n")
    result = runner.invoke(
        app, ["ingest", str(SPRING), str(broken), str(unknown), "--iso", "NYISO", "--data-dir", str(data)]
    )
    assert result.exit_code == 1
    out = " ".join(result.output.split())
    assert "Quarantined 20220314realtime_zone.csv" in out and "not a NYISO report" in out
    kept = list((data / "quarantine" / "NYISO").glob("*20220314realtime_zone.csv"))
    assert len(kept) == 1 and kept[0].read_bytes() == broken.read_bytes()
    assert json.loads(kept[0].with_name(kept[0].name + ".error.json").read_text())["report"]
    assert rt5_rows(data, datetime(2022, 3, 13, 5, tzinfo=UTC), datetime(2022, 3, 15, tzinfo=UTC)) == 4_335


def test_download_fills_the_store_and_a_second_run_changes_nothing(
    replay: ReplayServer, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    args = ["ingest", "--iso", "NYISO", "--dataset", "lmp", "--market", "RT5", "--start", "2022-11-05"]
    first = run_cli(*args, "--end", "2022-11-08", env=env_for(replay, data))
    assert first.returncode == 0, first.stdout + first.stderr
    assert "3 day(s) fetched, 0 already done" in " ".join(first.stdout.split())
    rows = rt5_rows(data)
    assert rows == 4_515 + 4_530 + 4_410  # each day file's rows; 2022-11-06 holds the repeated hour
    files = sorted(p.name for p in (data / "store").rglob("*.parquet"))
    second = run_cli(*args, "--end", "2022-11-08", env=env_for(replay, data))
    assert second.returncode == 0
    assert "0 day(s) fetched, 3 already done" in " ".join(second.stdout.split())
    assert rt5_rows(data) == rows
    assert sorted(p.name for p in (data / "store").rglob("*.parquet")) == files


def test_a_killed_download_resumes_where_it_stopped(replay: ReplayServer, tmp_path: Path) -> None:
    data = tmp_path / "data"
    # Hold the fourth day's request long enough to kill the process in the middle of it.
    replay.inject(Fault(FaultKind.TIMEOUT, "20221104", delay_s=30))
    args = ["ingest", "--iso", "NYISO", "--dataset", "lmp", "--market", "RT5"]
    proc = CliProcess(*args, "--start", "2022-11-01", "--end", "2022-11-08", env=env_for(replay, data))
    marks = data / "ingest" / "watermarks.json"
    deadline = time.monotonic() + 60
    while not any("20221104" in r.path for r in replay.requests):  # day 4 is in hand, days 1-3 committed
        assert time.monotonic() < deadline, proc.output
        time.sleep(0.05)
    os.kill(proc.proc.pid, signal.SIGKILL)
    proc.proc.wait(timeout=10)
    assert json.loads(marks.read_text())["NYISO/lmp/RT5"] == ["2022-11-01", "2022-11-02", "2022-11-03"]
    replay.requests.clear()
    rerun = run_cli(*args, "--start", "2022-11-01", "--end", "2022-11-08", env=env_for(replay, data))
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert "4 day(s) fetched, 3 already done" in " ".join(rerun.stdout.split())
    asked = " ".join(r.path for r in replay.requests)
    assert "20221103" not in asked and "20221104" in asked
    clean = tmp_path / "clean"
    assert (
        run_cli(*args, "--start", "2022-11-01", "--end", "2022-11-08", env=env_for(replay, clean)).returncode
        == 0
    )
    assert rt5_rows(data) == rt5_rows(clean)


def test_download_reports_unreachable_days_and_exits_1(replay: ReplayServer, tmp_path: Path) -> None:
    replay.inject(Fault(FaultKind.ERROR_500, "realtime_zone_csv.zip", times=2))
    data = tmp_path / "data"
    result = run_cli(
        "ingest", "--iso", "NYISO", "--dataset", "lmp", "--market", "RT5", "--start", "2022-11-02",
        "--end", "2022-11-03", env=env_for(replay, data),
    )  # fmt: skip
    assert result.returncode == 1
    assert "Download failed 2022-11-02" in result.stderr and "HTTP 500" in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--dataset", "lmp", "--market", "RT7"], "NYISO has no download for lmp/RT7"),
        (["--dataset", "lmp"], "needs --dataset and --market"),
        (
            ["--dataset", "lmp", "--market", "RT5", "--start", "2022-11-05", "--end", "2022-11-05"],
            "must be after",
        ),
        (
            ["--dataset", "lmp", "--market", "RT5", "--start", "11/05/2022", "--end", "2022-11-06"],
            "not a date",
        ),
    ],
)
def test_bad_download_options_are_refused_clearly(
    runner: CliRunner, tmp_path: Path, args: list[str], message: str
) -> None:
    base = ["--start", "2022-11-05", "--end", "2022-11-06"] if "--start" not in args else []
    result = runner.invoke(app, ["ingest", "--iso", "NYISO", *args, *base, "--data-dir", str(tmp_path)])
    assert result.exit_code != 0
    # Usage errors come in a Rich panel: drop its borders before reading the words.
    words = " ".join(w for w in result.output.split() if w.strip("│╭╮╰╯─"))
    assert message in words


def test_follow_polls_and_stops_after_the_given_rounds(replay: ReplayServer, tmp_path: Path) -> None:
    data = tmp_path / "data"
    result = run_cli(
        "ingest", "--follow", "--iso", "NYISO", "--dataset", "lmp", "--market", "RT5", "--polls", "1",
        env=env_for(replay, data),
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Following 1 target(s)" in result.stdout
    # Today's files are not in the replay set: the ISO has "published nothing", which is not an error.
    assert any("/public/csv/realtime/" in r.path for r in replay.requests)


QUALITY = ["quality", "--iso", "NYISO", "--market", "RT5", "--start", "2022-11-05", "--end", "2022-11-08"]
QUALITY += ["--format", "json"]


def test_gaps_backfill_fetches_exactly_the_incomplete_days(replay: ReplayServer, tmp_path: Path) -> None:
    data = tmp_path / "data"
    env = env_for(replay, data)
    args = ["ingest", "--iso", "NYISO", "--dataset", "lmp", "--market", "RT5", "--start", "2022-11-05"]
    # Nov 6's file arrives broken (quarantined): that day is a gap in an otherwise complete range.
    replay.inject(Fault(FaultKind.MALFORMED_CSV, "realtime_zone_csv.zip"))
    first = run_cli(
        *args, "--end", "2022-11-08", "--force", env={**env, "CARBON254_NYISO_DAILY_DAYS": "100000"}
    )
    assert first.returncode == 1
    quality = run_cli(*QUALITY, env=env)
    assert quality.returncode == 0, quality.stderr
    days = {d["day"]: d for d in json.loads(quality.stdout)["days"]}
    incomplete = sorted(day for day, d in days.items() if d["completeness"] is None or d["completeness"] < 1)
    assert incomplete == ["2022-11-05"]
    replay.requests.clear()
    fill = run_cli(*args, "--end", "2022-11-08", "--gaps", env=env)
    assert fill.returncode == 0, fill.stdout + fill.stderr
    assert "1 day(s) with gaps" in fill.stdout
    assert {r.path.rsplit("/", 1)[-1] for r in replay.requests} <= {
        "20221101realtime_zone_csv.zip", "20221105realtime_zone.csv", "20221101realtime_gen_csv.zip",
        "20221105realtime_gen.csv",
    }  # fmt: skip
    again = json.loads(run_cli(*QUALITY, env=env).stdout)
    # What remains is NYISO's own gap: its 2022-11-05 file has no 23:10 EDT stamp (the 23:05-23:10 interval).
    assert [d["completeness"] for d in again["days"]] == [287 / 288, 1, 1]
    (gap,) = again["days"][0]["gaps"]
    assert (gap["start"], gap["end"], gap["locations"]) == (
        "2022-11-06T03:05:00Z",
        "2022-11-06T03:10:00Z",
        15,
    )
