"""Every ISO file the tests hold, real or hand-made, goes through the full ingest path cleanly.

Parser tests check values; this checks what only the store enforces: one
row per key within a payload (so a day is never refused whole), the
report detected from the file alone, and the rows accepted as one batch.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from carbon254.ingest.ledger import IngestLedger
from carbon254.ingest.native import NativeIngest
from carbon254.ingest.quarantine import Quarantine
from carbon254.isos import Iso
from carbon254.markets.registry import detect_report
from carbon254.store import open_store
from shared_data import SHARED_DATA

FIXTURES = Path(__file__).parent / "fixtures"
REAL = SHARED_DATA / "iso"
# Files kept on purpose to show a failure (an OASIS error answer, a broken row).
EXPECTED_TO_FAIL = ("error", "bad", "broken", "malformed", "invalid")


def files() -> list[tuple[Iso, Path]]:
    found = []
    for iso in Iso:
        for root in (FIXTURES / iso.value.lower(), REAL / iso.value.lower()):
            if root.is_dir():
                found += [
                    (iso, p)
                    for p in sorted(root.iterdir())
                    if p.is_file() and p.suffix.lower() in (".csv", ".zip", ".json", ".xml")
                ]
    return found


@pytest.mark.parametrize(("iso", "path"), files(), ids=lambda v: v.name if isinstance(v, Path) else str(v))
def test_file_ingests_as_one_batch(iso: Iso, path: Path, tmp_path: Path) -> None:
    if any(word in path.name.lower() for word in EXPECTED_TO_FAIL):
        pytest.skip("a file kept to show a failure")
    data = path.read_bytes()
    report = detect_report(iso, path.name, data)
    store = open_store(tmp_path)
    try:
        ingest = NativeIngest(store, IngestLedger(tmp_path), Quarantine(tmp_path))
        outcome = ingest.ingest(report, path.name, data)
    finally:
        store.close()
    assert outcome.ok, outcome.error
    assert outcome.entry.rows_written == outcome.entry.rows - outcome.entry.duplicates
