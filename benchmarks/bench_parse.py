"""(f) Parse throughput of the ISO parsers, side by side with gridstatus on the same bytes.

For each ISO, one LMP report: the largest real file we hold (`../shared/data/iso`)
and, where that file is tiny or there is none, a full-size payload GENERATED IN
THE ISO'S NATIVE LAYOUT (not a real file: names and prices are made up, the
layout, sizes and time conventions are the ISO's). Each payload is the exact
bytes the ISO serves (zip, CSV or JSON), handed to both contenders:

* ours: `report.parse(bytes) -> pyarrow.Table` for each file of the payload;
* gridstatus 0.37.0 (the optional `bench` extra, never a runtime dependency):
  its public LMP method for that report, with every network fetch answered from
  memory with the same bytes (`requests.get`, `requests.Session.get` and
  `pandas.read_csv` of a URL are patched; an unexpected URL fails the case), so
  the time is its download handling + pandas parsing + processing, minus the
  network. Reference lookups it makes besides the payload (PJM pnode directory,
  ERCOT settlement-point mapping) are served as ready DataFrames built from the
  payload's own locations, so they cost it only the merge it does with them.
  Its logger is set to WARNING and tqdm's progress bars are off (both would
  only slow it down).

What is measured, per ISO (ours: the `Report` named; gridstatus: the call named):

* NYISO, real file `20221101realtime_zone_csv.zip` (RT 5-min zonal LBMP, November
  2022, 30 daily CSVs, 132,855 rows). Ours: `realtime_zone`. gridstatus:
  `NYISO().get_lmp(date="2022-11-01", end="2022-12-01", market=REAL_TIME_5_MIN,
  locations="ALL", location_type="zone")`; `utils.get_zip_folder` gets the zip.
  Its 5/15-minute labelling also fetches OASIS `current.csv`: served as 15 rows
  dated 2099, which for a past month marks every row 5-minute, as live.
* CAISO, real rows `seed.csv` (PRC_LMP DAM, 9 rows) zipped as OASIS serves them,
  and generated PRC_LMP v12 DAM, `grp_type=ALL`: 3,000 pnodes x 24 h x 5
  `LMP_TYPE`s = 360,000 CSV rows in one zip. Ours: `PRC_LMP`. gridstatus:
  `CAISO().get_lmp_day_ahead_hourly(date, sleep=0)`: `_get_oasis` gets the zip
  (`Content-Disposition` as OASIS sets it), then its pivot on `LMP_TYPE`. On
  the 9 real rows (8 LMP + 1 MCC) gridstatus raises KeyError (its column
  selection needs MCE, MCL and MGHG rows), so that payload has our figure only.
* ERCOT, real NP6-788-CD SCED run of 2026-06-25 00:40 (80 rows, truncated
  upstream) zipped as MIS serves it; generated: one SCED run (the file ERCOT
  posts every ~5 minutes) of 1,050 settlement points, and one operating day of
  288 such runs (288 zipped CSVs, 302,400 rows). Ours: `NP6-788-CD`, once per
  file. gridstatus: `Ercot().get_lmp_by_settlement_point(date)`:
  `_get_documents` returns the day's documents, `read_doc` reads each zip with
  `pd.read_csv(url, compression="zip")`, then `_handle_lmp_df` on them all.
* PJM, generated Data Miner 2 `da_hrl_lmps`: 8,600 pnodes x 24 h = 206,400 rows
  in 5 JSON pages of <= 50,000 rows (paged by `startRow`/`rowCount`). Ours:
  `da_hrl_lmps`, once per page. gridstatus: `PJM().get_lmp_day_ahead_hourly(date)`:
  `_get_pjm_json` pages through `requests.get(...).json()`; `get_pnode_ids`
  returns the payload's pnodes.
* MISO, generated `da_expost_lmp.csv`: 2,900 nodes x 3 rows (LMP, MCC, MLC) x
  HE1-HE24 = 69,600 prices. Ours: `da_expost_lmp`. gridstatus:
  `MISO().get_lmp_day_ahead_hourly(date)`: `pd.read_csv(url, skiprows=4)`, then
  `_handle_hourly_lmp`.
* SPP, generated `RTBM-LMP-DAILY-SL` daily file: 1,100 settlement locations x
  288 intervals = 316,800 rows. Ours: `RTBM-LMP-DAILY-SL`. gridstatus:
  `SPP().get_lmp_real_time_5_min_by_location(date, use_daily_files=True)`:
  `pd.read_csv(url)`, then `_finalize_spp_df`.
* ISO-NE, generated `WW_DALMP_ISO` day-ahead hourly report: 1,150 locations x
  24 h = 27,600 rows. Ours: `WW_DALMP_ISO`. gridstatus:
  `ISONE().get_lmp_day_ahead_hourly(date)`: `_make_request` (a
  `requests.Session`) gets the CSV, then `_process_lmp`.

Node counts are the simulator's real-scale counts (`default_node_counts`:
CAISO 3,000, ERCOT 1,050, PJM 8,600, MISO 2,900, SPP 1,100, ISO-NE 1,150), the
day an ordinary one (2024-07-16), the interval counts those of a whole day.
Rows are the canonical rows our parser yields (one per location and interval),
counted once per payload and divided by each contender's median seconds, so
the ratio is the ratio of times. Each contender is warmed up once (which also
sets how many passes over the payload make a sample last >= 0.2 s); the two
take turns sample by sample and the median of `REPEATS` samples is reported. Target: >= 5x
gridstatus's rows/s on each payload gridstatus can process. A report whose
module is not importable yet is skipped with a note ("parser not available").
"""

