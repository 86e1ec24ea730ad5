"""ERCOT connector: MIS reports (no auth) and the Public API (subscription key + B2C token).

Reports (EMIL id -> dataset/market):

- NP4-190-CD DAM settlement point prices -> lmp `DAM` (hubs HB_*, load zones LZ_*, resource nodes)
- NP6-905-CD RT settlement point prices, 15-min -> lmp `RT15`
- NP6-788-CD SCED LMPs by resource node / load zone / hub -> lmp `SCED` (ERCOT-specific market:
  one row per SCED run, interval_start = run timestamp, interval_end = start + 5 min as parsed;
  ingest ends it when the location's next run starts, see `run_stamped` below)
- NP6-787-CD SCED LMPs by electrical bus -> lmp `SCED_BUS` (same convention, location_type node)
- NP4-183-CD DAM hourly LMPs by electrical bus -> lmp `DAM_LMP` (location_type node)
- NP4-188-CD DAM clearing prices for capacity (AS MCPC) -> as_price `DAM`, region `ERCOT`
- NP6-323-CD RT price adders per SCED run -> ordc_adder (download target market `SCED`)
- NP6-345-CD actual system load by weather zone -> load `actual` (system total as zone `ERCOT`)
- NP3-565-CD seven-day load forecast by model and weather zone -> load `forecast` (in-use model only)

ERCOT publishes no LMP components: energy/congestion/loss are null everywhere.
SCED publishes one file per run (roughly every 5 minutes, sooner when SCED is
re-run), and a run's prices hold until the next run starts, so the three
per-run reports (NP6-788-CD, NP6-787-CD, NP6-323-CD) are declared
`run_stamped`: ingest ends each run's interval at the next run's start.
All times are Central prevailing; `DSTFlag`/`RepeatedHourFlag` = Y marks the
second (CST) pass of the fall-back hour; the spring-forward day has 23 hours.

Settings (`ErcotSettings`, `CARBON254_ERCOT_*`): `url` redirects every ERCOT
host (MIS, API and token endpoint) to one base URL. With `api_key`,
`username` and `password` all set, downloads use the Public API and the
client must be built with the connector's `auth`; `token_url` / `api_url`
override the token endpoint and API base. Otherwise MIS is used.
`connector(settings)` builds the connector from `Settings.ercot`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from carbon254.isos import Iso
from carbon254.isos.ercot import parsers
from carbon254.isos.ercot.api import ErcotTokenAuth
from carbon254.isos.ercot.connector import (
    ErcotConnector,
    Source,
    delivery_date_params,
    download_targets,
    oper_day_params,
    posted_params,
    sced_params,
)
from carbon254.isos.ercot.settings import ErcotSettings
from carbon254.markets.connector import DownloadTarget
from carbon254.markets.report import Parser, Report
from carbon254.schema import Dataset

if TYPE_CHECKING:
    from carbon254.config import Settings

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


# MIS report type ids (reportTypeId) of the EMIL products read here.
REPORT_TYPE_IDS: dict[str, int] = {
    "NP4-190-CD": 12331,
    "NP6-905-CD": 12301,
    "NP6-788-CD": 12300,
    "NP6-787-CD": 11485,
    "NP4-183-CD": 12328,
    "NP4-188-CD": 12329,
    "NP6-323-CD": 13221,
    "NP6-345-CD": 13101,
    "NP3-565-CD": 14837,
}


def _names(code: str, report_type_id: int) -> re.Pattern[str]:
    """File names of one report: its EMIL digits in the friendly name (`DAMSPNP4190`, API
    `np4-190-cd_...`) or its report type id in the `cdr.` prefix."""
    prefix, number = code.split("-")[:2]
    return re.compile(rf"(?i){prefix}-?{number}(?!\d)|cdr\.{report_type_id:08d}\.")


def _report(
    code: str,
    title: str,
    dataset: Dataset,
    markets: tuple[str, ...],
    parse: Parser,
    header: tuple[str, ...],
    interval: timedelta | None,
    cadence: timedelta,
    *,
    run_stamped: bool = False,
) -> Report:
    return Report(
        Iso.ERCOT,
        code,
        title,
        dataset,
        markets,
        parse,
        _names(code, REPORT_TYPE_IDS[code]),
        header,
        interval,
        cadence,
        run_stamped,
    )


DAM_SPP = _report(
    "NP4-190-CD",
    "DAM Settlement Point Prices",
    Dataset.LMP,
    ("DAM",),
    parsers.parse_dam_spp,
    ("DeliveryDate", "HourEnding", "SettlementPoint", "SettlementPointPrice"),
    HOUR,
    DAY,
)
RT_SPP = _report(
    "NP6-905-CD",
    "Settlement Point Prices at Resource Nodes, Hubs and Load Zones",
    Dataset.LMP,
    ("RT15",),
    parsers.parse_rt_spp,
    ("DeliveryHour", "DeliveryInterval", "SettlementPointName", "SettlementPointType"),
    timedelta(minutes=15),
    timedelta(minutes=15),
)
SCED_LMP = _report(
    "NP6-788-CD",
    "LMPs by Resource Nodes, Load Zones and Trading Hubs",
    Dataset.LMP,
    ("SCED",),
    parsers.parse_sced_lmp,
    ("SCEDTimestamp", "RepeatedHourFlag", "SettlementPoint", "LMP"),
    timedelta(minutes=5),
    timedelta(minutes=5),
    run_stamped=True,
)
SCED_BUS_LMP = _report(
    "NP6-787-CD",
    "LMPs by Electrical Bus",
    Dataset.LMP,
    ("SCED_BUS",),
    parsers.parse_sced_bus_lmp,
    ("SCEDTimestamp", "ElectricalBus", "LMP"),
    timedelta(minutes=5),
    timedelta(minutes=5),
    run_stamped=True,
)
DAM_LMP = _report(
    "NP4-183-CD",
    "DAM Hourly LMPs",
    Dataset.LMP,
    ("DAM_LMP",),
    parsers.parse_dam_lmp,
    ("DeliveryDate", "HourEnding", "BusName", "LMP"),
    HOUR,
    DAY,
)
AS_MCPC = _report(
    "NP4-188-CD",
    "DAM Clearing Prices for Capacity",
    Dataset.AS_PRICE,
    ("DAM",),
    parsers.parse_as_mcpc,
    ("AncillaryType", "MCPC"),
    HOUR,
    DAY,
)
ORDC_ADDERS = _report(
    "NP6-323-CD",
    "Real-Time Price Adders by SCED Interval",
    Dataset.ORDC_ADDER,
    ("SCED",),
    parsers.parse_ordc_adders,
    ("SCEDTimestamp", "SystemLambda", "DPA"),
    timedelta(minutes=5),
    timedelta(minutes=5),
    run_stamped=True,
)
LOAD_ACTUAL = _report(
    "NP6-345-CD",
    "Actual System Load by Weather Zone",
    Dataset.LOAD,
    ("actual",),
    parsers.parse_load_actual,
    ("OperDay", "HourEnding", "FAR_WEST", "NORTH_C"),
    HOUR,
    DAY,
)
LOAD_FORECAST = _report(
    "NP3-565-CD",
    "Seven-Day Load Forecast by Model and Weather Zone",
    Dataset.LOAD,
    ("forecast",),
    parsers.parse_load_forecast,
    ("HourEnding", "FarWest", "Model", "InUseFlag"),
    HOUR,
    HOUR,
)

REPORTS: tuple[Report, ...] = (
    DAM_SPP,
    RT_SPP,
    SCED_LMP,
    SCED_BUS_LMP,
    DAM_LMP,
    AS_MCPC,
    ORDC_ADDERS,
    LOAD_ACTUAL,
    LOAD_FORECAST,
)

_15MIN_END = timedelta(minutes=1)  # NP6-905-CD names carry the interval END: 00:00 belongs to the day before


def _source(
    report: Report, api_path: str, api_params: Callable[[date], dict[str, str]], **rule: Any
) -> Source:
    """The download source of `report` (its one market), with its day-matching `rule` (see `Source`)."""
    return Source(report, report.markets[0], REPORT_TYPE_IDS[report.name], api_path, api_params, **rule)


SOURCES: tuple[Source, ...] = (
    _source(DAM_SPP, "np4-190-cd/dam_stlmnt_pnt_prices", delivery_date_params, publish_offset_days=-1),
    _source(RT_SPP, "np6-905-cd/spp_node_zone_hub", delivery_date_params, stamp_lag=_15MIN_END),
    _source(SCED_LMP, "np6-788-cd/lmp_node_zone_hub", sced_params, stamp_lag=timedelta(0)),
    _source(SCED_BUS_LMP, "np6-787-cd/lmp_electrical_bus", sced_params, stamp_lag=timedelta(0)),
    _source(DAM_LMP, "np4-183-cd/dam_hourly_lmp", delivery_date_params, publish_offset_days=-1),
    _source(AS_MCPC, "np4-188-cd/dam_clear_price_for_cap", delivery_date_params, publish_offset_days=-1),
    _source(ORDC_ADDERS, "np6-323-cd/rt_price_adder_sced", sced_params, stamp_lag=timedelta(0)),
    _source(LOAD_ACTUAL, "np6-345-cd/act_sys_load_by_wzn", oper_day_params, publish_offset_days=1),
    _source(LOAD_FORECAST, "np3-565-cd/lf_by_model_weather_zone", posted_params, publish_offset_days=0),
)

TARGETS: tuple[DownloadTarget, ...] = download_targets(SOURCES)


def connector(settings: Settings) -> ErcotConnector:
    """The ERCOT connector: the public API with the account of `settings.ercot`, else MIS."""
    return ErcotConnector(SOURCES, settings.ercot)


__all__ = [
    "REPORTS",
    "SOURCES",
    "TARGETS",
    "ErcotConnector",
    "ErcotSettings",
    "ErcotTokenAuth",
    "connector",
]
