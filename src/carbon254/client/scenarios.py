"""What `Client` and `AsyncClient` share for scenarios: the answer models and the request bodies.

A scenario travels as its YAML (or JSON) text, so the service reports
problems at the caller's own line numbers; `scenario_text` reads it from a
file when given a path. A run's yearly summary and monthly changes come back
as typed rows, and `ScenarioRun.summary_frame` / `months_frame` turn them
into the frame the caller works in (pandas, Polars or Arrow), as the other
frame-returning methods do. Models mirror the service's JSON and ignore
fields they do not know, so a newer service does not break an older SDK.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
from pydantic import BaseModel, ConfigDict, TypeAdapter

from carbon254.client.base import as_frame
from carbon254.client.errors import InvalidRequest
from carbon254.client.frames import FrameKind
from carbon254.client.queries import day_text

# The job kind `sweep` submits (the service's `carbon254.sweeps`).
SWEEP_KIND = "scenario_sweep"
# Suffixes that make a one-line string a file name rather than scenario text.
_FILE_SUFFIXES = (".yaml", ".yml", ".json")


class _Answer(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")


class ScenarioChecked(_Answer):
    """A valid scenario: its name, number of steps and how many points its sweep expands to (1 without)."""

    name: str
    steps: int
    points: int


class ScenarioSaved(_Answer):
    """A saved scenario version of the tenant (`created_at` in UTC)."""

    name: str
    version: int
    created_at: datetime


class ScenarioPreset(_Answer):
    """A historical replay preset (`replay: {preset: NAME}`): where and when prices moved (inclusive)."""

    name: str
    iso: str
    location: str
    market: str
    start: str
    end: str
    description: str


class ScenarioYear(_Answer):
    """One point's yearly means for one hub ($/MWh; None for a block the curve lacks).

    `p5`, `p50` and `p95` are percentiles of the atc price across a paths
    step's simulated paths (None without one).
    """

    scenario: str
    hub: str
    year: int
    onpeak: float | None
    offpeak: float | None
    atc: float | None
    p5: float | None
    p50: float | None
    p95: float | None


class ScenarioMonth(_Answer):
    """One point's price for a hub, delivery month (YYYY-MM) and block: base, scenario and change ($/MWh)."""

    scenario: str
    hub: str
    month: str
    block: str
    base_price: float
    price: float
    change: float


_YEAR_SCHEMA = pa.schema(
    [("scenario", pa.string()), ("hub", pa.string()), ("year", pa.int64())]
    + [(name, pa.float64()) for name in ("onpeak", "offpeak", "atc", "p5", "p50", "p95")]
)
_MONTH_SCHEMA = pa.schema(
    [(name, pa.string()) for name in ("scenario", "hub", "month", "block")]
    + [(name, pa.float64()) for name in ("base_price", "price", "change")]
)


def _table(rows: Sequence[BaseModel], schema: pa.Schema) -> pa.Table:
    return pa.Table.from_pylist([r.model_dump() for r in rows], schema=schema)


class ScenarioRun(_Answer):
    """A recorded run (`POST /v1/scenarios/run`): its id, fingerprint, inputs and result rows.

    `fingerprint` (SHA-256) is the same for the same scenario, base marks
    and engine version; `base_marks` are the ids of the marks it started
    from; `simulated` is true when any of them is a simulated demo mark.
    `summary` has a row per point, hub and calendar year; `months` a row per
    point, hub, month and block (a sweep's points are named in `scenario`).
    """

    id: str
    fingerprint: str
    engine_version: str
    base_marks: tuple[int, ...]
    simulated: bool
    summary: tuple[ScenarioYear, ...]
    months: tuple[ScenarioMonth, ...]

    def summary_frame(self, frame: FrameKind = "pandas") -> Any:
        """The yearly summary as a frame: scenario, hub, year, onpeak, offpeak, atc, p5, p50, p95 ($/MWh)."""
        return as_frame(_table(self.summary, _YEAR_SCHEMA), frame)

    def months_frame(self, frame: FrameKind = "pandas") -> Any:
        """The monthly changes as a frame: scenario, hub, month, block, base_price, price, change ($/MWh)."""
        return as_frame(_table(self.months, _MONTH_SCHEMA), frame)


