"""The re-forecaster: sub-hourly forecasts of the wanted locations, redone at every committed interval.

It runs in every service process but acts only in the one that publishes
the change feed (`FeedLease.leading`). Every `POLL_S` seconds it reads
which forecast series are wanted (`ForecastBoard.wanted`) and fits a model
for each new one (`forecast.subhourly_live.fit_live`) on the location's
stored five-minute real-time prices of the last `history_days` days, read
once, in a worker thread, one location at a time; models are refitted
every `REFIT_S` seconds and forgotten `FORGET_S` seconds after nobody wants
them. A location that cannot be fitted (too little history) gets an error
message instead, and another try after `RETRY_S` seconds.

The watcher hands it each page of the change feed right after publishing it
(`on_page`): the new or revised intervals of followed locations are folded
into their states and each gets a new forecast, published through the lease
(so only while this process leads) and remembered on the board; that is
microseconds per location, on the event loop. Commits that arrive while a
location is being fitted are held and folded in once the fit is done. If
pages were missed (the watcher skipped ahead, or leadership was lost),
every model is dropped and refitted, so no forecast is ever made from a
state that missed an interval.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from carbon254.forecast import FIVE_MINUTES_US, ForecastError, SubHourlyModel, SubHourlyState
from carbon254.forecast.days import Floats
from carbon254.forecast.subhourly import Stamps
from carbon254.forecast.subhourly_live import fit_live, fold
from carbon254.schema import Dataset
from carbon254.service.stream.forecast_board import ForecastBoard
from carbon254.service.stream.forecast_messages import FORECAST_MARKETS, ForecastKey, ForecastMessage
from carbon254.service.stream.lease import FeedLease
from carbon254.store.base import Changes, Store

logger = logging.getLogger("carbon254.service.stream")

POLL_S = 0.25
REFIT_S = 86_400.0
RETRY_S = 300.0
FORGET_S = 600.0
HORIZONS = 12
# A fit reads a little past the wall clock: a feed may publish an interval before it ends.
READ_AHEAD = timedelta(days=1)


def utc_now_us() -> int:
    """The wall clock in microseconds since the epoch (UTC)."""
    return time.time_ns() // 1_000


@dataclass(slots=True)
class _Series:
    """One followed location: its model, state and the newest commit already folded in."""

    model: SubHourlyModel
    state: SubHourlyState
    version: str
    trained_through_us: int
    since_commit: int
    fitted_at: float


@dataclass(slots=True)
class _Commits:
    """Intervals committed after `since_commit` for one location while it was being fitted."""

    since_commit: int = 0
    starts: list[Stamps] = field(default_factory=list)
    prices: list[Floats] = field(default_factory=list)


def model_version(model: SubHourlyModel) -> str:
    """A short digest of the fitted coefficients: equal versions forecast alike."""
    digest = hashlib.blake2b(digest_size=6)
    for part in (model.coef, model.seasonal, model.offsets):
        digest.update(np.ascontiguousarray(part).tobytes())
    return digest.hexdigest()


class Reforecaster:
    """Keeps the wanted locations' models current and publishes their forecasts while this process leads."""

    def __init__(
        self,
        store: Callable[[], Store | None],
        lease: FeedLease,
        board: ForecastBoard,
        namespace: str,
        history_days: int,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._store = store
        self._lease = lease
        self._board = board
        self._namespace = namespace
        self.history = timedelta(days=history_days)
        self._clock = clock
        self._series: dict[ForecastKey, _Series] = {}
        self._fitting: dict[ForecastKey, _Commits] = {}
        self._failed: dict[ForecastKey, float] = {}
        self._wanted_at: dict[ForecastKey, float] = {}
        self._page_cursor: str | None = None  # where the last page handed in ended
        self._task: asyncio.Task[None] | None = None
        self.published = 0  # forecast messages this process published

    def following(self) -> bool:
        """Whether any location is followed (the watcher must then read every page)."""
        return bool(self._series or self._fitting)

    def start(self) -> None:
        """Start the loop that fits wanted locations (call on the event loop)."""
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="carbon254-stream-reforecast")

    async def stop(self) -> None:
        """Stop the loop."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    # ---- the change feed -------------------------------------------------------------------------

    async def on_page(self, cursor: str, changes: Changes) -> None:
        """Fold a published page (read from `cursor`) into the followed locations and publish forecasts."""
        if self._page_cursor is not None and cursor != self._page_cursor:
            self._drop_all("the change feed moved on without this process")
        self._page_cursor = changes.cursor
        if not self.following():
            return
        messages: list[ForecastMessage] = []
        issued = utc_now_us()
        for batch in changes.batches:
            if batch.dataset is not Dataset.LMP or batch.market not in FORECAST_MARKETS:
                continue
            followed = self._followed(batch.iso, batch.market)
            if not followed:
                continue
            for location, (commits, starts, prices) in _by_location(batch.table, followed).items():
                key = ForecastKey(batch.iso, batch.market, location)
                message = self._fold(key, commits, starts, prices, issued)
                if message is not None:
                    messages.append(message)
        await self._publish(messages)

    def _followed(self, iso: str, market: str | None) -> list[str]:
        """The locations of `iso` and `market` with a model or a fit under way."""
        return [k.location for k in (*self._series, *self._fitting) if (k.iso, k.market) == (iso, market)]

    def _fold(
        self, key: ForecastKey, commits: Stamps, starts: Stamps, prices: Floats, issued_us: int
    ) -> ForecastMessage | None:
        """Fold one location's rows of a page in; its new forecast, if it is followed and anything changed."""
        held = self._fitting.get(key)
        if held is not None:
            keep = commits > held.since_commit
            held.starts.append(starts[keep])
            held.prices.append(prices[keep])
            return None
        series = self._series.get(key)
        if series is None:
            return None
        keep = commits > series.since_commit
        if not keep.any():
            return None
        try:
            series.state = fold(series.model, series.state, starts[keep], prices[keep])
        except ForecastError as exc:
            logger.warning("stream: forecast of %s skipped a commit it cannot read (%s)", key, exc)
            return None
        series.since_commit = int(commits[keep].max())
        return self._message(key, series, issued_us)

    def _message(self, key: ForecastKey, series: _Series, issued_us: int) -> ForecastMessage:
        forecast = series.model.predict(series.state)
        quantiles = dict(zip(forecast.levels, forecast.quantiles.tolist(), strict=True))
        return ForecastMessage(
            key.iso,
            key.market,
            key.location,
            commit=series.since_commit,
            issued_at_us=issued_us,
            model_version=series.version,
            trained_through_us=series.trained_through_us,
            last_interval_start_us=series.state.last_start_us,
            interval_start_us=forecast.interval_start.tolist(),
            point=forecast.point.tolist(),
            p10=quantiles[0.1],
            p50=quantiles[0.5],
            p90=quantiles[0.9],
        )

    async def _publish(self, messages: list[ForecastMessage]) -> None:
        if not messages:
            return
        pairs = [(m.key.channel.name(self._namespace), m.encode()) for m in messages]
        if await self._lease.publish_only(pairs):
            self.published += len(messages)
            await self._board.remember(messages)
        else:
            self._drop_all("this process no longer publishes the change feed")

    def _drop_all(self, why: str) -> None:
        if self._series or self._fitting:
            logger.info("stream: forecasts will be refitted: %s", why)
        self._series.clear()
        self._fitting.clear()

    # ---- fitting ---------------------------------------------------------------------------------

    async def _run(self) -> None:
        failing = False
        while True:
            try:
                await self.step()
                failing = False
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if not failing:  # once per outage
                    logger.warning("stream: cannot keep forecasts current (%s); retrying", exc)
                    failing = True
            await asyncio.sleep(POLL_S)

    async def step(self) -> None:
        """Fit what is wanted and not fitted (or due a refit), forget what nobody wants; if leading."""
        if not self._lease.leading:
            self._drop_all("this process does not publish the change feed")
            self._page_cursor = None
            return
        now = self._clock()
        for key in await self._board.wanted():
            self._wanted_at[key] = now
        for key, at in list(self._wanted_at.items()):
            if now - at > FORGET_S:
                del self._wanted_at[key]
                self._series.pop(key, None)
                self._failed.pop(key, None)
        due = [
            key
            for key in sorted(self._wanted_at)
            if (key not in self._series and now - self._failed.get(key, -RETRY_S) >= RETRY_S)
            or (key in self._series and now - self._series[key].fitted_at >= REFIT_S)
        ]
        for key in due:
            await self._fit(key)

    async def _fit(self, key: ForecastKey) -> None:
        """Fit `key`'s model on the stored history, fold in what arrived meanwhile, publish a forecast."""
        store = self._store()
        if store is None:
            return
        cursor = int(await asyncio.to_thread(store.change_cursor))
        held = self._fitting[key] = _Commits(cursor)
        try:
            model, state, through = await asyncio.to_thread(self._fit_from_store, store, key)
        except ForecastError as exc:
            self._fitting.pop(key, None)
            self._series.pop(key, None)
            self._failed[key] = self._clock()
            error = f"no forecast for {key.location}: {exc}"
            await self._publish(
                [ForecastMessage(key.iso, key.market, key.location, cursor, utc_now_us(), error=error)]
            )
            return
        except BaseException:
            self._fitting.pop(key, None)
            raise
        if self._fitting.pop(key, None) is not held:
            return  # dropped meanwhile (pages were missed): fitted again on the next step
        for starts, prices in zip(held.starts, held.prices, strict=True):
            with contextlib.suppress(ForecastError):
                state = fold(model, state, starts, prices)
        series = _Series(model, state, model_version(model), through, cursor, self._clock())
        self._series[key] = series
        self._failed.pop(key, None)
        await self._publish([self._message(key, series, utc_now_us())])

    def _fit_from_store(self, store: Store, key: ForecastKey) -> tuple[SubHourlyModel, SubHourlyState, int]:
        """The model and state from the last `history` of stored prices, and the last interval fitted on."""
        now = datetime.now(UTC)
        table = store.read(
            Dataset.LMP, key.iso, key.market, [key.location], now - self.history, now + READ_AHEAD
        )
        starts, prices = _prices(table)
        model, state = fit_live(starts, prices, horizons=HORIZONS, interval_us=FIVE_MINUTES_US)
        return model, state, int(starts.max())


def _prices(table: pa.Table) -> tuple[Stamps, Floats]:
    """Interval starts (µs UTC) and LMPs ($/MWh) of the rows with a price."""
    table = table.filter(pc.is_valid(table.column("lmp")))
    starts = table.column("interval_start").cast(pa.timestamp("us", tz="UTC")).cast(pa.int64())
    return starts.to_numpy(), table.column("lmp").to_numpy().astype(np.float64)


def _by_location(table: pa.Table, locations: list[str]) -> dict[str, tuple[Stamps, Stamps, Floats]]:
    """Commit stamps, interval starts (µs UTC) and LMPs ($/MWh) of each of `locations`, in commit order."""
    table = table.filter(
        pc.is_in(table.column("location"), pa.array(locations, table.column("location").type))
    )
    out: dict[str, tuple[Stamps, Stamps, Floats]] = {}
    for location in locations:
        rows = table.filter(
            pc.and_(pc.equal(table.column("location"), location), pc.is_valid(table.column("lmp")))
        )
        if rows.num_rows:
            starts, prices = _prices(rows)
            out[location] = (rows.column("ingested_at").cast(pa.int64()).to_numpy(), starts, prices)
    return out
