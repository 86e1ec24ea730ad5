"""A writer killed with SIGKILL mid-write leaves the store exactly as it was."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pyarrow as pa
from store_tables import lmp_table, utc

from carbon254.store import ParquetStore
from carbon254.store.manifest import ManifestFile

# Two UTC years, so the batch spans two partitions and the writer produces two
# files before it commits: a kill between them must not expose the first.
WRITER = textwrap.dedent(
    """
    import sys
    from datetime import timedelta
    sys.path.insert(0, {tests!r})
    from store_tables import lmp_table, utc
    from carbon254.store import ParquetStore
    table = lmp_table([f"N{{i:04d}}" for i in range(400)], utc(2025, 7, 1), 8760)
    print("ready", flush=True)
    ParquetStore({root!r}).write("lmp", table)
    print("done", flush=True)
    """
)


def _snapshot(root: Path) -> tuple[int, int]:
    store = ParquetStore(root)
    try:
        table = store.read("lmp", "ERCOT", "DAM", None, utc(2024, 1, 1), utc(2027, 1, 1))
        return table.num_rows, ManifestFile(root / "store").current().version
    finally:
        store.close()


def _kill_when(root: Path, proc: subprocess.Popen[str], predicate_name: str, deadline_s: float = 120) -> bool:
    """SIGKILL the writer once the named condition holds; False if it finished first."""
    assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    known = set((root / "store").rglob("*.parquet"))
    stop = time.monotonic() + deadline_s
    while time.monotonic() < stop:
        if proc.poll() is not None:
            return False
        new = set((root / "store").rglob("*.parquet")) - known
        if predicate_name == "first-file" and new:
            break
        if predicate_name == "staging" and time.monotonic() > stop - deadline_s + 0.8:
            break
        time.sleep(0.002)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    return True


def _run_and_kill(root: Path, when: str) -> bool:
    script = WRITER.format(tests=str(Path(__file__).parent), root=str(root))
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    return _kill_when(root, proc, when)


def test_kill_during_file_writes_leaves_previous_state(tmp_path: Path) -> None:
    ParquetStore(tmp_path).write("lmp", lmp_table(["HB_NORTH"], utc(2025, 1, 1), 24))
    before = _snapshot(tmp_path)
    assert before[0] == 24

    killed = _run_and_kill(tmp_path, "first-file")
    assert killed, "writer finished before it could be killed"
    assert _snapshot(tmp_path) == before
    orphans = set((tmp_path / "store").rglob("*.parquet"))
    assert len(orphans) > 1  # the killed writer did leave files behind, unreferenced

    # The lock died with the writer: the next write goes through, and vacuum
    # removes what the killed writer left.
    store = ParquetStore(tmp_path)
    assert store.write("lmp", lmp_table(["HB_SOUTH"], utc(2025, 1, 1), 24)).rows_written == 24
    assert store.vacuum(grace_s=0) >= 1
    assert _snapshot(tmp_path)[0] == 48
    manifest = ManifestFile(tmp_path / "store").current()
    referenced = {f.path for f in manifest.files} | {manifest.catalog} | {r.path for r in manifest.retired}
    on_disk = {p.relative_to(tmp_path / "store").as_posix() for p in (tmp_path / "store").rglob("*.parquet")}
    assert on_disk <= referenced


def test_kill_while_staging_leaves_previous_state(tmp_path: Path) -> None:
    ParquetStore(tmp_path).write("lmp", lmp_table(["HB_NORTH"], utc(2025, 1, 1), 24))
    before = _snapshot(tmp_path)
    assert _run_and_kill(tmp_path, "staging")
    assert _snapshot(tmp_path) == before
    table: pa.Table = ParquetStore(tmp_path).read(
        "lmp", "ERCOT", "DAM", None, utc(2025, 1, 1), utc(2025, 1, 2)
    )
    assert table.column("location").to_pylist() == ["HB_NORTH"] * 24
