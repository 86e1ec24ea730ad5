"""The battery operations through the application layer, on a month of simulated ERCOT and PJM prices.

Prices come from the store as `/v1/lmp` reads them, with the ISO's declared
reserve products from `as_price`; a gap is refused naming its first missing
interval; a bad asset names its parameter; entitlements (ISO, dataset,
feature) are enforced before anything is computed. Revenue is recomputed
here from the dispatch rows and the stored prices, not taken from the
implementation.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from battery_data import GAP_FROM, GAP_HOURS, GAP_NODE, HUB, RT5_FROM, fill_battery_store

from carbon254.application.battery import QUALIFY_MIN_SHARE, BatteryRequest
from carbon254.application.errors import ApiError
from carbon254.application.identity import ANONYMOUS, AuthMethod, Entitlements, Principal
from carbon254.application.operations.battery import (
    BATTERY_DISPATCH,
    BATTERY_OPTIMIZE,
    BATTERY_REVENUE,
    BatteryOptimizeRequest,
    BatteryResult,
    battery_result,
)
from carbon254.config import Settings
from carbon254.isos import declaration
from carbon254.schema import Dataset
from carbon254.store import Store, open_store

WINDOW = {"start": "2024-01-01", "end": "2024-01-15"}
ASSET = {"power_mw": 100.0, "energy_mwh": 400.0}


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("battery-ops")


@pytest.fixture(scope="module")
def store(data_dir: Path) -> Iterator[Store]:
    s = open_store(data_dir)
    fill_battery_store(s)
    yield s
    s.close()


@pytest.fixture(scope="module")
def settings(data_dir: Path) -> Settings:
    return Settings(data_dir=data_dir)


def _principal(**entitlements: Any) -> Principal:
    given = {k: frozenset(v) for k, v in entitlements.items()}
    return Principal("t", "k", AuthMethod.API_KEY, Entitlements(**given))


def _optimize(
    store: Store, settings: Settings, principal: Principal = ANONYMOUS, **fields: Any
) -> BatteryResult:
    request = BatteryOptimizeRequest.model_validate(
        {"iso": "ERCOT", "location": HUB, **WINDOW, **ASSET, **fields}
    )
    return battery_result(BATTERY_OPTIMIZE.call(store, settings, principal, request), store)


def _refusal(store: Store, settings: Settings, principal: Principal = ANONYMOUS, **fields: Any) -> ApiError:
    with pytest.raises(ApiError) as caught:
        _optimize(store, settings, principal, **fields)
    return caught.value


def _stored(store: Store, dataset: Dataset, market: str, **filters: str) -> pa.Table:
    rows = store.read(
        dataset, "ERCOT", market, [filters["location"]] if "location" in filters else None,
        datetime(2024, 1, 1, tzinfo=UTC), datetime(2024, 2, 1, tzinfo=UTC),
    )  # fmt: skip
    for column, value in filters.items():
        rows = rows.filter(pc.equal(rows.column(column), value))
    return rows.sort_by("interval_start")


def test_energy_only_revenue_is_the_stored_prices_times_the_dispatch(
    store: Store, settings: Settings
) -> None:
    result = _optimize(store, settings, services="none", include="dispatch")
    summary, dispatch = result.summary, result.dispatch
    assert dispatch is not None
    assert set(summary.revenue_by_stream) <= {"energy", "aux", "degradation"} and summary.services == ()
    # Two weeks of hours in Central time: 336, on the store's own day-ahead prices.
    lmp = _stored(store, Dataset.LMP, "DAM", location=HUB)
    start = datetime(2024, 1, 1, 6, tzinfo=UTC)
    window = lmp.filter(
        pc.and_(
            pc.greater_equal(lmp.column("interval_start"), pa.scalar(start, pa.timestamp("us", "UTC"))),
            pc.less(
                lmp.column("interval_start"), pa.scalar(start + timedelta(days=14), pa.timestamp("us", "UTC"))
            ),
        )
    )
    assert dispatch.num_rows == window.num_rows == 14 * 24
    price = window.column("lmp").to_numpy()
    assert np.allclose(dispatch.column("energy_price").to_numpy(), price)
    net = dispatch.column("discharge_mw").to_numpy() - dispatch.column("charge_mw").to_numpy()
    assert summary.energy_revenue == pytest.approx(float((price * net).sum()), rel=1e-9, abs=1e-6)
    assert summary.net_revenue == pytest.approx(sum(summary.revenue_by_stream.values()))
    soc = dispatch.column("soc_mwh").to_numpy()
    assert soc.min() >= -1e-6 and soc.max() <= 400 + 1e-6
    # The stack's total row is the whole window; months are Central time (January only).
    stack = result.stack.to_pylist()
    assert [r["month"] for r in stack] == ["2024-01", "total"]
    assert stack[-1]["net_revenue"] == pytest.approx(summary.net_revenue)


def test_reserve_co_optimization_never_earns_less_than_energy_alone(store: Store, settings: Settings) -> None:
    energy = _optimize(store, settings, services="none").summary
    stacked = _optimize(store, settings).summary
    products = {s.product for s in declaration("ERCOT").reserves.services}
    assert set(stacked.services) == products  # a 4-hour battery qualifies for every ERCOT product
    assert products <= set(stacked.revenue_by_stream)
    assert stacked.reserve_revenue > 0
    assert stacked.net_revenue >= energy.net_revenue - 1e-6


def test_reserve_prices_are_the_stored_ones_held_over_5_minute_intervals(
    store: Store, settings: Settings
) -> None:
    end = (RT5_FROM + timedelta(days=2)).isoformat()
    result = _optimize(
        store, settings, market="RT5", services="REGUP,RRS", start=RT5_FROM.isoformat(), end=end,
        tz="UTC", include="dispatch",
    )  # fmt: skip
    dispatch = result.dispatch
    assert dispatch is not None and dispatch.num_rows == 2 * 24 * 12
    assert result.summary.interval_hours == pytest.approx(5 / 60)
    stored = _stored(store, Dataset.AS_PRICE, "RTH", region="ERCOT", product="REGUP")
    by_hour = dict(
        zip(
            stored.column("interval_start").cast(pa.int64()).to_pylist(),
            stored.column("price").to_pylist(),
            strict=True,
        )
    )
    starts = dispatch.column("interval_start").cast(pa.timestamp("us", "UTC")).cast(pa.int64()).to_numpy()
    hours = starts - starts % 3_600_000_000
    assert np.allclose(dispatch.column("REGUP_price").to_numpy(), [by_hour[int(h)] for h in hours])
    assert {"REGUP_mw", "RRS_mw"} <= set(dispatch.column_names) and "NSPIN_mw" not in dispatch.column_names


def test_a_gap_names_its_first_missing_interval_and_how_many(store: Store, settings: Settings) -> None:
    error = _refusal(store, settings, location=GAP_NODE, services="none")
    assert (error.status_code, error.code, error.parameter) == (422, "price_gap", "location")
    assert f"{GAP_HOURS:,} of the" in error.message
    assert GAP_FROM.strftime("%Y-%m-%dT%H:%MZ") in error.message
    # A window before the gap runs.
    assert _optimize(store, settings, location=GAP_NODE, services="none", end="2024-01-09").summary.intervals


@pytest.mark.parametrize(
    ("fields", "parameter"),
    [
        ({"power_mw": -5.0}, "power_mw"),
        ({"round_trip_efficiency": 1.4}, "round_trip_efficiency"),
        ({"initial_soc_mwh": 500.0}, "initial_soc_mwh"),
        ({"charge_efficiency": 0.9}, "discharge_efficiency"),
        ({"aux_load_mw": 150.0}, "aux_load_mw"),
        ({"daily_cycles": -1.0}, "daily_cycles"),
        ({"market": "SCED"}, "market"),
        ({"dispatch": "clairvoyant"}, "dispatch"),
        ({"end": "2023-12-01"}, "end"),
        ({"services": "NOT_A_PRODUCT"}, "services"),
    ],
)
def test_a_bad_parameter_is_refused_naming_it(
    store: Store, settings: Settings, fields: dict[str, Any], parameter: str
) -> None:
    error = _refusal(store, settings, **fields)
    assert error.status_code in (404, 422) and error.parameter == parameter, error.message
    assert parameter in error.message


def test_a_product_the_battery_cannot_sustain_is_refused_by_name_and_skipped_by_all(
    store: Store, settings: Settings
) -> None:
    # 100 MW / 40 MWh: Non-Spin must last 4 h, so the energy sustains under 10 MW of it.
    small = {"energy_mwh": 40.0}
    error = _refusal(store, settings, services="NSPIN", **small)
    assert (error.status_code, error.parameter) == (422, "services") and "NSPIN" in error.message
    assert f"{QUALIFY_MIN_SHARE * 100:.3g} MW" in error.message
    summary = _optimize(store, settings, **small).summary
    assert "NSPIN" in summary.skipped and "NSPIN" not in summary.services and "REGUP" in summary.services


def test_day_ahead_then_real_time_settles_both_markets(store: Store, settings: Settings) -> None:
    summary = _optimize(store, settings, market="both").summary
    assert {"da_energy", "rt_energy"} <= set(summary.revenue_by_stream)
    assert "energy" not in summary.revenue_by_stream


def test_rolling_dispatch_reports_its_capture_of_perfect_foresight(store: Store, settings: Settings) -> None:
    summary = _optimize(store, settings, dispatch="rolling", services="none").summary
    assert summary.perfect_net_revenue is not None and summary.capture_ratio is not None
    assert summary.perfect_net_revenue >= summary.net_revenue - 1e-6
    assert summary.capture_ratio == pytest.approx(summary.net_revenue / summary.perfect_net_revenue)


def test_health_projection_and_the_iso_found_from_the_location(store: Store, settings: Settings) -> None:
    result = _optimize(store, settings, iso=None, include="health", years=10)
    assert result.query["iso"] == "ERCOT"
    assert result.health is not None and result.health.column("year").to_pylist() == list(range(1, 11))
    soh = result.health.column("soh").to_numpy()
    assert (np.diff(soh) < 0).all() and soh[0] < 1


def test_revenue_and_dispatch_operations_answer_the_same_run(store: Store, settings: Settings) -> None:
    request = BatteryRequest.model_validate({"iso": "ERCOT", "location": HUB, **WINDOW, **ASSET})
    revenue = BATTERY_REVENUE.call(store, settings, ANONYMOUS, request).answer(store)
    dispatch = BATTERY_DISPATCH.call(store, settings, ANONYMOUS, request).answer(store)
    [row] = revenue.table.to_pylist()
    assert row["net_revenue"] == pytest.approx(
        row["energy_revenue"] + row["reserve_revenue"] - row["aux_cost"] - row["degradation_cost"]
    )
    assert revenue.head["simulated"] is True and revenue.head["query"]["tz"] == "America/Chicago"
    assert dispatch.table.num_rows == 14 * 24
    assert str(dispatch.table.schema.field("interval_start").type.tz) == "America/Chicago"
    discharged = dispatch.table.column("discharge_mw").to_numpy().sum()
    assert row["discharged_mwh"] >= discharged - 1e-6  # plus the expected reserve deployments
    # Awards that raise output fit beside the scheduled output within the power rating (charging
    # gives room too: a battery charging at full power can offer twice its rating).
    up = dispatch.table.column("reserve_up_mw").to_numpy()
    net = dispatch.table.column("net_mw").to_numpy()
    assert up.max() > 0 and (up + net <= ASSET["power_mw"] + 1e-6).all()


def test_entitlements_come_before_any_price_is_read(store: Store, settings: Settings) -> None:
    assert _refusal(store, settings, _principal(isos={"PJM"})).status_code == 403
    assert _refusal(store, settings, _principal(features={"curves"})).status_code == 403
    lmp_only = _principal(datasets={"lmp"})
    error = _refusal(store, settings, lmp_only)
    assert error.status_code == 403 and "as_price" in error.message
    # Energy alone needs no reserve prices.
    assert _optimize(store, settings, lmp_only, services="none").summary.services == ()
    # A tenant of PJM only is not told an ERCOT location exists.
    error = _refusal(store, settings, _principal(isos={"PJM"}), iso=None)
    assert error.status_code == 404 and error.parameter == "location"


def test_names_come_back_in_the_catalogs_spelling_and_region_is_checked(
    store: Store, settings: Settings
) -> None:
    result = _optimize(store, settings, location="hb_north", services="REGUP", region="ercot")
    assert result.query["location"] == HUB and result.query["region"] == "ERCOT"
    assert result.query["services"] == ["REGUP"]
    error = _refusal(store, settings, region="ZONE_9")
    assert (error.status_code, error.parameter) == (404, "region") and "ERCOT" in (error.suggestions or [])


def test_a_rolling_step_shorter_than_an_interval_names_step_h(store: Store, settings: Settings) -> None:
    error = _refusal(store, settings, dispatch="rolling", step_h=0.25, horizon_h=24)
    assert (error.status_code, error.parameter) == (422, "step_h")
    error = _refusal(store, settings, dispatch="rolling", step_h=48, horizon_h=24)
    assert error.parameter == "step_h"
