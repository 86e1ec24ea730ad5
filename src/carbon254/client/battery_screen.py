"""What `Client` and `AsyncClient` share for the battery fleet screen: the job's kind and its request.

    job = client.battery_screen(iso="ERCOT", start="2024-01-01", end="2025-01-01",
                                power_mw=100, energy_mwh=400, round_trip_efficiency=0.85)
    info = job.wait(progress=True)        # info.result.summary["top"]: the ten best nodes
    job.download("ranking.parquet")       # every node: net revenue ($), cycles, spread ($/MWh), ...

The request is the service's `battery_screen` job request as JSON; the
service checks it at submit (`InvalidRequest` naming the field, `NotFound`
with suggestions for an unknown ISO, market or location).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from carbon254.client.queries import TimeBound, bound_text

# The job kind `battery_screen` submits (the service's `carbon254.screening`).
SCREEN_KIND = "battery_screen"


def screen_request(
    *,
    iso: str,
    start: TimeBound,
    end: TimeBound,
    power_mw: float,
    energy_mwh: float,
    round_trip_efficiency: float,
    market: str = "DAM",
    locations: str | Sequence[str] | None = None,
    location_type: str | None = None,
    initial_soc_mwh: float | None = None,
    daily_cycles: float | None = None,
    degradation_cost: float = 0.0,
    as_of: TimeBound | None = None,
    format: Literal["parquet", "csv"] = "parquet",
) -> dict[str, Any]:
    """The `battery_screen` job's request (MW, MWh, $/MWh): times as text, unset fields left out."""
    request: dict[str, Any] = {
        "iso": iso,
        "market": market,
        "start": bound_text(start),
        "end": bound_text(end),
        "power_mw": power_mw,
        "energy_mwh": energy_mwh,
        "round_trip_efficiency": round_trip_efficiency,
        "degradation_cost": degradation_cost,
        "format": format,
    }
    if locations is not None:
        # Text is comma-separated names, as the service reads it; a sequence is sent as a list.
        request["locations"] = locations if isinstance(locations, str) else list(locations)
    optional = {
        "location_type": location_type,
        "initial_soc_mwh": initial_soc_mwh,
        "daily_cycles": daily_cycles,
        "as_of": bound_text(as_of) if as_of is not None else None,
    }
    request.update({name: value for name, value in optional.items() if value is not None})
    return request
