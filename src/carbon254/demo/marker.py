"""The demo marker: a small JSON file in the data dir recording what the demo loaded.

It is what tells a later `carbon254 demo` run that the data is already there
(so it only catches up) and which seed and node count to keep simulating
with, so the live feed continues the same synthetic market rather than a
different one. It is replaced atomically, so a crash never leaves it half
written.
"""

from __future__ import annotations

import json
import os
import uuid
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from carbon254.isos import Iso

MARKER_NAME = "demo.json"
# Format 2: day-ahead results are stored a day ahead, as each ISO publishes them
# (format 1 stored them hour by hour); a format 1 demo must be reloaded.
MARKER_FORMAT = 2


class DemoMarkerError(ValueError):
    """The marker exists but cannot be read; the message says how to recover."""


@dataclass(frozen=True, slots=True)
class DemoParams:
    """What the demo simulates: seed, nodes per ISO (hubs and zones come on top), ISOs, RT5 history."""

    seed: int = 254
    nodes: int = 200
    isos: tuple[Iso, ...] = tuple(Iso)
    rt5_days: int = 7


@dataclass(frozen=True, slots=True)
class DemoMarker:
    """The demo's state.

    Every 5-minute interval starting before `loaded_through` (UTC, on a
    5-minute boundary) is stored, every hourly real-time interval starting
    before `loaded_through` floored to the hour, and the day-ahead results of
    every operating day each ISO had published by `loaded_through`; history
    starts at `history_start` (UTC).
    """

    params: DemoParams
    days: int
    history_start: datetime
    loaded_through: datetime

    def advanced(self, through: datetime) -> DemoMarker:
        """The same marker with `loaded_through` moved to `through` (never backwards)."""
        return replace(self, loaded_through=max(self.loaded_through, through))


def marker_path(data_dir: Path | str) -> Path:
    """Where the marker of the demo in `data_dir` lives."""
    return Path(data_dir) / MARKER_NAME


def _utc(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise ValueError(f"{text!r} has no UTC offset")
    return moment.astimezone(UTC)


def read_marker(data_dir: Path | str) -> DemoMarker | None:
    """The marker in `data_dir`, or None if the demo never finished loading there.

    Raises `DemoMarkerError` if the file exists but is not a marker this
    version understands.
    """
    path = marker_path(data_dir)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    try:
        doc: dict[str, Any] = json.loads(raw)
        if doc.get("format") != MARKER_FORMAT:
            raise ValueError(f"format {doc.get('format')!r}, expected {MARKER_FORMAT}")
        params = DemoParams(
            seed=int(doc["seed"]),
            nodes=int(doc["nodes"]),
            isos=tuple(Iso(i) for i in doc["isos"]),
            rt5_days=int(doc["rt5_days"]),
        )
        return DemoMarker(
            params=params,
            days=int(doc["days"]),
            history_start=_utc(doc["history_start"]),
            loaded_through=_utc(doc["loaded_through"]),
        )
    except (ValueError, KeyError, TypeError) as exc:
        raise DemoMarkerError(
            f"{path} is not a readable demo marker ({exc}); delete it to reload the demo data"
        ) from None


def write_marker(data_dir: Path | str, marker: DemoMarker) -> None:
    """Atomically replace the marker in `data_dir` with `marker`."""
    path = marker_path(data_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    doc = {
        "format": MARKER_FORMAT,
        "seed": marker.params.seed,
        "nodes": marker.params.nodes,
        "isos": [i.value for i in marker.params.isos],
        "rt5_days": marker.params.rt5_days,
        "days": marker.days,
        "history_start": marker.history_start.astimezone(UTC).isoformat(),
        "loaded_through": marker.loaded_through.astimezone(UTC).isoformat(),
        "updated_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    tmp = path.with_name(f".{MARKER_NAME}.{uuid.uuid4().hex}.tmp")
    tmp.write_text(json.dumps(doc, indent=2) + "\n")
    os.replace(tmp, path)


class MarkerKeeper:
    """Keeps the marker in `data_dir` current as the live feed advances (one atomic rewrite per step)."""

    def __init__(self, data_dir: Path | str, marker: DemoMarker) -> None:
        self.data_dir = Path(data_dir)
        self.marker = marker

    def advance(self, through: datetime) -> DemoMarker:
        """Record that everything before `through` (UTC) is stored; returns the new marker."""
        self.marker = self.marker.advanced(through)
        write_marker(self.data_dir, self.marker)
        return self.marker
