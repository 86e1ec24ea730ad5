"""Scale-free statistics of an hourly price series, and the real price histories they are measured on.

The same functions run on the real files under `shared/data` and on the
simulator's output, so a calibration test compares like with like: profiles
are normalised by the series' own mean, volatility by its own level, and
spikes by the month they happen in, because levels differ from year to year.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import polars as pl

from shared_data import SHARED_DATA

NYISO_RT_2022 = SHARED_DATA / "history" / "nyiso_rt_zonal_hourly_2022.csv"
CAISO_RT_2020 = SHARED_DATA / "history" / "caiso_rt15_STANDFD2_1_N011_hourly_2020.csv"
ERCOT_HB_SOUTH = SHARED_DATA / "history" / "ercot_hb_south_dam_rtm_15min_2024-06_2025-03.csv"
PJM_EPF = SHARED_DATA / "epf" / "PJM.csv"
HISTORIES = (NYISO_RT_2022, CAISO_RT_2020, ERCOT_HB_SOUTH, PJM_EPF)

FloatArray = npt.NDArray[np.float64]

SUMMER = (7, 8)
WINTER = (12, 1, 2)
SHOULDER = (4, 5, 10, 11)


@dataclass(frozen=True)
class PriceStats:
    """Statistics of one hourly price series ($/MWh) in its market's local time.

    `hourly` and `monthly` are mean prices by local hour (0-23) and month
    (1-12, only months present) divided by the overall mean. `spikes` is the
    share of hours above three times their month's mean, `negative` the
    share below zero. `hourly_change` is the median absolute hour-to-hour
    change over the median price, `daily_change` the standard deviation of
    day-to-day log changes of daily means (floored at $1/MWh).
    """

    mean: float
    hourly: FloatArray
    monthly: dict[int, float]
    spikes: float
    negative: float
    hourly_change: float
    daily_change: float

    @property
    def peak_to_trough(self) -> float:
        """Highest over lowest hour of the mean daily shape."""
        return float(self.hourly.max() / self.hourly.min())

    @property
    def peak_hour(self) -> int:
        """Local hour (0-23, hour beginning) of the highest mean price."""
        return int(self.hourly.argmax())

    def season(self, months: tuple[int, ...]) -> float:
        """Mean of the monthly ratios over `months` (those present)."""
        return float(np.mean([self.monthly[m] for m in months if m in self.monthly]))

    @property
    def summer_over_shoulder(self) -> float:
        return self.season(SUMMER) / self.season(SHOULDER)

    @property
    def winter_over_shoulder(self) -> float:
        return self.season(WINTER) / self.season(SHOULDER)


def price_stats(frame: pl.DataFrame) -> PriceStats:
    """Statistics of a frame with `local` (naive or zoned local datetime) and `price`, one row per hour."""
    frame = frame.sort("local").with_columns(
        pl.col("local").dt.month().alias("month"),
        pl.col("local").dt.hour().alias("hour"),
        pl.col("local").dt.date().alias("day"),
    )
    price = frame["price"].to_numpy()
    mean = float(price.mean())
    by_hour = frame.group_by("hour").agg(pl.col("price").mean()).sort("hour")
    by_month = frame.group_by("month").agg(pl.col("price").mean().alias("month_mean")).sort("month")
    monthly = {int(m): float(v) / mean for m, v in by_month.iter_rows()}
    spikes = (
        frame.join(by_month, on="month").select((pl.col("price") > 3 * pl.col("month_mean")).mean()).item()
    )
    daily = frame.group_by("day").agg(pl.col("price").mean()).sort("day")["price"].to_numpy()
    return PriceStats(
        mean=mean,
        hourly=by_hour["price"].to_numpy() / mean,
        monthly=monthly,
        spikes=float(spikes),
        negative=float(np.mean(price < 0)),
        hourly_change=float(np.median(np.abs(np.diff(price))) / np.median(price)),
        daily_change=float(np.std(np.diff(np.log(np.maximum(daily, 1.0))))),
    )


def _utc_to_local(column: str, tz: str) -> pl.Expr:
    return pl.col(column).str.to_datetime(time_zone="UTC").dt.convert_time_zone(tz).alias("local")


def nyiso_rt_2022(zone: str) -> pl.DataFrame:
    """NYISO real-time zonal LBMP, hourly means of 5-minute prices, 2022 (`local`, `price`)."""
    raw = pl.read_csv(NYISO_RT_2022)
    return raw.filter(pl.col("zone") == zone).select(
        _utc_to_local("datetime_beginning_utc", "America/New_York"), pl.col("lbmp_usd_mwh").alias("price")
    )


def caiso_rt_2020() -> pl.DataFrame:
    """CAISO real-time (15-minute market) LMP at a PG&E node, hourly means, 2020 (`local`, `price`)."""
    raw = pl.read_csv(CAISO_RT_2020)
    return raw.select(
        _utc_to_local("datetime_beginning_utc", "America/Los_Angeles"), pl.col("lmp").alias("price")
    )


def ercot_hb_south(market: str) -> pl.DataFrame:
    """ERCOT HB_SOUTH settlement point price, hourly, 2024-06 to 2025-03; `market` is DAM or RTM."""
    raw = pl.read_csv(ERCOT_HB_SOUTH)
    local = pl.col("interval_start_central").str.to_datetime().dt.truncate("1h").alias("local")
    return raw.group_by(local).agg(pl.col(f"HB_SOUTH_{market}").mean().alias("price"))


def pjm_comed_da() -> pl.DataFrame:
    """PJM COMED zonal day-ahead price with PJM and COMED day-ahead load forecasts (MW), 2013-2018.

    Columns `local`, `price`, `system_mw`, `comed_mw`.
    """
    raw = pl.read_csv(PJM_EPF).rename(lambda c: c.strip())
    return raw.select(
        pl.col("Date").str.to_datetime().alias("local"),
        pl.col("Zonal COMED price").alias("price"),
        pl.col("System load forecast").alias("system_mw"),
        pl.col("Zonal COMED load foecast").alias("comed_mw"),
    )
