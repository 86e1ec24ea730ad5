"""Writes are atomic (a SIGKILLed writer leaves the store as it was), validated whole and idempotent."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pytest
from contract_backends import Backend
from store_tables import lmp_table, utc

from carbon254.schema import ValidationError
from carbon254.store import Store

YEAR = (utc(2025, 1, 1), utc(2026, 1, 1))

# Two UTC years, so the batch spans two partitions (two files in the embedded
# store) and takes long enough to write that it can be killed in the middle.
WRITER = textwrap.dedent(
    """
    import sys
    sys.path.insert(0, {tables!r})
    from store_tables import lmp_table, utc
    from carbon254.store import open_store
    store = open_store({url!r}, {directory!r})
    table = lmp_table([f"N{{i:04d}}" for i in range(400)], utc(2025, 7, 1), 8760)
    print("ready", flush=True)
    store.write("lmp", table)
    print("done", flush=True)
    """
)


def _read(store: Store, locations: list[str] | None = None, **kw: object) -> pa.Table:
    return store.read("lmp", "ERCOT", "DAM", locations, *YEAR, **kw)  # type: ignore[arg-type]


def _snapshot(backend: Backend) -> tuple[int, str, str]:
    """Rows stored, the change feed's head and a data version, from a fresh store object."""
    store = backend.open()
    try:
        rows = store.read("lmp", "ERCOT", "DAM", None, utc(2024, 1, 1), utc(2027, 1, 1)).num_rows
        version = store.data_version("lmp", "ERCOT", "DAM", utc(2024, 1, 1), utc(2027, 1, 1))
        return rows, store.change_cursor(), version
    finally:
        store.close()


def _kill_writer(backend: Backend, when: Callable[[], bool], deadline_s: float = 120) -> bool:
    """Start a writer process, SIGKILL it once `when()` holds; False if it finished first."""
    script = WRITER.format(
        tables=str(Path(__file__).resolve().parents[1]), url=backend.url, directory=str(backend.directory)
    )
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    stop = time.monotonic() + deadline_s
    while time.monotonic() < stop and not when():
        if proc.poll() is not None:
            return False
        time.sleep(0.002)
    if proc.poll() is not None:
        return False
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    return True


def _after(seconds: float) -> Callable[[], bool]:
    at = time.monotonic() + seconds
    return lambda: time.monotonic() >= at


@pytest.mark.parametrize("moment", ["persisting", "early"])
def test_a_writer_killed_mid_write_leaves_the_store_as_it_was(backend: Backend, moment: str) -> None:
    first = backend.open()
    first.write("lmp", lmp_table(["HB_NORTH"], utc(2025, 1, 1), 24))
    first.close()
    before = _snapshot(backend)
    assert before[0] == 24

    probe = backend.harness.write_persisting
    when = probe(backend.directory) if moment == "persisting" and probe is not None else _after(0.8)
    assert _kill_writer(backend, when), "the writer finished before it could be killed"
    assert _snapshot(backend) == before

    # Whatever the killed writer held (a lock, half-written storage) does not block the next one.
    store = backend.open()
    try:
        assert store.write("lmp", lmp_table(["HB_SOUTH"], utc(2025, 1, 1), 24)).rows_written == 24
        assert store.read("lmp", "ERCOT", "DAM", None, *YEAR).column("location").to_pylist() == (
            ["HB_NORTH"] * 24 + ["HB_SOUTH"] * 24
        )
    finally:
        store.close()


def _with(table: pa.Table, column: str, row: int, value: object) -> pa.Table:
    values = table.column(column).to_pylist()
    values[row] = value
    field = table.schema.field(column)
    return table.set_column(table.schema.get_field_index(column), field, pa.array(values, field.type))


def test_a_bad_batch_is_rejected_whole_and_writes_nothing(store: Store) -> None:
    head = store.change_cursor()
    good = lmp_table(["HB_NORTH", "HB_SOUTH"], utc(2025, 1, 1), 24)
    with pytest.raises(ValidationError):
        store.write("lmp", _with(good, "lmp", 30, 1e9))
    assert _read(store).num_rows == 0
    assert store.change_cursor() == head
    assert store.locations().num_rows == 0


def test_conflicting_duplicate_keys_reject_the_batch(store: Store) -> None:
    head = store.change_cursor()
    good = lmp_table(["HB_NORTH", "HB_SOUTH"], utc(2025, 1, 1), 24)
    twice = pa.concat_tables([good, _with(good.slice(5, 1), "lmp", 0, good.column("lmp")[5].as_py() + 1)])
    twice = _with(twice, "energy", good.num_rows, None)  # keep the components rule out of the way
    with pytest.raises(ValidationError) as caught:
        store.write("lmp", twice)
    rows = [v.rows for v in caught.value.violations if v.rule == "duplicate_key"]
    assert rows and set(rows[0]) == {5, good.num_rows}
    assert _read(store).num_rows == 0 and store.change_cursor() == head

    # An exact repeat of a row is harmless and stored once.
    result = store.write("lmp", pa.concat_tables([good, good.slice(0, 3)]))
    assert result.rows_written == good.num_rows
    assert _read(store).num_rows == good.num_rows


def test_same_rows_twice_leave_the_store_unchanged(store: Store) -> None:
    t = lmp_table(["HB_NORTH", "HB_WEST"], utc(2025, 1, 1), 48)
    first = store.write("lmp", t)
    assert (first.rows_received, first.rows_written, first.revisions) == (96, 96, 0)
    head = store.change_cursor()
    version = store.data_version("lmp", "ERCOT", "DAM", *YEAR)

    again = store.write("lmp", t)
    assert (again.rows_received, again.rows_written, again.rows_unchanged, again.revisions) == (96, 0, 96, 0)
    assert store.change_cursor() == head  # nothing was committed
    assert store.data_version("lmp", "ERCOT", "DAM", *YEAR) == version
    assert store.changes_since(head).batches == ()

    # Overlapping batch: only the new hours are stored.
    more = store.write("lmp", lmp_table(["HB_NORTH", "HB_WEST"], utc(2025, 1, 1), 72))
    assert (more.rows_written, more.revisions) == (48, 0)
    assert _read(store).num_rows == 144


def test_an_empty_batch_is_a_no_op(store: Store) -> None:
    head = store.change_cursor()
    result = store.write("lmp", lmp_table(["HB_NORTH"], utc(2025, 1, 1), 24).slice(0, 0))
    assert (result.rows_received, result.rows_written) == (0, 0)
    assert store.change_cursor() == head


def test_readers_never_see_a_partial_batch(backend: Backend, store: Store) -> None:
    reader = backend.open()  # as a service process would hold its own store
    locations = [f"N{i:03d}" for i in range(50)]
    seen: list[int] = []
    stop = threading.Event()

    def read_loop() -> None:
        while not stop.is_set():
            seen.append(_read(reader).num_rows)

    thread = threading.Thread(target=read_loop)
    thread.start()
    try:
        for day in range(8):
            store.write("lmp", lmp_table(locations, utc(2025, 4, 1) + timedelta(days=day), 24))
    finally:
        stop.set()
        thread.join()
    batch = len(locations) * 24
    assert seen and all(n % batch == 0 for n in seen)
    assert _read(reader).num_rows == 8 * batch
    assert pc.min(_read(reader).column("lmp")).as_py() > 0
    reader.close()