from __future__ import annotations

import importlib
import io
import json
import logging
import math
import os
import statistics
import time
import warnings
import zipfile
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from unittest import mock
from zoneinfo import ZoneInfo

import numpy as np
import polars as pl

from dataset import Context
from measure import ROOT, Outcome, Result, Target, log, profiled, profiling_enabled

NAME = "parse"
SCALE = "iso-payloads"
REPEATS = 5
MIN_SAMPLE_S = 0.2
TARGET_RATIO = 5.0
GRIDSTATUS_VERSION = "0.37.0"
DATA = ROOT.parent / "shared" / "data" / "iso"
DAY = date(2024, 7, 16)  # an ordinary Tuesday: no DST change, no holiday
SEED = 254
MEANING = "× gridstatus's rows/s"
INSTALL = ".venv/bin/pip install -e '.[dev,bench]'"


# --------------------------------------------------------------------------- payloads


@dataclass(frozen=True, slots=True)
class Payload:
    """What the ISO serves for one benchmark case: one or more downloads, each its exact bytes."""

    files: tuple[bytes, ...]
    rows: int  # canonical rows (location x interval) expected from our parser
    what: str  # short description for the label
    extra: dict[str, Any] = field(default_factory=dict)  # what the gridstatus adapter needs

    @property
    def size(self) -> int:
        """Bytes over all files."""
        return sum(len(f) for f in self.files)


def _zip(members: list[tuple[str, bytes]]) -> bytes:
    """A deflated zip of `members`, as the ISOs serve them."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, body in members:
            zf.writestr(name, body)
    return buf.getvalue()


def _components(rng: np.random.Generator, n: int, base: np.ndarray) -> tuple[np.ndarray, ...]:
    """(lmp, energy, congestion, loss) rounded to cents with lmp = energy + congestion + loss."""
    energy = np.round(base, 2)
    congestion = np.round(rng.normal(0.0, 4.0, n) * (rng.random(n) < 0.4), 2)
    loss = np.round(rng.normal(0.0, 0.8, n), 2)
    lmp = np.round(energy + congestion + loss, 2)
    return lmp, energy, congestion, loss


def _shape(steps: int) -> np.ndarray:
    """A daily price shape over `steps` equal intervals (low at night, peak late afternoon)."""
    t = np.arange(steps) / steps
    return 32.0 + 14.0 * np.sin(2 * np.pi * (t - 0.35)) + 6.0 * np.sin(4 * np.pi * t)


def _nyiso_real() -> Payload:
    path = DATA / "nyiso" / "20221101realtime_zone_csv.zip"
    data = path.read_bytes()
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        lines = sum(zf.read(n).count(b"\n") - 1 for n in zf.namelist())
    return Payload((data,), lines, f"real file {path.name} (RT 5-min zonal, Nov 2022)")


def _caiso_real() -> Payload:
    path = DATA / "caiso" / "seed.csv"
    body = path.read_bytes()
    data = _zip([("20200101_20200101_PRC_LMP_DAM_20200102_01_00_00_v12.csv", body)])
    return Payload(
        (data,), 8, "real rows seed.csv (PRC_LMP DAM, 9 rows, 8 node-hours) zipped as OASIS serves"
    )


CAISO_NODES = 3_000
CAISO_TYPES = (
    ("LMP", "LMP_PRC"),
    ("MCE", "LMP_ENE_PRC"),
    ("MCC", "LMP_CONG_PRC"),
    ("MCL", "LMP_LOSS_PRC"),
    ("MGHG", "LMP_GHG_PRC"),
)


def _caiso_generated() -> Payload:
    rng = np.random.default_rng(SEED)
    hubs = ["TH_NP15_GEN-APND", "TH_SP15_GEN-APND", "TH_ZP26_GEN-APND"]
    dlaps = ["DLAP_PGAE-APND", "DLAP_SCE-APND", "DLAP_SDGE-APND", "DLAP_VEA-APND"]
    nodes = hubs + dlaps
    nodes += [f"N{i:04d}_{i % 7 + 1}_N{i % 53:03d}" for i in range(CAISO_NODES - len(nodes))]
    n_nodes, hours = len(nodes), 24
    start = datetime(DAY.year, DAY.month, DAY.day, 7, tzinfo=UTC)  # 00:00 PDT
    n = n_nodes * hours
    base = np.tile(_shape(hours), n_nodes) + np.repeat(rng.normal(0, 2, n_nodes), hours)
    lmp, energy, congestion, loss = _components(rng, n, base)
    ghg = np.where(np.repeat(rng.random(n_nodes) < 0.15, hours), np.round(rng.random(n) * 3, 5), 0.0)
    energy = np.round(energy - ghg, 5)
    values = {"LMP": lmp, "MCE": energy, "MCC": congestion, "MCL": loss, "MGHG": ghg}
    node_col = np.repeat(np.array(nodes), hours)
    he = np.tile(np.arange(1, hours + 1), n_nodes)
    starts = [(start + timedelta(hours=h)).strftime("%Y-%m-%dT%H:%M:%S-00:00") for h in range(hours + 1)]
    frames = []
    for lmp_type, item in CAISO_TYPES:
        frames.append(
            pl.DataFrame(
                {
                    "INTERVALSTARTTIME_GMT": np.array(starts[:-1])[he - 1],
                    "INTERVALENDTIME_GMT": np.array(starts[1:])[he - 1],
                    "OPR_DT": DAY.isoformat(),
                    "OPR_HR": he,
                    "OPR_INTERVAL": 0,
                    "NODE_ID_XML": node_col,
                    "NODE_ID": node_col,
                    "NODE": node_col,
                    "MARKET_RUN_ID": "DAM",
                    "LMP_TYPE": lmp_type,
                    "XML_DATA_ITEM": item,
                    "PNODE_RESMRID": node_col,
                    "GRP_TYPE": "ALL",
                    "POS": 0,
                    "MW": values[lmp_type],
                    "GROUP": 1,
                }
            )
        )
    body = pl.concat(frames).write_csv().encode()
    name = f"{DAY:%Y%m%d}_{DAY + timedelta(days=1):%Y%m%d}_PRC_LMP_DAM_{DAY:%Y%m%d}_07_00_00_v12.csv"
    rows = n_nodes * hours
    what = f"generated PRC_LMP DAM, {n_nodes:,} pnodes × 24 h × 5 LMP_TYPEs = {5 * rows:,} CSV rows"
    return Payload((_zip([(name, body)]),), rows, what)


def _ercot_real() -> Payload:
    path = next((DATA / "ercot").glob("cdr.00012300.*.csv"))
    body = path.read_bytes()
    data = _zip([(path.name, body)])
    return Payload(
        (data,),
        body.count(b"\n") - 1,
        "real file NP6-788-CD SCED run 2026-06-25 00:40 (80 rows, truncated upstream), zipped as MIS serves",
        {"day": "2026-06-25", "names": [path.name]},
    )


ERCOT_POINTS = 1_050
ERCOT_RUNS = 288
ERCOT_HUBS = ("HB_BUSAVG", "HB_HOUSTON", "HB_HUBAVG", "HB_NORTH", "HB_PAN", "HB_SOUTH", "HB_WEST")
ERCOT_ZONES = ("LZ_AEN", "LZ_CPS", "LZ_HOUSTON", "LZ_LCRA", "LZ_NORTH", "LZ_RAYBN", "LZ_SOUTH", "LZ_WEST")


def _ercot_points() -> list[str]:
    """Settlement points: the real file's resource nodes, hubs, load zones, then made-up resource nodes."""
    real = next((DATA / "ercot").glob("cdr.00012300.*.csv")).read_text().splitlines()[1:]
    names = {line.split(",")[2] for line in real} | set(ERCOT_HUBS) | set(ERCOT_ZONES)
    i = 0
    while len(names) < ERCOT_POINTS:
        names.add(f"UNIT{i:04d}_{'RN' if i % 3 else 'ALL'}")
        i += 1
    return sorted(names)


