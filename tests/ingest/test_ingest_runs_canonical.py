"""Run-stamped markets arriving as canonical files, from the command line, and in any batching or order."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sced_runs import NOMINAL, RUNS, assert_tiled, ended, needs_real, sced
from typer.testing import CliRunner

from carbon254.cli.main import app
from carbon254.ingest import read_canonical_file, write_canonical
from carbon254.schema import TIMESTAMP, ValidationError
from carbon254.store import open_store
from carbon254.store.parquet import ParquetStore

T0 = datetime(2025, 8, 1, 17, tzinfo=UTC)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[ParquetStore]:
    s = open_store(tmp_path)
    yield s
    s.close()


def runs_table(
    rows: list[tuple[str, datetime, float]],
    *,
    market: str = "SCED",
    length: timedelta = NOMINAL,
    published: datetime | None = None,
    location_type: bool = True,
) -> pa.Table:
    """Canonical ERCOT lmp rows (location, run start, LMP $/MWh), each given `length` as its interval."""
    columns: dict[str, pa.Array | list[object]] = {
        "iso": ["ERCOT"] * len(rows),
        "market": [market] * len(rows),
        "location": [r[0] for r in rows],
        "interval_start": pa.array([r[1] for r in rows], TIMESTAMP),
        "interval_end": pa.array([r[1] + length for r in rows], TIMESTAMP),
        "lmp": [r[2] for r in rows],
        "published_at": pa.array([published] * len(rows), TIMESTAMP),
    }
    if location_type:
        columns["location_type"] = ["hub"] * len(rows)
    return pa.table(columns)


def latest(store: ParquetStore, market: str = "SCED") -> list[tuple[str, datetime, datetime]]:
    table = store.read("lmp", "ERCOT", market, None, T0 - timedelta(days=1), T0 + timedelta(days=1))
    return list(
        zip(
            table.column("location").to_pylist(),
            table.column("interval_start").to_pylist(),
            table.column("interval_end").to_pylist(),
            strict=True,
        )
    )


def test_canonical_batches_end_runs_and_leave_other_markets_alone(store: ParquetStore) -> None:
    second = T0 + timedelta(minutes=2)
    write_canonical(store, "lmp", runs_table([("HB_NORTH", T0, 30.0)], published=T0))
    # One canonical batch: the next SCED run (without location_type) and a day-ahead hour, which is
    # not a run and stays whole.
    dam = runs_table([("HB_NORTH", T0, 25.0)], market="DAM", length=timedelta(hours=1))
    sced_run = runs_table([("HB_NORTH", second, 31.0)], published=second, location_type=False)
    result = write_canonical(store, "lmp", pa.concat_tables([dam.drop_columns(["location_type"]), sced_run]))
    assert result.rows_received == 3 and result.revisions == 1
    assert latest(store) == [("HB_NORTH", T0, second), ("HB_NORTH", second, second + NOMINAL)]
    assert latest(store, "DAM") == [("HB_NORTH", T0, T0 + timedelta(hours=1))]
    cut = store.read("lmp", "ERCOT", "SCED", None, T0, second)
    # The cut run keeps the location type it was stored with; it is known from the next run's publication.
    assert cut.column("location_type").to_pylist() == ["hub"]
    assert cut.column("published_at").to_pylist() == [second]


def test_a_canonical_run_longer_than_its_nominal_length_is_capped(store: ParquetStore) -> None:
    write_canonical(store, "lmp", runs_table([("HB_NORTH", T0, 30.0)], length=timedelta(minutes=12)))
    assert latest(store) == [("HB_NORTH", T0, T0 + NOMINAL)]


def test_a_bad_canonical_batch_of_runs_is_refused_naming_its_rows(store: ParquetStore) -> None:
    table = runs_table([("HB_NORTH", T0, 30.0), ("HB_NORTH", T0 + timedelta(minutes=1), 31.0)])
    backwards = pc.subtract(table.column("interval_start"), pa.scalar(timedelta(minutes=1)))
    table = table.set_column(table.schema.get_field_index("interval_end"), "interval_end", backwards)
    with pytest.raises(ValidationError) as err:
        write_canonical(store, "lmp", table)
    assert [(v.rule, v.rows) for v in err.value.violations] == [("interval_order", (0, 1))]
    assert latest(store) == []


@pytest.fixture
def runner(monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    for name in list(os.environ):
        if name.startswith("CARBON254_"):
            monkeypatch.delenv(name)
    return CliRunner()


def test_canonical_files_from_the_command_line_end_runs_across_files(
    runner: CliRunner, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    second = T0 + timedelta(seconds=150)
    for name, rows in (("a.csv", [("HB_WEST", T0, 40.0)]), ("b.csv", [("HB_WEST", second, 41.0)])):
        pacsv.write_csv(runs_table(rows), tmp_path / name)
        assert read_canonical_file(tmp_path / name).table.num_rows == 1
        result = runner.invoke(app, ["ingest", str(tmp_path / name), "--data-dir", str(data)])
        assert result.exit_code == 0, result.output
    s = open_store(data)
    try:
        assert latest(s) == [("HB_WEST", T0, second), ("HB_WEST", second, second + NOMINAL)]
    finally:
        s.close()


@needs_real
def test_native_files_from_the_command_line_end_runs_across_ingests(
    runner: CliRunner, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    for run in (RUNS[1], RUNS[0], RUNS[3], RUNS[2]):  # out of order, one command each
        path = tmp_path / run.name
        path.write_bytes(run.data())
        result = runner.invoke(app, ["ingest", str(path), "--iso", "ERCOT", "--data-dir", str(data)])
        assert result.exit_code == 0, result.output
    s = open_store(data)
    try:
        assert_tiled(sced(s), ended(RUNS))
    finally:
        s.close()


# --- any batching, any order ------------------------------------------------------------------

LOCATIONS = ("HB_NORTH", "HB_WEST", "LZ_AEN")
# Run times in seconds from T0: re-runs seconds apart, regular runs, and missing ones.


def run_times(most: int) -> st.SearchStrategy[list[int]]:
    return st.lists(st.integers(min_value=0, max_value=1800), min_size=1, max_size=most, unique=True)


def expected(times: dict[str, list[int]]) -> list[tuple[str, datetime, datetime]]:
    """Each run ends at its location's next run, at most 5 minutes after its start."""
    out = []
    for location in sorted(times):
        starts = sorted(times[location])
        for s, n in zip(starts, [*starts[1:], None], strict=True):
            end = s + 300 if n is None else min(s + 300, n)
            out.append((location, T0 + timedelta(seconds=s), T0 + timedelta(seconds=end)))
    return out


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    times=st.fixed_dictionaries({loc: run_times(12) for loc in LOCATIONS}),
    batches=st.integers(min_value=1, max_value=4),
    data=st.data(),
)
def test_any_batching_and_order_of_runs_ends_them_alike(
    times: dict[str, list[int]], batches: int, data: st.DataObject
) -> None:
    rows = [(loc, s) for loc in LOCATIONS for s in times[loc]]
    order = data.draw(st.permutations(rows))
    cuts = sorted(data.draw(st.lists(st.integers(0, len(order)), min_size=batches - 1, max_size=batches - 1)))
    parts = [order[a:b] for a, b in zip([0, *cuts], [*cuts, len(order)], strict=True)]
    with tempfile.TemporaryDirectory() as tmp:
        s = open_store(Path(tmp))
        try:
            for part in parts:
                if part:
                    rows_ = [(loc, T0 + timedelta(seconds=sec), float(sec % 97)) for loc, sec in part]
                    write_canonical(s, "lmp", runs_table(rows_))
            stored = latest(s)
        finally:
            s.close()
    assert stored == expected(times)


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(times=st.fixed_dictionaries({loc: run_times(6) for loc in LOCATIONS[:2]}))
def test_runs_arriving_in_order_show_as_of_each_arrival_what_was_known(times: dict[str, list[int]]) -> None:
    arrivals = sorted({sec for secs in times.values() for sec in secs})
    with tempfile.TemporaryDirectory() as tmp:
        s = open_store(Path(tmp))
        try:
            for sec in arrivals:
                at = T0 + timedelta(seconds=sec)
                rows_ = [(loc, at, 30.0) for loc in LOCATIONS[:2] if sec in times[loc]]
                write_canonical(s, "lmp", runs_table(rows_, published=at + timedelta(seconds=1)))
            for sec in arrivals:
                known = {loc: [x for x in secs if x <= sec] for loc, secs in times.items()}
                seen = s.read(
                    "lmp",
                    "ERCOT",
                    "SCED",
                    None,
                    T0,
                    T0 + timedelta(hours=1),
                    as_of=T0 + timedelta(seconds=sec + 1),
                )
                got = list(
                    zip(
                        seen.column("location").to_pylist(),
                        seen.column("interval_start").to_pylist(),
                        seen.column("interval_end").to_pylist(),
                        strict=True,
                    )
                )
                assert got == expected({loc: secs for loc, secs in known.items() if secs})
        finally:
            s.close()
