"""After a writer is killed mid-write, the files it left are unreferenced and `vacuum` removes them.

That the store reads exactly as before the kill is in the contract suite
(`contract/test_contract_writes.py`); this is the embedded store's cleanup.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from store_tables import lmp_table, utc

from carbon254.store import ParquetStore
from carbon254.store.manifest import ManifestFile

# Two UTC years: the writer produces two files before it commits, and is killed after the first.
WRITER = textwrap.dedent(
    """
    import sys
    sys.path.insert(0, {tests!r})
    from store_tables import lmp_table, utc
    from carbon254.store import ParquetStore
    table = lmp_table([f"N{{i:04d}}" for i in range(400)], utc(2025, 7, 1), 8760)
    print("ready", flush=True)
    ParquetStore({root!r}).write("lmp", table)
    print("done", flush=True)
    """
)


def _kill_after_first_file(root: Path, deadline_s: float = 120) -> bool:
    """Run the writer and SIGKILL it once it has written a file; False if it finished first."""
    script = WRITER.format(tests=str(Path(__file__).parent), root=str(root))
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    known = set((root / "store").rglob("*.parquet"))
    stop = time.monotonic() + deadline_s
    while time.monotonic() < stop and not set((root / "store").rglob("*.parquet")) - known:
        if proc.poll() is not None:
            return False
        time.sleep(0.002)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    return True


def _unreferenced(root: Path) -> set[str]:
    """Parquet files under the store that its manifest does not name."""
    manifest = ManifestFile(root / "store").current()
    referenced = {f.path for f in manifest.files} | {manifest.catalog} | {r.path for r in manifest.retired}
    on_disk = {p.relative_to(root / "store").as_posix() for p in (root / "store").rglob("*.parquet")}
    return on_disk - referenced


def test_vacuum_removes_what_a_killed_writer_left(tmp_path: Path) -> None:
    ParquetStore(tmp_path).write("lmp", lmp_table(["HB_NORTH"], utc(2025, 1, 1), 24))
    before = ManifestFile(tmp_path / "store").current()
    assert _kill_after_first_file(tmp_path), "writer finished before it could be killed"
    assert ManifestFile(tmp_path / "store").current() == before  # never committed
    orphans = _unreferenced(tmp_path)
    assert orphans  # the killed writer did leave files behind, unreferenced

    store = ParquetStore(tmp_path)
    assert store.write("lmp", lmp_table(["HB_SOUTH"], utc(2025, 1, 1), 24)).rows_written == 24
    assert store.vacuum(grace_s=0) >= len(orphans)  # the catalog the second write replaced goes too
    assert store.read("lmp", "ERCOT", "DAM", None, utc(2024, 1, 1), utc(2027, 1, 1)).num_rows == 48
    assert _unreferenced(tmp_path) == set()