def _ercot_generated(runs: int = ERCOT_RUNS) -> Payload:
    rng = np.random.default_rng(SEED)
    points = _ercot_points()
    shape = _shape(ERCOT_RUNS)
    offsets = rng.normal(0, 1.5, len(points))
    files, names = [], []
    for run in range(runs):
        at = datetime(DAY.year, DAY.month, DAY.day) + timedelta(minutes=5 * run, seconds=10 + run % 7)
        stamp = at.strftime("%m/%d/%Y %H:%M:%S")
        prices = np.round(shape[run] + offsets + rng.normal(0, 0.5, len(points)), 2)
        lines = ["SCEDTimestamp,RepeatedHourFlag,SettlementPoint,LMP"]
        lines += [f"{stamp},N,{p},{v:12.2f}" for p, v in zip(points, prices, strict=True)]
        posted = at + timedelta(seconds=8)
        name = (
            f"cdr.00012300.0000000000000000.{posted:%Y%m%d.%H%M%S}.LMPSROSNODENP6788_{at:%Y%m%d_%H%M%S}.csv"
        )
        files.append(_zip([(name, ("\r\n".join(lines) + "\r\n").encode())]))
        names.append(name)
    rows = runs * len(points)
    what = (
        f"generated NP6-788-CD day: {runs} SCED runs × {len(points):,} settlement points (zipped CSVs)"
        if runs > 1
        else f"generated NP6-788-CD, one SCED run × {len(points):,} settlement points (zipped CSV)"
    )
    return Payload(tuple(files), rows, what, {"day": DAY.isoformat(), "names": names})


PJM_NODES = 8_600
PJM_PAGE = 50_000
PJM_TYPES = ("GEN", "LOAD", "AGGREGATE", "EHV", "INTERFACE", "ZONE", "HUB")