class ScenarioRunRecord(_Answer):
    """A run as recorded (`GET /v1/scenarios/runs`), without its rows.

    `scenario_name`/`scenario_version` name a saved scenario (None for an
    inline one); `summary` is the run's small JSON summary (points and
    yearly means, or for a sweep job its point and row counts); a sweep
    job's run has its `job_id` and the `artifact_key` of its Parquet file.
    """

    id: str
    scenario_name: str | None
    scenario_version: int | None
    base_marks: tuple[int, ...]
    engine_version: str
    fingerprint: str
    status: str
    summary: dict[str, Any]
    artifact_key: str | None
    job_id: str | None
    created_at: datetime


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise InvalidRequest(
            f"scenario: cannot read {path} ({exc.strerror or exc})", parameter="scenario"
        ) from None
    except UnicodeDecodeError:
        raise InvalidRequest(f"scenario: {path} is not UTF-8 text", parameter="scenario") from None


def scenario_text(scenario: str | Path) -> str:
    """The scenario's YAML (or JSON) text: read from `scenario` if it is a path, else `scenario` itself.

    A `Path`, or a one-line string naming an existing file or ending in
    .yaml, .yml or .json, is read (`InvalidRequest` if it cannot be); any
    other string is the scenario's text.
    """
    if isinstance(scenario, Path):
        return _read(scenario)
    if not isinstance(scenario, str):
        raise InvalidRequest(
            f"scenario: a {type(scenario).__name__} is neither YAML text nor a file path",
            parameter="scenario",
        )
    one_line = "\n" not in scenario.strip()
    if one_line and (Path(scenario).is_file() or scenario.strip().lower().endswith(_FILE_SUFFIXES)):
        return _read(Path(scenario.strip()))
    return scenario


def _one_source(text: str | None, path: str | Path | None, name: str | None) -> str | None:
    """The inline text of a run (None when it names a saved scenario); exactly one source must be given."""
    given = [label for label, value in (("text", text), ("path", path), ("name", name)) if value is not None]
    if len(given) != 1:
        raise InvalidRequest(
            "text: give exactly one of text, path or name (a saved scenario), "
            f"not {' and '.join(given) if given else 'none'}",
            parameter="text",
        )
    if path is not None:
        return _read(Path(path))
    return text


def _hub_list(hubs: str | Sequence[str]) -> list[str]:
    return [hubs] if isinstance(hubs, str) else list(hubs)


def run_body(
    *,
    hubs: str | Sequence[str],
    text: str | None,
    path: str | Path | None,
    name: str | None,
    version: int | None,
    iso: str | None,
    as_of: str | date | None,
    hourly: bool,
) -> dict[str, Any]:
    """The JSON of `POST /v1/scenarios/run` (unset fields left out); `InvalidRequest` for a bad source."""
    inline = _one_source(text, path, name)
    body: dict[str, Any] = {"hubs": _hub_list(hubs), "hourly": hourly}
    if inline is not None:
        body["text"] = inline
    else:
        body["name"] = name
        if version is not None:
            body["version"] = version
    if iso is not None:
        body["iso"] = iso
    if as_of is not None:
        body["as_of"] = day_text(as_of)
    return body


def sweep_request(
    *,
    hubs: str | Sequence[str],
    text: str | None,
    path: str | Path | None,
    iso: str | None,
    as_of: str | date | None,
    hourly: bool,
) -> dict[str, Any]:
    """The request of a `scenario_sweep` job (unset fields left out); `InvalidRequest` for a bad source."""
    inline = _one_source(text, path, None)
    request: dict[str, Any] = {"scenario": inline, "hubs": _hub_list(hubs), "hourly": hourly}
    if iso is not None:
        request["iso"] = iso
    if as_of is not None:
        request["as_of"] = day_text(as_of)
    return request


# The header of a scenario body: YAML (JSON is YAML too).
YAML = {"Content-Type": "application/yaml"}
SAVED_LIST = TypeAdapter(list[ScenarioSaved])
PRESET_LIST = TypeAdapter(list[ScenarioPreset])
RUN_LIST = TypeAdapter(list[ScenarioRunRecord])
