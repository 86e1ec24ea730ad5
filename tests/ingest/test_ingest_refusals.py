"""What a native payload's parser cannot map is counted, not fatal; what is refused is always quarantined."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from carbon254.cli.main import app
from carbon254.ingest.ledger import IngestLedger, PayloadStatus
from carbon254.ingest.native import NativeIngest
from carbon254.ingest.quarantine import Quarantine
from carbon254.isos import Iso
from carbon254.isos.caiso import reports as caiso
from carbon254.markets.registry import detect_report
from carbon254.markets.report import SkippedRows
from carbon254.store import open_store
from carbon254.store.parquet import ParquetStore
from shared_data import SHARED_DATA

CAISO_FIXTURES = Path(__file__).resolve().parents[1] / "markets" / "fixtures" / "caiso"
NYISO_DAY = SHARED_DATA / "iso" / "nyiso" / "20220313realtime_zone.csv"
needs_nyiso = pytest.mark.skipif(not NYISO_DAY.exists(), reason=f"real NYISO file not present at {NYISO_DAY}")


@pytest.fixture
def store(tmp_path: Path) -> Iterator[ParquetStore]:
    s = open_store(tmp_path)
    yield s
    s.close()


def engine(store: ParquetStore) -> NativeIngest:
    return NativeIngest(store, IngestLedger(store.root), Quarantine(store.root))


def sld_fcst_answer(*extra: str) -> bytes:
    """One SLD_FCST CSV with every market run OASIS answers for the fall-back day, RTM included."""
    files = [
        (CAISO_FIXTURES / f"SLD_FCST_{r}_20241103.csv").read_bytes()
        for r in ("ACTUAL", "DAM", "2DA", "7DA", "RTM")
    ]
    head, *rows = files[0].splitlines(keepends=True)
    for body in files[1:]:
        rows += body.splitlines(keepends=True)[1:]
    return b"".join([head, *rows, *(line.encode() + b"\n" for line in extra)])


def test_an_sld_fcst_answer_with_rtm_rows_is_written_whole_and_skips_are_in_the_ledger(
    store: ParquetStore,
) -> None:
    hour = "2024-11-03T08:00:00-00:00,2024-11-03T09:00:00-00:00,0,2024-11-03,2,0"
    hasp = f"{hour},HASP,CA ISO-TAC,x,y,1,9.0,HASP,9"
    name = "20241103_20241104_SLD_FCST_N_20241104_00_00_00_v1.csv"
    outcome = engine(store).ingest(caiso.SLD_FCST, name, sld_fcst_answer(hasp))

    assert outcome.ok, outcome.error
    assert (outcome.entry.rows, outcome.entry.rows_written) == (221, 221)
    assert outcome.entry.skipped == (SkippedRows("MARKET_RUN_ID=HASP", 1),)
    assert sorted(store.markets("load", "CAISO")) == ["actual", "forecast", "forecast_rt15", "forecast_rt5"]
    start, end = datetime(2024, 11, 3, 7, tzinfo=UTC), datetime(2024, 11, 3, 10, tzinfo=UTC)
    assert store.read("load", "CAISO", "forecast_rt5", ["CA ISO-TAC"], start, end).num_rows == 36
    [entry] = IngestLedger(store.root).entries()
    assert entry.status is PayloadStatus.WRITTEN and entry.skipped == outcome.entry.skipped
    assert Quarantine(store.root).list() == []


def test_a_ledger_line_from_before_skips_were_recorded_still_reads(store: ParquetStore) -> None:
    outcome = engine(store).ingest(
        caiso.SLD_FCST, "a.csv", (CAISO_FIXTURES / "SLD_FCST_DAM_20241103.csv").read_bytes()
    )
    line = json.loads(outcome.entry.to_json())
    assert line["skipped"] == []
    del line["skipped"]
    ledger = IngestLedger(store.root)
    ledger.path.write_text(json.dumps(line) + "\n")
    assert [e.skipped for e in ledger.entries()] == [()]


@needs_nyiso
def test_a_corrupted_ptid_is_refused_like_a_corrupted_price(store: ParquetStore) -> None:
    lines = NYISO_DAY.read_bytes().splitlines(keepends=True)
    assert b',"H Q",61844,' in lines[5]
    lines[5] = lines[5].replace(b"61844", b"6184\xc2\xb7corrupted-by-a-bad-transfer")
    data = b"".join(lines)
    report = detect_report(Iso.NYISO, NYISO_DAY.name, data)

    outcome = engine(store).ingest(report, NYISO_DAY.name, data)

    assert not outcome.ok and outcome.quarantined is not None
    assert outcome.quarantined.path.read_bytes() == data
    error = outcome.error or ""
    assert "'PTID'" in error and "data row 5" in error and "6184·corrupted-by-a-..." in error
    assert "bad-transfer" not in error  # a short prefix, not the whole value
    assert store.markets("lmp", "NYISO") == []


def oasis_error_zip() -> bytes:
    xml = (
        '<?xml version="1.0" encoding="UTF-8"?><m:OASISReport xmlns:m="http://www.caiso.com/soa/OASISReport_v1.xsd">'
        "<m:MessagePayload><m:RTO><m:ERROR><m:ERR_CODE>1015</m:ERR_CODE>"
        "<m:ERR_DESC>Timed out waiting for query to complete</m:ERR_DESC></m:ERROR></m:RTO>"
        "</m:MessagePayload></m:OASISReport>"
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("INVALID_REQUEST.xml", xml)
    return buffer.getvalue()


def test_a_native_file_no_report_matches_is_quarantined_with_its_reason(tmp_path: Path) -> None:
    saved = tmp_path / "oasis_answer.zip"
    saved.write_bytes(oasis_error_zip())
    data = tmp_path / "data"

    result = CliRunner().invoke(app, ["ingest", str(saved), "--iso", "CAISO", "--data-dir", str(data)])

    assert result.exit_code == 1
    out = " ".join(result.output.split())
    assert "Quarantined oasis_answer.zip: not a CAISO report" in out
    [kept] = Quarantine(data).list("CAISO")
    assert kept.path.read_bytes() == saved.read_bytes() and kept.report == "unknown"
    assert "not a CAISO report this platform reads" in kept.error