def _pjm_generated() -> Payload:
    rng = np.random.default_rng(SEED)
    eastern = ZoneInfo("America/New_York")
    hours = 24
    ids = [51288, 1, *range(2_156_111_000, 2_156_111_000 + PJM_NODES - 2)]
    names = ["WESTERN HUB", "PJM-RTO", *(f"NODE{i:05d} 138 KV  UNIT{i % 9}" for i in range(PJM_NODES - 2))]
    types = ["HUB", "ZONE", *(PJM_TYPES[i % 5] for i in range(PJM_NODES - 2))]
    zones = ["PECO", "PSEG", "BGE", "DOM", "AEP", "COMED", "PPL", "JCPL", "DPL", "PEPCO"]
    n = PJM_NODES * hours
    shape = _shape(hours)
    system = np.round(np.tile(shape, PJM_NODES), 2)
    lmp, _, congestion, loss = _components(rng, n, system)
    items = []
    k = 0
    for h in range(hours):
        utc = datetime(DAY.year, DAY.month, DAY.day, tzinfo=eastern).astimezone(UTC) + timedelta(hours=h)
        b_utc = utc.strftime("%Y-%m-%dT%H:%M:%S")
        b_ept = utc.astimezone(eastern).strftime("%Y-%m-%dT%H:%M:%S")
        for j in range(PJM_NODES):
            k = j * hours + h
            items.append(
                {
                    "datetime_beginning_utc": b_utc,
                    "datetime_beginning_ept": b_ept,
                    "pnode_id": ids[j],
                    "pnode_name": names[j],
                    "voltage": "138 KV" if types[j] in ("GEN", "LOAD", "EHV") else None,
                    "equipment": f"UNIT{j % 9}" if types[j] == "GEN" else None,
                    "type": types[j],
                    "zone": zones[j % len(zones)] if types[j] not in ("HUB", "INTERFACE") else None,
                    "system_energy_price_da": float(system[k]),
                    "total_lmp_da": float(lmp[k]),
                    "congestion_price_da": float(congestion[k]),
                    "marginal_loss_price_da": float(loss[k]),
                    "row_is_current": True,
                    "version_nbr": 1,
                }
            )
    pages = []
    total = len(items)
    for first in range(0, total, PJM_PAGE):
        chunk = items[first : first + PJM_PAGE]
        start_row = first + 1
        base = "https://api.pjm.com/api/v1/da_hrl_lmps"
        links = [{"rel": "self", "href": f"{base}?rowCount={PJM_PAGE}&startRow={start_row}"}]
        if first + PJM_PAGE < total:
            links.append(
                {"rel": "next", "href": f"{base}?rowCount={PJM_PAGE}&startRow={start_row + PJM_PAGE}"}
            )
        doc = {
            "links": links,
            "items": chunk,
            "searchSpecification": {"rowCount": PJM_PAGE, "startRow": start_row, "isActiveMetadata": True},
            "totalRows": total,
        }
        pages.append(json.dumps(doc, separators=(",", ":")).encode())
    directory = {"pnode_id": ids, "pnode_name": names}
    what = f"generated Data Miner da_hrl_lmps: {PJM_NODES:,} pnodes × 24 h in {len(pages)} JSON pages"
    return Payload(tuple(pages), total, what, {"day": DAY.isoformat(), "directory": directory})


MISO_NODES = 2_900
MISO_HUBS = (
    "ARKANSAS.HUB",
    "ILLINOIS.HUB",
    "INDIANA.HUB",
    "LOUISIANA.HUB",
    "MICHIGAN.HUB",
    "MINN.HUB",
    "MS.HUB",
    "TEXAS.HUB",
)


def _miso_generated() -> Payload:
    rng = np.random.default_rng(SEED)
    nodes = [(h, "Hub") for h in MISO_HUBS]
    nodes += [(f"LZ{i}.ZONE", "Loadzone") for i in range(40)]
    nodes += [(f"IFACE{i}", "Interface") for i in range(30)]
    nodes += [(f"AREA{i % 20}.GEN{i:04d}", "Gennode") for i in range(MISO_NODES - len(nodes))]
    hours = 24
    n = len(nodes) * hours
    base = np.tile(_shape(hours), len(nodes)) + np.repeat(rng.normal(0, 2, len(nodes)), hours)
    lmp, _, congestion, loss = _components(rng, n, base)
    header = ",".join(["Node", "Type", "Value", *(f"HE {h}" for h in range(1, hours + 1))])
    lines = ["Day Ahead Market ExPost LMPs", DAY.strftime("%m/%d/%Y"), ""]
    lines += [",,,All Hours-Ending are Eastern Standard Time (EST)", header]
    for j, (node, kind) in enumerate(nodes):
        sl = slice(j * hours, (j + 1) * hours)
        for value, series in (("LMP", lmp), ("MCC", congestion), ("MLC", loss)):
            lines.append(f"{node},{kind},{value}," + ",".join(f"{v:.2f}" for v in series[sl]))
    body = ("\r\n".join(lines) + "\r\n").encode()
    what = f"generated da_expost_lmp: {len(nodes):,} nodes × (LMP, MCC, MLC) × HE1-24"
    return Payload((body,), n, what, {"day": DAY.isoformat()})


SPP_LOCATIONS = 1_100
SPP_INTERVALS = 288


def _spp_generated() -> Payload:
    rng = np.random.default_rng(SEED)
    named = ["SPPNORTH_HUB", "SPPSOUTH_HUB", "AECI", "ALTW", "EDE", "ERCOTE", "ERCOTN", "GRDA", "LAM345"]
    locations = named + [f"SL_{i:04d}_{'LD' if i % 4 else 'GEN'}" for i in range(SPP_LOCATIONS - len(named))]
    pnodes = [loc if loc.endswith("_HUB") else f"{loc}_PN" for loc in locations]
    n_loc = len(locations)
    n = n_loc * SPP_INTERVALS
    base = np.repeat(_shape(SPP_INTERVALS), n_loc) + np.tile(rng.normal(0, 2, n_loc), SPP_INTERVALS)
    lmp, energy, congestion, loss = _components(rng, n, base)
    midnight = datetime(DAY.year, DAY.month, DAY.day)  # Central prevailing; CDT = UTC-5 in July
    ends = [midnight + timedelta(minutes=5 * (k + 1)) for k in range(SPP_INTERVALS)]
    local = np.array([e.strftime("%m/%d/%Y %H:%M:%S") for e in ends])
    gmt = np.array([(e + timedelta(hours=5)).strftime("%m/%d/%Y %H:%M:%S") for e in ends])
    idx = np.repeat(np.arange(SPP_INTERVALS), n_loc)
    frame = pl.DataFrame(
        {
            "Interval": local[idx],
            "GMT Interval": gmt[idx],
            "Settlement Location Name": np.tile(np.array(locations), SPP_INTERVALS),
            "PNODE Name": np.tile(np.array(pnodes), SPP_INTERVALS),
            "LMP": lmp,
            "MLC": loss,
            "MCC": congestion,
            "MEC": energy,
        }
    )
    body = frame.write_csv().encode()
    what = f"generated RTBM-LMP-DAILY-SL: {n_loc:,} settlement locations × {SPP_INTERVALS} intervals"
    return Payload((body,), n, what, {"day": DAY.isoformat()})


ISONE_LOCATIONS = 1_150


def _isone_generated() -> Payload:
    rng = np.random.default_rng(SEED)
    locs = [(4000, ".H.INTERNAL_HUB", "HUB")]
    zones = (
        "MAINE",
        "NEWHAMPSHIRE",
        "VERMONT",
        "CONNECTICUT",
        "RHODEISLAND",
        "SEMASS",
        "WCMASS",
        "NEMASSBOST",
    )
    locs += [(4001 + i, f".Z.{z}", "LOAD ZONE") for i, z in enumerate(zones)]
    externals = (".I.SALBRYNB345 1", ".I.ROSETON 345 1", ".I.HQ_P1_P2345 5", ".I.HQHIGATE120 2")
    locs += [(4010 + i, name, "EXTERNAL NODE") for i, name in enumerate(externals)]
    locs += [
        (300 + i, f"UN.NODE{i:04d} {i % 3 * 100 + 13.8:.1f}CC", "NETWORK NODE")
        for i in range(ISONE_LOCATIONS - len(locs))
    ]
    hours = 24
    n = len(locs) * hours
    base = np.repeat(_shape(hours), len(locs)) + np.tile(rng.normal(0, 2, len(locs)), hours)
    lmp, energy, congestion, loss = _components(rng, n, base)
    day = DAY.strftime("%m/%d/%Y")
    lines = [
        '"C","Day-Ahead Energy Market Hourly LMP Report"',
        f'"C","Filename: WW_DALMP_ISO_{DAY:%Y%m%d}.csv"',
        f'"C","Report for: {day} - {day}"',
        f'"C","Report generated: {DAY - timedelta(days=1):%m/%d/%Y} 13:07:54 EDT"',
        '"H","Date","Hour Ending","Location ID","Location Name","Location Type","Locational Marginal Price",'
        '"Energy Component","Congestion Component","Marginal Loss Component"',
        '"H","Date","HE","String","String","String","Number","Number","Number","Number"',
    ]
    k = 0
    for h in range(1, hours + 1):
        for loc_id, name, kind in locs:
            lines.append(
                f'"D","{day}","{h:02d}","{loc_id}","{name}","{kind}",'
                f"{lmp[k]:.2f},{energy[k]:.2f},{congestion[k]:.2f},{loss[k]:.2f}"
            )
            k += 1
    lines.append(f'"T",{n}')
    body = ("\r\n".join(lines) + "\r\n").encode()
    what = f"generated WW_DALMP_ISO: {len(locs):,} locations × 24 h"
    return Payload((body,), n, what, {"day": DAY.isoformat()})


# --------------------------------------------------------------------------- gridstatus, offline


class _Response:
    """The parts of `requests.Response` gridstatus reads."""

    def __init__(self, content: bytes, headers: dict[str, str]) -> None:
        self.content = content
        self.headers = headers
        self.status_code = 200
        self.ok = True

    @property
    def text(self) -> str:
        return self.content.decode()

    def json(self) -> Any:
        return json.loads(self.content)

    def raise_for_status(self) -> None:
        return None


Serve = Callable[[str, dict[str, Any]], bytes]


@contextmanager
def _offline(serve: Serve, headers: dict[str, str] | None = None) -> Iterator[None]:
    """Answer gridstatus's HTTP and `pd.read_csv(url)` from memory through `serve(url, params)`."""
    import pandas as pd

    real_read_csv = pd.read_csv
    hdrs = headers or {}

    def read_csv(source: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(source, str) and "://" in source:
            source = io.BytesIO(serve(source, {}))
        return real_read_csv(source, *args, **kwargs)

    def get(url: str, *args: Any, params: dict[str, Any] | None = None, **kwargs: Any) -> _Response:
        return _Response(serve(url, params or {}), hdrs)

    def session_get(self: Any, url: str, *args: Any, **kwargs: Any) -> _Response:
        return get(url, *args, **kwargs)

    def refuse(url: str, *args: Any, **kwargs: Any) -> None:
        raise RuntimeError(f"gridstatus tried to POST {url} during the benchmark")

    with (
        mock.patch("pandas.read_csv", read_csv),
        mock.patch("requests.get", get),
        mock.patch("requests.Session.get", session_get),
        mock.patch("requests.post", refuse),
    ):
        yield


def _unexpected(url: str) -> bytes:
    raise RuntimeError(f"gridstatus asked for an unexpected URL during the benchmark: {url}")


@dataclass(slots=True)
class GsRun:
    """How to run gridstatus on a payload: patches to hold while timing, and the call (returns rows)."""

    patches: Callable[[], list[AbstractContextManager[Any]]]  # fresh ones for each use
    call: Callable[[], int]


def _gs_nyiso(p: Payload) -> GsRun:
    import gridstatus
    from gridstatus.base import Markets

    (data,) = p.files
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        last = zf.read(sorted(zf.namelist())[-1]).decode().splitlines()
    # The "latest interval" file: 15 rows dated far ahead, so that a past month is all 5-minute data.
    current = "\n".join([last[0], *(line.replace(line[1:11], "12/31/2099") for line in last[-15:])]) + "\n"

    def serve(url: str, params: dict[str, Any]) -> bytes:
        if url.endswith("realtime_zone_csv.zip"):
            return data
        if url.endswith("/RT_LBMP_ZONE/CSV/current.csv"):
            return current.encode()
        return _unexpected(url)

    def call() -> int:
        df = gridstatus.NYISO().get_lmp(
            date="2022-11-01",
            end="2022-12-01",
            market=Markets.REAL_TIME_5_MIN,
            locations="ALL",
            location_type="zone",
        )
        return len(df)

    return GsRun(lambda: [_offline(serve)], call)


def _gs_caiso(p: Payload) -> GsRun:
    import gridstatus

    (data,) = p.files
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        member = zf.namelist()[0]
        day = zf.read(member).split(b"\n")[1].split(b",")[2].decode()
    headers = {"Content-Disposition": f"inline; filename={member.removesuffix('.csv')}.zip;"}

    def serve(url: str, params: dict[str, Any]) -> bytes:
        if "queryname=PRC_LMP" in url and "market_run_id=DAM" in url:
            return data
        return _unexpected(url)

    def call() -> int:
        return len(gridstatus.CAISO().get_lmp_day_ahead_hourly(date=day, sleep=0))

    return GsRun(lambda: [_offline(serve, headers)], call)


def _gs_ercot(p: Payload) -> GsRun:
    import gridstatus
    import pandas as pd
    from gridstatus.ercot import Document

    urls = {
        f"https://www.ercot.com/misdownload/servlets/mirDownload?doclookupId={i}": f
        for i, f in enumerate(p.files)
    }
    docs = []
    for url, name in zip(urls, p.extra["names"], strict=True):
        parts = name.split(".")
        stamp = pd.Timestamp(datetime.strptime(parts[3] + parts[4], "%Y%m%d%H%M%S"))
        friendly = name.split(".")[-2] + "_csv"
        docs.append(
            Document(url, stamp.tz_localize("US/Central"), name, friendly, stamp.tz_localize("US/Central"))
        )
    points = set()
    for f in p.files:
        with zipfile.ZipFile(io.BytesIO(f)) as zf:
            for line in zf.read(zf.namelist()[0]).decode().splitlines()[1:]:
                points.add(line.split(",")[2])
    mapping = pd.DataFrame({"RESOURCE_NODE": sorted(x for x in points if not x.startswith(("HB_", "LZ_")))})

    def serve(url: str, params: dict[str, Any]) -> bytes:
        return urls[url] if url in urls else _unexpected(url)

    def patches() -> list[AbstractContextManager[Any]]:
        return [
            _offline(serve),
            mock.patch.object(gridstatus.Ercot, "_get_documents", lambda self, *a, **k: list(docs)),
            mock.patch.object(
                gridstatus.Ercot, "_get_settlement_point_mapping", lambda self, *a, **k: mapping
            ),
        ]

    def call() -> int:
        return len(gridstatus.Ercot().get_lmp_by_settlement_point(date=p.extra["day"]))

    return GsRun(patches, call)


def _gs_pjm(p: Payload) -> GsRun:
    import gridstatus
    import pandas as pd

    pages = p.files
    d = p.extra["directory"]
    directory = pd.DataFrame(
        {
            "pnode_id": d["pnode_id"],
            "pnode_name": d["pnode_name"],
            "voltage_level": None,
            "pnode_short_name": d["pnode_name"],
        }
    )

    def serve(url: str, params: dict[str, Any]) -> bytes:
        if url.endswith("/da_hrl_lmps"):
            return pages[(int(params["startRow"]) - 1) // PJM_PAGE]
        return _unexpected(url)

    def patches() -> list[AbstractContextManager[Any]]:
        return [
            _offline(serve),
            mock.patch.object(gridstatus.PJM, "get_pnode_ids", lambda self, *a, **k: directory),
        ]

    def call() -> int:
        return len(gridstatus.PJM(api_key="benchmark").get_lmp_day_ahead_hourly(date=p.extra["day"]))

    return GsRun(patches, call)


def _gs_miso(p: Payload) -> GsRun:
    import gridstatus

    (data,) = p.files

    def serve(url: str, params: dict[str, Any]) -> bytes:
        return data if url.endswith("_da_expost_lmp.csv") else _unexpected(url)

    def call() -> int:
        return len(gridstatus.MISO().get_lmp_day_ahead_hourly(date=p.extra["day"]))

    return GsRun(lambda: [_offline(serve)], call)


def _gs_spp(p: Payload) -> GsRun:
    import gridstatus

    (data,) = p.files

    def serve(url: str, params: dict[str, Any]) -> bytes:
        return data if "RTBM-LMP-DAILY-SL-" in url else _unexpected(url)

    def call() -> int:
        spp = gridstatus.SPP()
        return len(spp.get_lmp_real_time_5_min_by_location(date=p.extra["day"], use_daily_files=True))

    return GsRun(lambda: [_offline(serve)], call)


def _gs_isone(p: Payload) -> GsRun:
    import gridstatus

    (data,) = p.files

    def serve(url: str, params: dict[str, Any]) -> bytes:
        if "WW_DALMP_ISO_" in url:
            return data
        if url.endswith("/gen-fuel-mix"):  # the cookie-setting page it visits first
            return b"<html></html>"
        return _unexpected(url)

    def call() -> int:
        return len(gridstatus.ISONE().get_lmp_day_ahead_hourly(date=p.extra["day"]))

    return GsRun(lambda: [_offline(serve, {"Content-Type": "text/csv"})], call)


# --------------------------------------------------------------------------- cases


@dataclass(frozen=True, slots=True)
class Case:
    """One payload of one ISO report, measured with our parser and (if it has one) gridstatus."""

    iso: str  # our ISO package under carbon254.isos
    title: str  # ISO name in labels
    report: str  # Report.name
    build: Callable[[], Payload]
    gridstatus: Callable[[Payload], GsRun] | None
    gs_call: str


CASES: tuple[Case, ...] = (
    Case("nyiso", "NYISO", "realtime_zone", _nyiso_real, _gs_nyiso, "NYISO.get_lmp(REAL_TIME_5_MIN, zone)"),
    Case("caiso", "CAISO", "PRC_LMP", _caiso_real, _gs_caiso, "CAISO.get_lmp_day_ahead_hourly"),
    Case("caiso", "CAISO", "PRC_LMP", _caiso_generated, _gs_caiso, "CAISO.get_lmp_day_ahead_hourly"),
    Case("ercot", "ERCOT", "NP6-788-CD", _ercot_real, _gs_ercot, "Ercot.get_lmp_by_settlement_point"),
    Case(
        "ercot",
        "ERCOT",
        "NP6-788-CD",
        lambda: _ercot_generated(1),
        _gs_ercot,
        "Ercot.get_lmp_by_settlement_point",
    ),
    Case("ercot", "ERCOT", "NP6-788-CD", _ercot_generated, _gs_ercot, "Ercot.get_lmp_by_settlement_point"),
    Case("pjm", "PJM", "da_hrl_lmps", _pjm_generated, _gs_pjm, "PJM.get_lmp_day_ahead_hourly"),
    Case("miso", "MISO", "da_expost_lmp", _miso_generated, _gs_miso, "MISO.get_lmp_day_ahead_hourly"),
    Case(
        "spp",
        "SPP",
        "RTBM-LMP-DAILY-SL",
        _spp_generated,
        _gs_spp,
        "SPP.get_lmp_real_time_5_min_by_location(use_daily_files=True)",
    ),
    Case("isone", "ISO-NE", "WW_DALMP_ISO", _isone_generated, _gs_isone, "ISONE.get_lmp_day_ahead_hourly"),
)


def _our_parser(case: Case) -> Callable[[bytes], Any] | str:
    """`report.parse` of the case's report, or why it is not available."""
    try:
        module = importlib.import_module(f"carbon254.isos.{case.iso}.reports")
    except Exception as exc:  # a module being written may not import yet
        return f"parser not available (carbon254.isos.{case.iso}.reports does not import: {exc!r})"
    for report in getattr(module, "REPORTS", ()):
        if report.name == case.report:
            return report.parse  # type: ignore[no-any-return]
    return f"parser not available (carbon254.isos.{case.iso}.reports.REPORTS has no {case.report})"


def _gridstatus_version() -> str | None:
    try:
        from importlib.metadata import version

        return version("gridstatus")
    except Exception:
        return None


# --------------------------------------------------------------------------- timing


def _sample(fn: Callable[[], int], loops: int) -> float:
    """Seconds per call of `fn`, over `loops` calls, after one untimed call.

    The contenders take turns, so without the warm-up call each sample would
    start in the memory state the other left (gridstatus frees gigabytes of
    pandas frames; the allocator and page cache then work against whoever
    runs next). Both sides get the same warm-up, so the ratio measures
    steady-state parsing.
    """
    fn()
    t0 = time.perf_counter()
    for _ in range(loops):
        fn()
    return (time.perf_counter() - t0) / loops


def _loops(first_call_s: float) -> int:
    """Calls per sample so that a sample lasts at least MIN_SAMPLE_S."""
    return max(1, math.ceil(MIN_SAMPLE_S / max(first_call_s, 1e-6)))


@dataclass(slots=True)
class Measured:
    """Per-call seconds of each sample of one contender."""

    seconds: list[float] = field(default_factory=list)
    loops: int = 1

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    def spread(self) -> str:
        return f"{min(self.seconds) * 1e3:.1f}–{max(self.seconds) * 1e3:.1f} ms"


def _import_gridstatus() -> None:
    """Import gridstatus once, outside the timings, with its DEBUG logger and progress bars quietened
    (both would only slow it down)."""
    os.environ.setdefault("TQDM_DISABLE", "1")  # read by tqdm when it is imported
    import gridstatus  # noqa: F401

    logging.getLogger("gridstatus").setLevel(logging.WARNING)
    warnings.filterwarnings("ignore", module="gridstatus")
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    warnings.filterwarnings("ignore", category=FutureWarning)
    warnings.filterwarnings("ignore", category=UserWarning)


def _label(case: Case, payload: Payload) -> str:
    return f"(f) parse {case.title} {case.report}: {payload.what}, {payload.rows:,} rows"


def _measure_case(case: Case, out: Outcome, gs_ok: bool) -> None:
    """Time one case and add its row (or notes) to `out`."""
    parse = _our_parser(case)
    if isinstance(parse, str):
        log(f"parse: {case.title} {case.report}: {parse}")
        out.note(NAME, SCALE, f"parse: {case.title} `{case.report}` skipped: {parse}.")
        return
    t0 = time.perf_counter()
    payload = case.build()
    log(
        f"parse: {case.title} {case.report}: {payload.what} — {len(payload.files)} file(s), "
        f"{payload.size / 2**20:.1f} MiB, built in {time.perf_counter() - t0:.1f} s"
    )
    files = payload.files

    def ours() -> int:
        return sum(parse(f).num_rows for f in files)

    t0 = time.perf_counter()
    try:
        got = ours()
    except Exception as exc:
        log(f"parse: {case.title} {case.report}: our parser failed: {exc!r}")
        out.note(
            NAME, SCALE, f"parse: {case.title} `{case.report}` ({payload.what}): our parser FAILED: {exc}."
        )
        return
    our = Measured(loops=_loops(time.perf_counter() - t0))
    if got != payload.rows:
        out.note(
            NAME,
            SCALE,
            f"parse: {case.title} `{case.report}` ({payload.what}): our parser returned {got:,} rows, "
            f"the payload holds {payload.rows:,} (location, interval) pairs.",
        )

    gs: Measured | None = None
    gs_run: GsRun | None = None
    gs_rows = 0
    gs_why = ""
    if case.gridstatus is None:
        gs_why = "gridstatus has no equivalent for this report"
    elif not gs_ok:
        gs_why = f"gridstatus {GRIDSTATUS_VERSION} is not installed (`{INSTALL}`)"
    else:
        try:
            gs_run = case.gridstatus(payload)
            with ExitStack() as stack:
                for patch in gs_run.patches():
                    stack.enter_context(patch)
                t0 = time.perf_counter()
                gs_rows = gs_run.call()
                gs = Measured(loops=_loops(time.perf_counter() - t0))
        except Exception as exc:
            gs_run = None
            gs_why = f"gridstatus fails on this payload ({type(exc).__name__}: {exc})"
            log(f"parse: {case.title} {case.report}: {gs_why}")

    for rep in range(REPEATS):
        our.seconds.append(_sample(ours, our.loops))
        if gs is not None and gs_run is not None:
            with ExitStack() as stack:
                for patch in gs_run.patches():
                    stack.enter_context(patch)
                gs.seconds.append(_sample(gs_run.call, gs.loops))
        log(
            f"parse: {case.title} {case.report}: repeat {rep + 1}/{REPEATS}: "
            f"ours {our.seconds[-1] * 1e3:.1f} ms"
            + (f", gridstatus {gs.seconds[-1] * 1e3:.1f} ms" if gs is not None else "")
        )
    if profiling_enabled():
        with profiled(f"parse-{case.iso}-{case.report}-{len(files)}"):
            ours()

    rate = payload.rows / our.median
    label = _label(case, payload)
    stat = f"median of {REPEATS}"
    if gs is None:
        out.note(
            NAME,
            SCALE,
            f"parse: {label.removeprefix('(f) parse ')}: ours {rate / 1e6:.3f} M rows/s ({stat}, "
            f"{our.median * 1e3:.2f} ms per payload); no gridstatus figure: {gs_why}.",
        )
        return
    gs_rate = payload.rows / gs.median
    out.results.append(
        Result(
            NAME,
            label,
            stat,
            rate,
            "rows/s",
            f"gridstatus {GRIDSTATUS_VERSION} {case.gs_call}, same bytes, network patched out",
            gs_rate,
            MEANING,
            target=Target(">=", TARGET_RATIO * gs_rate),
            scale=SCALE,
        )
    )
    out.note(
        NAME,
        SCALE,
        f"parse: {case.title} `{case.report}` ({payload.rows:,} rows, {payload.size / 2**20:.2f} MiB in "
        f"{len(files)} file(s)): ours {our.median * 1e3:.2f} ms per payload (samples {our.spread()}), "
        f"gridstatus {gs.median * 1e3:.2f} ms ({gs.spread()}), i.e. "
        f"{gs.median / our.median:.2f}× our time; gridstatus returned {gs_rows:,} rows.",
    )


def run(ctx: Context) -> Outcome:
    """Parse each ISO's payloads with our parser and with gridstatus, taking turns."""
    del ctx  # nothing here uses the shared stores
    out = Outcome()
    installed = _gridstatus_version()
    gs_ok = installed == GRIDSTATUS_VERSION
    if installed is None:
        log(f"parse: gridstatus is not installed; ours alone ({INSTALL})")
    elif not gs_ok:
        log(
            f"parse: gridstatus {installed} installed, the benchmark expects {GRIDSTATUS_VERSION}; ours alone"
        )
    if gs_ok:
        _import_gridstatus()
    for case in CASES:
        _measure_case(case, out, gs_ok)
    out.note(
        NAME,
        SCALE,
        f"parse: target ≥ {TARGET_RATIO:g}× gridstatus {GRIDSTATUS_VERSION} on every payload it can process; "
        "the Target column shows that as rows/s. Rows are canonical rows (one per location and interval); "
        "payloads marked generated are in the ISO's native layout with made-up names and prices, NOT real "
        "files. What each side runs: `benchmarks/bench_parse.py` docstring.",
    )
    return out


if __name__ == "__main__":  # a quick look without the runner: python benchmarks/bench_parse.py [ISO ...]
    import sys

    wanted = {a.lower() for a in sys.argv[1:]}
    if wanted:
        CASES = tuple(c for c in CASES if c.iso in wanted)
    outcome = run(None)  # type: ignore[arg-type]
    for r in outcome.results:
        print(f"{r.label}: {r.figure / 1e6:.3f} M rows/s vs {r.baseline_figure / 1e6:.3f} ({r.ratio:.1f}×)")
    for n in outcome.notes:
        print("-", n.text)
