"""`Client`: the blocking SDK. Every REST dataset as a method returning a DataFrame.

    from carbon254.client import Client

    client = Client(base_url="http://127.0.0.1:8000", api_key="c254_...")
    prices = client.lmp(iso="ERCOT", market="DAM", locations=["HB_NORTH"],
                        start="2024-03-01", end="2024-04-01", tz="iso")

Tables travel as Arrow IPC and arrive as pandas (default), Polars or Arrow,
with zone-aware timestamps and categorical names. See `AsyncClient` for the
same methods with `await`.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncGenerator, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal, TypeVar, overload
from urllib.parse import quote

import httpx
import pyarrow as pa

from carbon254.client.base import (
    DEFAULT_CONCURRENCY,
    DEFAULT_TIMEOUT_S,
    ClientSettings,
    Progress,
    as_frame,
    decode_table,
    progress_callback,
    stitch,
)
from carbon254.client.battery import (
    BatteryChartQuery,
    BatteryDispatchQuery,
    BatteryOptimized,
    BatteryRevenueQuery,
    optimize_body,
    optimized,
)
from carbon254.client.battery_screen import SCREEN_KIND, screen_request
from carbon254.client.curves import QuoteSource, chart_png, mark_upload, write_png
from carbon254.client.forecast import BACKTEST_KIND, TRAIN_KIND, ForecastQuery, backtest_path, job_request
from carbon254.client.forecast_models import (
    MODEL_LIST,
    MODELS_PATH,
    ForecastModel,
    model_filters,
    model_path,
    pick_model,
)
from carbon254.client.forecast_stream import ForecastSubscription, SubHourlyForecast, stream_forecasts
from carbon254.client.frames import FrameKind
from carbon254.client.inprocess import LOCAL_BASE_URL, LocalApp, SyncInProcessTransport
from carbon254.client.jobs import Job, Jobs
from carbon254.client.models import CurveMarked, QualityReport, SpreadStats, SpreadStatsAnswer, Tick
from carbon254.client.ppa import (
    PpaBreakevenQuery,
    PpaCashflowsQuery,
    PpaChartQuery,
    PpaNpvQuery,
    PpaSensitivityQuery,
    PpaValueBody,
    PpaValued,
    valued,
)
from carbon254.client.queries import (
    AsPriceQuery,
    Block,
    CapacityPriceQuery,
    CurveDiffQuery,
    CurveHistoryQuery,
    CurveHpfcQuery,
    CurveQuery,
    CurveQuotesQuery,
    ExportFormat,
    ExportQuery,
    LmpQuery,
    LoadQuery,
    LocationsQuery,
    NodeCurveQuery,
    OrdcQuery,
    QualityQuery,
    Query,
    Resample,
    SpreadsQuery,
    TimeBound,
    checked,
    day_text,
    month_text,
    stats_request,
)
from carbon254.client.risk import (
    RiskAttributionQuery,
    RiskBacktestQuery,
    RiskEsQuery,
    RiskStressQuery,
    RiskVarQuery,
)
from carbon254.client.scenarios import (
    PRESET_LIST,
    RUN_LIST,
    SAVED_LIST,
    SWEEP_KIND,
    YAML,
    ScenarioChecked,
    ScenarioPreset,
    ScenarioRun,
    ScenarioRunRecord,
    ScenarioSaved,
    run_body,
    scenario_text,
    sweep_request,
)
from carbon254.client.stream import Since, Subscription, stream_ticks
from carbon254.client.transport import send

if TYPE_CHECKING:
    import pandas as pd
    import polars as pl

_T = TypeVar("_T")


class Client:
    """A blocking client of one 254Carbon service (see the module docstring).

    Arguments (all optional): `base_url` (else `CARBON254_URL`, else the
    config file, else `http://127.0.0.1:8000`), `api_key` (else
    `CARBON254_API_KEY`, else the config file), `auth` (an `httpx.Auth` such
    as `carbon254.client.ClientCredentials`, replacing the key), `timeout_s`
    per request, `retries` on 5xx/429/lost connections, `chunk_days` (None:
    pieces of about a million rows) and `max_concurrency` for long LMP
    windows, `config` (a TOML file path). `client.jobs` submits, finds and
    lists jobs; `export` runs a dataset query as one. Use it
    as a context manager, or call `close()`.
    """

    def __init__(
        self,
        base_url: str | None = None,
        api_key: str | None = None,
        *,
        auth: httpx.Auth | None = None,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        retries: int = 3,
        chunk_days: int | None = None,
        max_concurrency: int = DEFAULT_CONCURRENCY,
        config: str | Path | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.settings = ClientSettings(
            base_url, api_key, auth, timeout_s, retries, chunk_days, max_concurrency, config
        )
        self._http = httpx.Client(
            base_url=self.settings.base_url,
            headers=self.settings.headers(),
            auth=auth,
            timeout=self.settings.timeout,
            transport=transport,
            limits=httpx.Limits(max_connections=max(10, max_concurrency)),
        )
        self._local: LocalApp | None = None
        self.jobs = Jobs(self._http, self.settings, self._prepare_jobs)

    @classmethod
    def local(cls, data_dir: str | Path, *, chunk_days: int | None = None) -> Client:
        """A client answering in this process from the embedded store in `data_dir` (no server, no key).

        Every call runs the service's own code, so answers and errors are
        those of a served request. Needs the full `carbon254` package.
        """
        app = LocalApp(data_dir)
        client = cls(
            base_url=LOCAL_BASE_URL,
            transport=SyncInProcessTransport(app.app),
            chunk_days=chunk_days,
            max_concurrency=1,
            retries=0,
        )
        client.settings.api_key = None
        client._http.headers.pop("X-API-Key", None)
        client._local = app
        return client

    # ---- lifecycle --------------------------------------------------------------------------

    def close(self) -> None:
        """Close the connections (and, in local mode, the store)."""
        self._http.close()
        if self._local is not None:
            self._local.close()
            self._local = None

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()

    # ---- plumbing ---------------------------------------------------------------------------

    def _prepare_jobs(self) -> None:
        if self._local is not None:
            self._local.start_jobs()

    def _fetch_table(self, query: Query, progress: bool | Progress = False) -> pa.Table:
        pieces = self.settings.pieces(query)
        report = progress_callback(progress, query.path.rsplit("/", 1)[-1], len(pieces))
        done = 0
        lock = threading.Lock()

        def fetch(piece: Query) -> pa.Table:
            nonlocal done
            table = decode_table(
                send(self._http, self.settings.table_request(self._http, piece), self.settings.retry)
            )
            with lock:
                done += 1
                if report is not None:
                    report(done, len(pieces))
            return table

        if len(pieces) == 1:
            return fetch(pieces[0])
        with ThreadPoolExecutor(min(self.settings.max_concurrency, len(pieces))) as pool:
            tables = list(pool.map(fetch, pieces))
        return stitch(query, tables)

    def _get_json(self, query: Query) -> bytes:
        return send(self._http, self.settings.json_request(self._http, query), self.settings.retry).content

    # ---- datasets ---------------------------------------------------------------------------

    @overload
    def lmp(
        self,
        *,
        iso: str,
        market: str,
        start: TimeBound,
        end: TimeBound,
        locations: str | list[str] | None = None,
        tz: str | None = None,
        resample: Resample | str | None = None,
        block: Block | str | None = None,
        as_of: TimeBound | None = None,
        frame: Literal["pandas"] = "pandas",
        progress: bool | Progress = False,
    ) -> pd.DataFrame: ...
    @overload
    def lmp(
        self,
        *,
        iso: str,
        market: str,
        start: TimeBound,
        end: TimeBound,
        locations: str | list[str] | None = None,
        tz: str | None = None,
        resample: Resample | str | None = None,
        block: Block | str | None = None,
        as_of: TimeBound | None = None,
        frame: Literal["polars"],
        progress: bool | Progress = False,
    ) -> pl.DataFrame: ...
    @overload
    def lmp(
        self,
        *,
        iso: str,
        market: str,
        start: TimeBound,
        end: TimeBound,
        locations: str | list[str] | None = None,
        tz: str | None = None,
        resample: Resample | str | None = None,
        block: Block | str | None = None,
        as_of: TimeBound | None = None,
        frame: Literal["arrow"],
        progress: bool | Progress = False,
    ) -> pa.Table: ...
    def lmp(
        self,
        *,
        iso: str,
        market: str,
        start: TimeBound,
        end: TimeBound,
        locations: str | list[str] | None = None,
        tz: str | None = None,
        resample: Resample | str | None = None,
        block: Block | str | None = None,
        as_of: TimeBound | None = None,
        frame: FrameKind = "pandas",
        progress: bool | Progress = False,
    ) -> Any:
        """LMPs with energy, congestion and loss components ($/MWh): the rows of `GET /v1/lmp`.

        Columns interval_start, interval_end (zone-aware, in `tz`: an IANA
        zone or "iso" for the ISO's market time; UTC by default), iso,
        market, location, lmp, energy, congestion, loss. `locations` None
        means every location. `resample` ("hourly", "daily", "monthly")
        averages into calendar buckets; `block` ("onpeak", "offpeak", "atc",
        "2x16", "7x8") keeps one delivery block; `as_of` returns the data as
        known then. Long windows are fetched in pieces (`chunk_days`)
        concurrently (`progress=True` draws a bar on stderr).
        """
        query = checked(
            LmpQuery,
            iso=iso,
            market=market,
            start=start,
            end=end,
            locations=locations,
            tz=tz,
            resample=resample,
            block=block,
            as_of=as_of,
        )
        return as_frame(self._fetch_table(query, progress), frame)

    @overload
    def as_prices(
        self,
        *,
        iso: str,
        market: str,
        start: TimeBound,
        end: TimeBound,
        regions: str | list[str] | None = None,
        products: str | list[str] | None = None,
        tz: str | None = None,
        resample: Resample | str | None = None,
        block: Block | str | None = None,
        as_of: TimeBound | None = None,
        frame: Literal["pandas"] = "pandas",
    ) -> pd.DataFrame: ...
    @overload
    def as_prices(
        self,
        *,
        iso: str,
        market: str,
        start: TimeBound,
        end: TimeBound,
        regions: str | list[str] | None = None,
        products: str | list[str] | None = None,
        tz: str | None = None,
        resample: Resample | str | None = None,
        block: Block | str | None = None,
        as_of: TimeBound | None = None,
        frame: Literal["polars"],
    ) -> pl.DataFrame: ...
    @overload
    def as_prices(
        self,
        *,
        iso: str,
        market: str,
        start: TimeBound,
        end: TimeBound,
        regions: str | list[str] | None = None,
        products: str | list[str] | None = None,
        tz: str | None = None,
        resample: Resample | str | None = None,
        block: Block | str | None = None,
        as_of: TimeBound | None = None,
        frame: Literal["arrow"],
    ) -> pa.Table: ...
    def as_prices(
        self,
        *,
        iso: str,
        market: str,
        start: TimeBound,
        end: TimeBound,
        regions: str | list[str] | None = None,
        products: str | list[str] | None = None,
        tz: str | None = None,
        resample: Resample | str | None = None,
        block: Block | str | None = None,
        as_of: TimeBound | None = None,
        frame: FrameKind = "pandas",
    ) -> Any:
        """Ancillary service clearing prices ($/MW-h): the rows of `GET /v1/as_price`.

        Columns interval_start, interval_end, iso, market, region, product,
        price. `regions`/`products` None means all of them.
        """
        query = checked(
            AsPriceQuery,
            iso=iso,
            market=market,
            start=start,
            end=end,
            regions=regions,
            products=products,
            tz=tz,
            resample=resample,
            block=block,
            as_of=as_of,
        )
        return as_frame(self._fetch_table(query), frame)

    @overload
    def capacity_prices(
        self,
        *,
        iso: str,
        start: TimeBound,
        end: TimeBound,
        auction: str | None = None,
        zones: str | list[str] | None = None,
        tz: str | None = None,
        as_of: TimeBound | None = None,
        frame: Literal["pandas"] = "pandas",
    ) -> pd.DataFrame: ...
    @overload
    def capacity_prices(
        self,
        *,
        iso: str,
        start: TimeBound,
        end: TimeBound,
        auction: str | None = None,
        zones: str | list[str] | None = None,
        tz: str | None = None,
        as_of: TimeBound | None = None,
        frame: Literal["polars"],
    ) -> pl.DataFrame: ...
    @overload
    def capacity_prices(
        self,
        *,
        iso: str,
        start: TimeBound,
        end: TimeBound,
        auction: str | None = None,
        zones: str | list[str] | None = None,
        tz: str | None = None,
        as_of: TimeBound | None = None,
        frame: Literal["arrow"],
    ) -> pa.Table: ...
    def capacity_prices(
        self,
        *,
        iso: str,
        start: TimeBound,
        end: TimeBound,
        auction: str | None = None,
        zones: str | list[str] | None = None,
        tz: str | None = None,
        as_of: TimeBound | None = None,
        frame: FrameKind = "pandas",
    ) -> Any:
        """Capacity auction prices ($/MW-day) for delivery periods starting in [start, end).

        The rows of `GET /v1/capacity_price`: delivery_start, delivery_end,
        iso, auction, zone, price.
        """
        query = checked(
            CapacityPriceQuery,
            iso=iso,
            start=start,
            end=end,
            auction=auction,
            zones=zones,
            tz=tz,
            as_of=as_of,
        )
        return as_frame(self._fetch_table(query), frame)

    @overload
    def ordc(
        self,
        *,
        start: TimeBound,
        end: TimeBound,
        iso: str = "ERCOT",
        tz: str | None = None,
        resample: Resample | str | None = None,
        block: Block | str | None = None,
        as_of: TimeBound | None = None,
        frame: Literal["pandas"] = "pandas",
    ) -> pd.DataFrame: ...
    @overload
    def ordc(
        self,
        *,
        start: TimeBound,
        end: TimeBound,
        iso: str = "ERCOT",
        tz: str | None = None,
        resample: Resample | str | None = None,
        block: Block | str | None = None,
        as_of: TimeBound | None = None,
        frame: Literal["polars"],
    ) -> pl.DataFrame: ...
    @overload
    def ordc(
        self,
        *,
        start: TimeBound,
        end: TimeBound,
        iso: str = "ERCOT",
        tz: str | None = None,
        resample: Resample | str | None = None,
        block: Block | str | None = None,
        as_of: TimeBound | None = None,
        frame: Literal["arrow"],
    ) -> pa.Table: ...
    def ordc(
        self,
        *,
        start: TimeBound,
        end: TimeBound,
        iso: str = "ERCOT",
        tz: str | None = None,
        resample: Resample | str | None = None,
        block: Block | str | None = None,
        as_of: TimeBound | None = None,
        frame: FrameKind = "pandas",
    ) -> Any:
        """ERCOT's real-time ORDC reserve and reliability price adders ($/MWh): `GET /v1/ordc_adder`."""
        query = checked(
            OrdcQuery, iso=iso, start=start, end=end, tz=tz, resample=resample, block=block, as_of=as_of
        )
        return as_frame(self._fetch_table(query), frame)

    @overload
    def load(
        self,
        *,
        iso: str,
        start: TimeBound,
        end: TimeBound,
        kind: str | None = None,
        zones: str | list[str] | None = None,
        tz: str | None = None,
        resample: Resample | str | None = None,
        block: Block | str | None = None,
        as_of: TimeBound | None = None,
        frame: Literal["pandas"] = "pandas",
    ) -> pd.DataFrame: ...
    @overload
    def load(
        self,
        *,
        iso: str,
        start: TimeBound,
        end: TimeBound,
        kind: str | None = None,
        zones: str | list[str] | None = None,
        tz: str | None = None,
        resample: Resample | str | None = None,
        block: Block | str | None = None,
        as_of: TimeBound | None = None,
        frame: Literal["polars"],
    ) -> pl.DataFrame: ...
    @overload
    def load(
        self,
        *,
        iso: str,
        start: TimeBound,
        end: TimeBound,
        kind: str | None = None,
        zones: str | list[str] | None = None,
        tz: str | None = None,
        resample: Resample | str | None = None,
        block: Block | str | None = None,
        as_of: TimeBound | None = None,
        frame: Literal["arrow"],
    ) -> pa.Table: ...
    def load(
        self,
        *,
        iso: str,
        start: TimeBound,
        end: TimeBound,
        kind: str | None = None,
        zones: str | list[str] | None = None,
        tz: str | None = None,
        resample: Resample | str | None = None,
        block: Block | str | None = None,
        as_of: TimeBound | None = None,
        frame: FrameKind = "pandas",
    ) -> Any:
        """Zonal load in MW, actual and forecast (`kind`): the rows of `GET /v1/load`."""
        query = checked(
            LoadQuery,
            iso=iso,
            start=start,
            end=end,
            kind=kind,
            zones=zones,
            tz=tz,
            resample=resample,
            block=block,
            as_of=as_of,
        )
        return as_frame(self._fetch_table(query), frame)

    @overload
    def locations(
        self,
        *,
        iso: str | None = None,
        search: str | None = None,
        type: str | None = None,
        frame: Literal["pandas"] = "pandas",
    ) -> pd.DataFrame: ...
    @overload
    def locations(
        self,
        *,
        iso: str | None = None,
        search: str | None = None,
        type: str | None = None,
        frame: Literal["polars"],
    ) -> pl.DataFrame: ...
    @overload
    def locations(
        self,
        *,
        iso: str | None = None,
        search: str | None = None,
        type: str | None = None,
        frame: Literal["arrow"],
    ) -> pa.Table: ...
    def locations(
        self,
        *,
        iso: str | None = None,
        search: str | None = None,
        type: str | None = None,
        frame: FrameKind = "pandas",
    ) -> Any:
        """Priced locations (iso, location, location_type, source), of one ISO or all; `search` any case."""
        return as_frame(self._fetch_table(checked(LocationsQuery, iso=iso, search=search, type=type)), frame)

    def quality(
        self,
        *,
        start: TimeBound,
        end: TimeBound,
        iso: str | None = None,
        dataset: str = "lmp",
        market: str | None = None,
    ) -> QualityReport:
        """Expected vs present intervals per market day, gaps, revisions and ingest lag: `GET /v1/quality`.

        A typed `QualityReport`: one summary per ISO, dataset and market,
        then one entry per market day (lags in seconds).
        """
        query = checked(QualityQuery, start=start, end=end, iso=iso, dataset=dataset, market=market)
        return QualityReport.model_validate_json(self._get_json(query))

    # ---- analytics --------------------------------------------------------------------------

    @overload
    def spreads(
        self,
        *,
        iso: str,
        market: str,
        location: str,
        minus: str,
        start: TimeBound,
        end: TimeBound,
        minus_market: str | None = None,
        tz: str | None = None,
        block: Block | str | None = None,
        resample: Resample | str | None = None,
        as_of: TimeBound | None = None,
        frame: Literal["pandas"] = "pandas",
    ) -> pd.DataFrame: ...
    @overload
    def spreads(
        self,
        *,
        iso: str,
        market: str,
        location: str,
        minus: str,
        start: TimeBound,
        end: TimeBound,
        minus_market: str | None = None,
        tz: str | None = None,
        block: Block | str | None = None,
        resample: Resample | str | None = None,
        as_of: TimeBound | None = None,
        frame: Literal["polars"],
    ) -> pl.DataFrame: ...
    @overload
    def spreads(
        self,
        *,
        iso: str,
        market: str,
        location: str,
        minus: str,
        start: TimeBound,
        end: TimeBound,
        minus_market: str | None = None,
        tz: str | None = None,
        block: Block | str | None = None,
        resample: Resample | str | None = None,
        as_of: TimeBound | None = None,
        frame: Literal["arrow"],
    ) -> pa.Table: ...
    def spreads(
        self,
        *,
        iso: str,
        market: str,
        location: str,
        minus: str,
        start: TimeBound,
        end: TimeBound,
        minus_market: str | None = None,
        tz: str | None = None,
        block: Block | str | None = None,
        resample: Resample | str | None = None,
        as_of: TimeBound | None = None,
        frame: FrameKind = "pandas",
    ) -> Any:
        """LMP of `location` minus LMP of `minus` ($/MWh): the rows of `GET /v1/spreads`.

        Node minus hub is the basis; `market="DAM", minus_market="RT5"` (same
        location) the DA-RT spread, on the hourly intervals. Columns
        interval_start, interval_end, iso, location, minus, spread,
        energy_spread, congestion_spread, loss_spread, location_lmp,
        minus_lmp, and with `resample` the bucket's `coverage` and
        `intervals`. `block` keeps one delivery block.
        """
        query = checked(
            SpreadsQuery,
            iso=iso,
            market=market,
            location=location,
            minus=minus,
            start=start,
            end=end,
            minus_market=minus_market,
            tz=tz,
            block=block,
            resample=resample,
            as_of=as_of,
        )
        return as_frame(self._fetch_table(query), frame)

    def spread_stats(
        self,
        *,
        iso: str,
        market: str,
        location: str,
        minus: str,
        start: TimeBound,
        end: TimeBound,
        minus_market: str | None = None,
        block: Block | str | None = None,
        as_of: TimeBound | None = None,
        threshold: float = 0.0,
    ) -> SpreadStats:
        """Duration-weighted statistics of the spread over the window (and `block`): `?stats=true`.

        Mean, std, min, max, percentiles (p05..p95) and the share of hours
        above `threshold` ($/MWh), as a typed `SpreadStats`.
        """
        query = checked(
            SpreadsQuery,
            **stats_request(
                iso=iso,
                market=market,
                location=location,
                minus=minus,
                start=start,
                end=end,
                minus_market=minus_market,
                block=block,
                as_of=as_of,
                threshold=threshold,
            ),
        )
        return SpreadStatsAnswer.model_validate_json(self._get_json(query)).stats

    # ---- forward curves ---------------------------------------------------------------------

    def mark_curve(
        self,
        *,
        iso: str,
        hub: str,
        as_of: str | date,
        quotes: QuoteSource,
        through: str | date | None = None,
        prior: bool = True,
    ) -> CurveMarked:
        """Mark `hub`'s forward curve on `as_of` from `quotes` ($/MWh); the stored mark (`POST /v1/curves`).

        `quotes` is a CSV or JSON file path, CSV text, a list of dicts, or a
        pandas/Polars DataFrame with columns `start,end,block,price` (or
        `contract,block,price`). Each quote's price becomes the hours-weighted
        average of its months' prices. Returns the version stored (1 for the
        day's first mark), the monthly prices and the quotes found redundant.
        Contradictory or malformed quotes raise `InvalidRequest` with the
        service's message naming them; no feature `NotEntitled`. Not retried
        (a retry could store a second version).
        """
        upload = mark_upload(iso=iso, hub=hub, as_of=as_of, quotes=quotes, through=through, prior=prior)
        request = self._http.build_request(
            "POST",
            "/v1/curves",
            params=upload.params,
            content=upload.content,
            headers={"Content-Type": upload.content_type},
        )
        return CurveMarked.model_validate_json(send(self._http, request, self.settings.retry).content)

    def curve(
        self,
        hub: str,
        *,
        iso: str | None = None,
        as_of: str | date | None = None,
        version: int | None = None,
        month: str | date | None = None,
        block: Block | str | None = None,
        frame: FrameKind = "pandas",
    ) -> Any:
        """A hub's marked forward curve ($/MWh) as a frame: the rows of `GET /v1/curves`.

        The latest mark on or before `as_of` (the latest of all when None;
        the caller's own before shared ones), or its `version`. Columns iso,
        hub, as_of, version, month (YYYY-MM), block, price, hours (of the
        block in the month), extrapolated (1 past the quotes). `month` and
        `block` keep one; `iso` is needed only when two ISOs mark the hub.
        `NotFound` when nothing is marked.
        """
        query = checked(
            CurveQuery,
            hub=hub,
            iso=iso,
            as_of=day_text(as_of),
            version=version,
            month=month_text(month),
            block=block,
        )
        return as_frame(self._fetch_table(query), frame)

    def curve_hpfc(
        self,
        hub: str,
        *,
        iso: str | None = None,
        as_of: str | date | None = None,
        start: str | date | None = None,
        end: str | date | None = None,
        tz: str | None = None,
        frame: FrameKind = "pandas",
    ) -> Any:
        """A mark shaped to hours ($/MWh): the rows of `GET /v1/curves/hpfc`.

        Delivery months [start, end) (YYYY-MM; default all). Columns
        interval_start, interval_end (in `tz`; "iso" for market time, UTC by
        default), block (onpeak, 2x16 or 7x8), price. Each month and block
        averages to the mark; the shape within comes from the hub's stored
        day-ahead prices (flat within blocks without them).
        """
        query = checked(
            CurveHpfcQuery,
            iso=iso,
            hub=hub,
            as_of=day_text(as_of),
            start=month_text(start),
            end=month_text(end),
            tz=tz,
        )
        return as_frame(self._fetch_table(query), frame)

    def curve_diff(
        self,
        hub: str,
        *,
        iso: str,
        as_of: str | date,
        against: str | date,
        block: Block | str | None = None,
        frame: FrameKind = "pandas",
    ) -> Any:
        """How a hub's curve moved from the mark of `against` to the mark of `as_of` ($/MWh, %).

        The rows of `GET /v1/curves/diff`: month, block, price,
        against_price, change, change_pct, for months on both marks.
        """
        query = checked(
            CurveDiffQuery,
            iso=iso,
            hub=hub,
            as_of=day_text(as_of),
            against=day_text(against),
            block=block,
        )
        return as_frame(self._fetch_table(query), frame)

    def node_curve(
        self,
        hub: str,
        node: str,
        *,
        iso: str,
        as_of: str | date | None = None,
        estimator: str = "median",
        frame: FrameKind = "pandas",
    ) -> Any:
        """A node's forward curve ($/MWh): its hub's mark plus the basis from stored day-ahead prices.

        The rows of `GET /v1/curves/node`; `estimator` is "median" (robust
        to spikes) or "mean" of the node-minus-hub LMPs per month of year
        and block.
        """
        query = checked(
            NodeCurveQuery, iso=iso, hub=hub, node=node, as_of=day_text(as_of), estimator=estimator
        )
        return as_frame(self._fetch_table(query), frame)

    def curve_quotes(
        self,
        hub: str,
        *,
        iso: str | None = None,
        as_of: str | date | None = None,
        version: int | None = None,
        frame: FrameKind = "pandas",
    ) -> Any:
        """The quotes a mark was fitted to ($/MWh): the rows of `GET /v1/curves/quotes`.

        Columns start, end (YYYY-MM-DD, end exclusive), block, price, label,
        implied_price (what the other quotes imply for a redundant one).
        """
        query = checked(CurveQuotesQuery, hub=hub, iso=iso, as_of=day_text(as_of), version=version)
        return as_frame(self._fetch_table(query), frame)

    def curve_history(
        self,
        hub: str,
        *,
        iso: str,
        start: str | date,
        end: str | date,
        block: Block | str = Block.ONPEAK,
        frame: FrameKind = "pandas",
    ) -> Any:
        """Day-over-day changes of every tenor M+k of a hub's marks over as-of days [start, end).

        The rows of `GET /v1/curves/history`: as_of, tenor, month, price,
        change ($/MWh) and log_return, for the risk engine's factors.
        """
        query = checked(
            CurveHistoryQuery, iso=iso, hub=hub, start=day_text(start), end=day_text(end), block=block
        )
        return as_frame(self._fetch_table(query), frame)

    def curve_chart(
        self,
        hub: str,
        *,
        path: str | Path,
        iso: str | None = None,
        as_of: str | date | None = None,
        hpfc: bool = False,
        against: str | date | None = None,
    ) -> Path:
        """Draw a hub's mark to a PNG at `path`: block prices ($/MWh) by month; the path written.

        With `hpfc` its hourly curve is drawn beneath; with `against` the
        mark of that earlier day is drawn dashed. Needs the full `carbon254`
        package (matplotlib).
        """
        curve = self._fetch_table(checked(CurveQuery, hub=hub, iso=iso, as_of=day_text(as_of)))
        marked_iso = str(curve.column("iso")[0].as_py()) if curve.num_rows else iso
        day = str(curve.column("as_of")[0].as_py()) if curve.num_rows else None
        hourly = (
            self._fetch_table(checked(CurveHpfcQuery, iso=marked_iso, hub=hub, as_of=day))
            if hpfc and marked_iso
            else None
        )
        earlier = (
            self._fetch_table(checked(CurveQuery, hub=hub, iso=marked_iso, as_of=day_text(against)))
            if against is not None
            else None
        )
        return write_png(path, chart_png(curve, hourly, earlier))

    # ---- batteries --------------------------------------------------------------------------

    def battery_optimize(
        self,
        location: str,
        *,
        start: TimeBound,
        end: TimeBound,
        power_mw: float,
        energy_mwh: float,
        iso: str | None = None,
        market: str = "DAM",
        services: str = "all",
        dispatch: str = "perfect",
        include: str | Sequence[str] | None = ("dispatch",),
        years: int = 15,
        frame: FrameKind = "pandas",
        **asset: Any,
    ) -> BatteryOptimized:
        """Optimize a battery at `location` against stored prices (`POST /v1/battery/optimize`).

        Energy arbitrage in `market` (DAM, RTH, RT5, RT15, or "both": a
        day-ahead schedule settled against real time) co-optimized with the
        ISO's reserve products (`services`: "all" it qualifies for, "none",
        or "REGUP,RRS"), with perfect foresight or a rolling horizon
        (`dispatch="rolling"`, with the capture ratio). `asset` takes the
        rest of the battery: round_trip_efficiency (default 0.85) or
        charge_efficiency and discharge_efficiency, charge_power_mw,
        initial_soc_mwh (default half), final_soc_mwh, min_soc_mwh,
        max_soc_mwh, daily_cycles, annual_cycles, degradation_cost ($/MWh
        discharged), aux_load_mw, region, horizon_h, step_h, tz, as_of.
        Returns the summary, the revenue stack by month (`.stack`), and the
        parts in `include`: "dispatch" (`.dispatch`, default) and "health"
        (`.health`, over `years`). A refused parameter raises
        `InvalidRequest` naming it; a gap in the prices names its first
        missing interval.
        """
        body = optimize_body(
            location=location,
            start=start,
            end=end,
            power_mw=power_mw,
            energy_mwh=energy_mwh,
            iso=iso,
            market=market,
            services=services,
            dispatch=dispatch,
            include=include,
            years=years,
            **asset,
        )
        request = self._http.build_request("POST", body.path, json=body.body())
        return optimized((send(self._http, request, self.settings.retry)).content, frame)

    # ---- risk ----------------------------------------------------------------------------------

    def risk_save_portfolio(self, name: str, positions: str | Path) -> dict[str, Any]:
        """Save a position file (CSV text, or a path to one) as the next version of portfolio `name`.

        Returns `{"name", "version", "positions", "digest", "created_at"}`. A
        file with bad lines raises `InvalidRequest` naming every line and
        field (nothing is stored); without the `risk` feature `NotEntitled`.
        """
        text = positions.read_text(encoding="utf-8-sig") if isinstance(positions, Path) else positions
        request = self._http.build_request(
            "POST",
            "/v1/risk/portfolios",
            params={"name": name},
            content=text.encode(),
            headers={"Content-Type": "text/csv"},
        )
        saved: dict[str, Any] = send(self._http, request, self.settings.retry).json()
        return saved

    def risk_var(self, portfolio: str, *, frame: FrameKind = "pandas", **options: Any) -> Any:
        """VaR and ES ($) of a saved portfolio: the one row of `GET /v1/risk/var`.

        `options`: version, as_of, method (historical, parametric,
        monte_carlo), confidence, horizon_days, window, paths, seed, copula,
        covariance.
        """
        return as_frame(self._fetch_table(checked(RiskVarQuery, portfolio=portfolio, **options)), frame)

    def risk_es(self, portfolio: str, *, frame: FrameKind = "pandas", **options: Any) -> Any:
        """Expected shortfall and VaR ($): the row of `GET /v1/risk/es` (the same as `risk_var`'s)."""
        return as_frame(self._fetch_table(checked(RiskEsQuery, portfolio=portfolio, **options)), frame)

    def risk_attribution(self, portfolio: str, *, frame: FrameKind = "pandas", **options: Any) -> Any:
        """VaR and ES by book node and position ($): the rows of `GET /v1/risk/attribution`.

        Columns level, book, id, standalone_var, component_var, marginal_var,
        incremental_var, diversification, standalone_es, component_es.
        """
        query = checked(RiskAttributionQuery, portfolio=portfolio, **options)
        return as_frame(self._fetch_table(query), frame)

    def risk_stress(self, portfolio: str, *, frame: FrameKind = "pandas", **options: Any) -> Any:
        """P&L ($) per book node and position under `shock=`, a past `event=` or a saved `scenario=`."""
        return as_frame(self._fetch_table(checked(RiskStressQuery, portfolio=portfolio, **options)), frame)

    def risk_backtest(self, portfolio: str, *, frame: FrameKind = "pandas", **options: Any) -> Any:
        """Each day's P&L, VaR and ES forecast ($) and exceedance: the rows of `GET /v1/risk/backtest`."""
        query = checked(RiskBacktestQuery, portfolio=portfolio, **options)
        return as_frame(self._fetch_table(query), frame)

    def battery_revenue(
        self,
        location: str,
        *,
        start: TimeBound,
        end: TimeBound,
        power_mw: float,
        energy_mwh: float,
        frame: FrameKind = "pandas",
        **options: Any,
    ) -> Any:
        """A battery's totals at `location` over [start, end): the one row of `GET /v1/battery/revenue`.

        Columns iso, location, market, net_revenue, energy_revenue,
        reserve_revenue, aux_cost, degradation_cost ($), cycles,
        discharged_mwh, capture_ratio. `options` are `battery_optimize`'s
        (iso, market, services, dispatch and the asset).
        """
        query = checked(
            BatteryRevenueQuery,
            location=location,
            start=start,
            end=end,
            power_mw=power_mw,
            energy_mwh=energy_mwh,
            **options,
        )
        return as_frame(self._fetch_table(query), frame)

    def battery_dispatch(
        self,
        location: str,
        *,
        start: TimeBound,
        end: TimeBound,
        power_mw: float,
        energy_mwh: float,
        frame: FrameKind = "pandas",
        **options: Any,
    ) -> Any:
        """A battery's schedule interval by interval: the rows of `GET /v1/battery/dispatch`.

        Columns interval_start, interval_end (in `tz`, the ISO's market time
        by default), charge_mw, discharge_mw, net_mw, soc_mwh, reserve_up_mw,
        reserve_down_mw, energy_price. `options` are `battery_optimize`'s.
        """
        query = checked(
            BatteryDispatchQuery,
            location=location,
            start=start,
            end=end,
            power_mw=power_mw,
            energy_mwh=energy_mwh,
            **options,
        )
        return as_frame(self._fetch_table(query), frame)

    def battery_chart(
        self,
        location: str,
        *,
        path: str | Path,
        start: TimeBound,
        end: TimeBound,
        power_mw: float,
        energy_mwh: float,
        chart_start: TimeBound | None = None,
        chart_end: TimeBound | None = None,
        **options: Any,
    ) -> Path:
        """Draw a battery run to a PNG at `path` (`GET /v1/battery/chart`); the path written.

        Price ($/MWh), net dispatch (MW, reserve awards beside) and state of
        charge (MWh) for [chart_start, chart_end) (default: the first 7
        days of the run). `options` are `battery_optimize`'s.
        """
        query = checked(
            BatteryChartQuery,
            location=location,
            start=start,
            end=end,
            power_mw=power_mw,
            energy_mwh=energy_mwh,
            chart_start=chart_start,
            chart_end=chart_end,
            **options,
        )
        request = self._http.build_request("GET", query.path, params=query.params())
        return write_png(path, (send(self._http, request, self.settings.retry)).content)

    # ---- PPAs -------------------------------------------------------------------------------

    def ppa_value(self, hub: str, *, frame: FrameKind = "pandas", **terms: Any) -> PpaValued:
        """Value a PPA on `hub`'s marked forward curve (`POST /v1/ppa/value`).

        `terms` are the request's fields: iso, node (settle at a node: hub +
        basis), as_of (the mark's day), contract (fixed, collar, index_plus,
        floating_discount) with strike / floor and cap / adder / discount
        ($/MWh; discount a fraction), start (YYYY-MM), term_years,
        escalator, negative_price, rec_price, volume, side (buyer or
        seller), technology (solar or flat), capacity_mw, latitude,
        longitude, tracking, degradation, volume_sd, discount_rate,
        curve_escalation, paths, seed, volatility, basis_sd,
        price_volume_correlation, tz. Returns the summary (NPV at P50 and
        P90 volume, breakeven, capture price and rate), the settlement by
        year, the risk waterfall and, with paths, the NPV distribution and
        each risk's spread. A refused parameter raises `InvalidRequest`
        naming it.
        """
        body = checked(PpaValueBody, hub=hub, **terms)
        request = self._http.build_request("POST", body.path, json=body.body())
        return valued((send(self._http, request, self.settings.retry)).content, frame)

    def ppa_npv(self, hub: str, *, frame: FrameKind = "pandas", **terms: Any) -> Any:
        """One row led by the NPV ($) of a PPA at `hub`: `GET /v1/ppa/npv` (`terms` as `ppa_value`'s).

        Columns settlement_point, npv, npv_p90_volume, settlement,
        annual_settlement, npv_p5, npv_p50, npv_p95 (the last three with paths).
        """
        return as_frame(self._fetch_table(checked(PpaNpvQuery, hub=hub, **terms)), frame)

    def ppa_breakeven(self, hub: str, *, frame: FrameKind = "pandas", **terms: Any) -> Any:
        """One row led by the breakeven fixed price ($/MWh) of a PPA at `hub`: `GET /v1/ppa/breakeven`.

        Columns settlement_point, breakeven, capture_price, baseload_price
        ($/MWh), capture_rate, volume_mwh. `terms` as `ppa_value`'s.
        """
        return as_frame(self._fetch_table(checked(PpaBreakevenQuery, hub=hub, **terms)), frame)

    def ppa_cashflows(self, hub: str, *, frame: FrameKind = "pandas", **terms: Any) -> Any:
        """A PPA's settlement month by month: `GET /v1/ppa/cashflows` (`terms` as `ppa_value`'s).

        Columns month (YYYY-MM, ISO market time by default), volume_mwh,
        capture_price ($/MWh), settlement and discounted ($).
        """
        return as_frame(self._fetch_table(checked(PpaCashflowsQuery, hub=hub, **terms)), frame)

    def ppa_sensitivity(
        self,
        hub: str,
        *,
        axis: str,
        values: str | Sequence[float],
        frame: FrameKind = "pandas",
        **terms: Any,
    ) -> Any:
        """How a PPA's NPV moves with one input: the rows of `GET /v1/ppa/sensitivity`.

        `axis` is strike, floor, cap, adder, discount, escalator, rec_price,
        basis ($/MWh), volatility or p_level (0.9 = P90); `values` a list or
        "30,35,40". Columns axis, value, npv, settlement ($), breakeven
        ($/MWh), npv_p10 and npv_p90 (volatility only). `terms` as `ppa_value`'s.
        """
        listed = values if isinstance(values, str) else ",".join(f"{v:g}" for v in values)
        query = checked(PpaSensitivityQuery, hub=hub, axis=axis, values=listed, **terms)
        return as_frame(self._fetch_table(query), frame)

    def ppa_chart(self, hub: str, *, path: str | Path, **terms: Any) -> Path:
        """Draw a PPA's NPV distribution over Monte Carlo paths to a PNG at `path` (`GET /v1/ppa/chart`).

        `terms` as `ppa_value`'s; paths default to 1,000. Returns the path written.
        """
        query = checked(PpaChartQuery, hub=hub, **terms)
        request = self._http.build_request("GET", query.path, params=query.params())
        return write_png(path, (send(self._http, request, self.settings.retry)).content)

    # ---- scenarios --------------------------------------------------------------------------

    def _scenario_call(self, method: str, path: str, **options: Any) -> bytes:
        request = self._http.build_request(method, path, **options)
        return send(self._http, request, self.settings.retry).content

    def validate_scenario(self, scenario: str | Path) -> ScenarioChecked:
        """Check a scenario (YAML or JSON text, or a file path) against the published schema.

        Returns its name, step count and how many points its sweep expands
        to; `InvalidRequest` listing every problem with its line otherwise
        (`POST /v1/scenarios/validate`). No feature: `NotEntitled`.
        """
        content = scenario_text(scenario).encode()
        answer = self._scenario_call("POST", "/v1/scenarios/validate", content=content, headers=YAML)
        return ScenarioChecked.model_validate_json(answer)

    def save_scenario(self, scenario: str | Path) -> ScenarioSaved:
        """Save a scenario (text or file path) under its name for the tenant; saving it again adds a version.

        Returns the name, the version stored (1 for a new name) and when
        (UTC). An invalid scenario raises `InvalidRequest` naming its lines.
        """
        content = scenario_text(scenario).encode()
        answer = self._scenario_call("POST", "/v1/scenarios", content=content, headers=YAML)
        return ScenarioSaved.model_validate_json(answer)

    def scenarios(self) -> list[ScenarioSaved]:
        """The tenant's saved scenarios, the latest version of each."""
        return SAVED_LIST.validate_json(self._scenario_call("GET", "/v1/scenarios"))

    def scenario_presets(self) -> list[ScenarioPreset]:
        """The historical replay presets a `replay` step can name (their prices must be in the store)."""
        return PRESET_LIST.validate_json(self._scenario_call("GET", "/v1/scenarios/presets"))

    def run_scenario(
        self,
        *,
        hubs: str | Sequence[str],
        text: str | None = None,
        path: str | Path | None = None,
        name: str | None = None,
        version: int | None = None,
        iso: str | None = None,
        as_of: str | date | None = None,
        hourly: bool = False,
    ) -> ScenarioRun:
        """Run a scenario on hubs' marked curves ($/MWh) and record the run (`POST /v1/scenarios/run`).

        The scenario is `text` (YAML or JSON), a file at `path`, or the
        saved scenario `name` (its latest `version` unless given): exactly
        one. Each hub's latest mark on or before `as_of` is the base (with
        its hourly HPFC when a step needs hours, or `hourly`). Returns the
        run's id, fingerprint, base marks and rows (`summary_frame()`,
        `months_frame()`). A sweep of over 200 points raises
        `InvalidRequest`: submit it with `sweep`. `NotFound` for an
        unmarked hub or unknown saved name.
        """
        body = run_body(
            hubs=hubs, text=text, path=path, name=name, version=version, iso=iso, as_of=as_of, hourly=hourly
        )
        return ScenarioRun.model_validate_json(self._scenario_call("POST", "/v1/scenarios/run", json=body))

    def scenario_runs(self) -> list[ScenarioRunRecord]:
        """The tenant's latest recorded runs (interactive and sweep jobs), newest first."""
        return RUN_LIST.validate_json(self._scenario_call("GET", "/v1/scenarios/runs"))

    def scenario_run(self, run_id: str) -> ScenarioRunRecord:
        """One recorded run: its inputs (marks, scenario), engine version, fingerprint, summary.

        `NotFound` for an unknown id or another tenant's run.
        """
        answer = self._scenario_call("GET", f"/v1/scenarios/runs/{quote(run_id, safe='')}")
        return ScenarioRunRecord.model_validate_json(answer)

    def sweep(
        self,
        *,
        hubs: str | Sequence[str],
        text: str | None = None,
        path: str | Path | None = None,
        iso: str | None = None,
        as_of: str | date | None = None,
        hourly: bool = False,
    ) -> Job:
        """Submit a scenario's sweep (`text` or a file at `path`, with a `sweep`) as a `scenario_sweep` job.

        Every point runs on the hubs' marks; `job.wait()` then
        `job.download("sweep.parquet")` gives a row per point, hub and year
        (mean onpeak, offpeak, atc in $/MWh), and the job's summary names
        the recorded run. The service refuses at submit (`InvalidRequest`) a
        scenario without a sweep or with more points than its limit.
        """
        request = sweep_request(hubs=hubs, text=text, path=path, iso=iso, as_of=as_of, hourly=hourly)
        return self.jobs.submit(SWEEP_KIND, request)

    # ---- forecasts --------------------------------------------------------------------------

    def forecast(self, location: str, *, frame: FrameKind = "pandas", **options: Any) -> Any:
        """Forecast LMPs ($/MWh) of `location`: `GET /v1/forecast`, one row per hour or interval.

        `options`: iso, market (DAM: the 24 hours of `day`, default
        tomorrow, as forecast at 09:00 market time the day before; RT5: the
        next 12 five-minute intervals), horizon, day, model (a registered
        name or a kind such as lear or best; default the production model,
        else lear), version, train_days, seed, as_of, tz. Columns
        interval_start, interval_end, forecast, p10, p50, p90.
        """
        return as_frame(self._fetch_table(checked(ForecastQuery, location=location, **options)), frame)

    def forecast_train(
        self,
        *,
        name: str,
        iso: str,
        location: str,
        market: str = "DAM",
        model: str = "lear",
        train_days: int | None = None,
        holdout_days: int | None = None,
        seed: int | None = None,
        as_of: str | None = None,
        tune_seconds: float | None = None,
    ) -> Job:
        """Train `model` on a stored location and register it as a candidate version of `name` (a job).

        The model is scored on the last `holdout_days` days without
        look-ahead, then fitted on `train_days` days; `job.wait()` gives the
        version and its holdout metrics in `result.summary`. Promote it with
        `promote_model(name, version)` to serve `forecast`. `tune_seconds`
        (lightgbm, xgboost) first searches the tree parameters that long.
        """
        request = job_request(
            name=name,
            iso=iso,
            location=location,
            market=market,
            model=model,
            train_days=train_days,
            holdout_days=holdout_days,
            seed=seed,
            as_of=as_of,
            tune_seconds=tune_seconds,
        )
        return self.jobs.submit(TRAIN_KIND, request)

    def forecast_backtest(
        self,
        *,
        iso: str,
        location: str,
        models: Sequence[str],
        start: str | date,
        end: str | date,
        recalibrate_every: int | None = None,
        train_days: int | None = None,
        intervals: bool | None = None,
        seed: int | None = None,
    ) -> Job:
        """Backtest `models` on a stored location over [start, end] (delivery days), as a job.

        Each day is forecast from the prices known at 09:00 market time the
        day before. `job.wait()`'s `result.summary["metrics"]` holds one row
        per model (MAE, RMSE, sMAPE, MAPE, rMAE, pinball, coverage, the
        Diebold-Mariano test against the first); `backtest_chart(job.id,
        path=...)` draws the last two weeks.
        """
        request = job_request(
            iso=iso,
            location=location,
            models=list(models),
            start=start,
            end=end,
            recalibrate_every=recalibrate_every,
            train_days=train_days,
            intervals=intervals,
            seed=seed,
        )
        return self.jobs.submit(BACKTEST_KIND, request)

    def backtest_chart(self, job_id: str, *, path: str | Path) -> Path:
        """Write a finished backtest's chart (forecasts and P10-P90 against actuals) to a PNG at `path`."""
        request = self._http.build_request("GET", backtest_path(job_id, chart=True))
        return write_png(path, (send(self._http, request, self.settings.retry)).content)

    # ---- forecast model registry -------------------------------------------------------------

    def models(
        self,
        *,
        name: str | None = None,
        iso: str | None = None,
        location: str | None = None,
        market: str | None = None,
    ) -> list[ForecastModel]:
        """The tenant's registered forecast model versions, newest first (`GET /v1/models`).

        Filters: `name` (any case), `iso`, `location`, `market` (dam or
        rtm); an unknown ISO or market raises `InvalidRequest`. Without the
        `forecast` feature `NotEntitled`.
        """
        params = model_filters(name, iso, location, market)
        return MODEL_LIST.validate_json(self._scenario_call("GET", MODELS_PATH, params=params))

    def model(self, name: str, version: int | None = None) -> ForecastModel:
        """Model `name` at `version`; None: its production version, else its latest (as the service picks).

        `NotFound` (naming `name` or `version`) when there is none; every
        version is `models(name=name)`.
        """
        if version is not None:
            return ForecastModel.model_validate_json(self._scenario_call("GET", model_path(name, version)))
        versions = MODEL_LIST.validate_json(self._scenario_call("GET", model_path(name)))
        return pick_model(versions)

    def promote_model(self, name: str, version: int) -> ForecastModel:
        """Make `version` the production version of model `name`; the one it replaces is archived.

        Promoting an archived version brings it back explicitly. Returns the
        promoted version; `NotFound` for an unknown name or version.
        """
        body = {"version": version}
        answer = self._scenario_call("POST", model_path(name, "promote"), json=body)
        return ForecastModel.model_validate_json(answer)

    def rollback_model(self, name: str) -> ForecastModel:
        """Archive model `name`'s production version and restore the one in production before it.

        Returns the restored version; `InvalidRequest` (status 409) when
        there is nothing to roll back to, `NotFound` for an unknown name.
        """
        return ForecastModel.model_validate_json(self._scenario_call("POST", model_path(name, "rollback")))

    def archive_model(self, name: str, version: int) -> ForecastModel:
        """Retire `version` of model `name`: archived, never a rollback target again; returns it."""
        body = {"version": version}
        answer = self._scenario_call("POST", model_path(name, "archive"), json=body)
        return ForecastModel.model_validate_json(answer)

    # ---- jobs -------------------------------------------------------------------------------

    def export(
        self,
        *,
        iso: str,
        start: TimeBound,
        end: TimeBound,
        market: str | None = None,
        locations: str | list[str] | None = None,
        format: ExportFormat | str = ExportFormat.PARQUET,
        tz: str | None = None,
        resample: Resample | str | None = None,
        block: Block | str | None = None,
        as_of: TimeBound | None = None,
        dataset: str = "lmp",
        auction: str | None = None,
        kind: str | None = None,
        regions: str | list[str] | None = None,
        products: str | list[str] | None = None,
        zones: str | list[str] | None = None,
    ) -> Job:
        """Export a dataset query to a CSV, Parquet or XLSX file on the service, as a `Job`.

        The parameters of `lmp` (or, with `dataset="as_price"`,
        `"capacity_price"`, `"ordc_adder"` or `"load"`, those of that
        method: `auction`, `kind`, `regions`, `products`, `zones`), plus the
        file `format`. The file holds what the dataset's method returns for
        the same parameters. The service checks the query before queuing
        it, with the dataset route's errors (`NotFound` for an unknown
        location, ...); then `job.wait(progress=True)` and
        `job.download("prices.parquet")`.
        """
        query = checked(
            ExportQuery,
            dataset=dataset,
            iso=iso,
            start=start,
            end=end,
            format=format,
            market=market,
            auction=auction,
            kind=kind,
            locations=locations,
            regions=regions,
            zones=zones,
            products=products,
            tz=tz,
            resample=resample,
            block=block,
            as_of=as_of,
        )
        return self.jobs.submit("export", query.params())

    def battery_screen(
        self,
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
    ) -> Job:
        """Screen a battery at every node of `iso` (or `locations`) over [start, end): a `battery_screen` job.

        Perfect-foresight energy arbitrage of `market`'s LMPs at each node:
        power in MW, energy in MWh, `degradation_cost` in $/MWh discharged,
        `daily_cycles` full cycles a UTC day at most, the state of charge
        starting and ending at `initial_soc_mwh` (default: half the energy).
        Without `locations`, every location of the ISO (of `location_type`
        when given). The finished job's `result.summary["top"]` holds the
        ten best nodes by net revenue ($); `job.download(path)` writes the
        whole ranking (Parquet, or CSV with `format="csv"`), skipped nodes
        last with the reason (e.g. missing intervals).
        """
        request = screen_request(
            iso=iso,
            start=start,
            end=end,
            power_mw=power_mw,
            energy_mwh=energy_mwh,
            round_trip_efficiency=round_trip_efficiency,
            market=market,
            locations=locations,
            location_type=location_type,
            initial_soc_mwh=initial_soc_mwh,
            daily_cycles=daily_cycles,
            degradation_cost=degradation_cost,
            as_of=as_of,
            format=format,
        )
        return self.jobs.submit(SCREEN_KIND, request)

    # ---- streaming --------------------------------------------------------------------------

    def stream(
        self,
        *,
        iso: str,
        market: str | None,
        locations: str | list[str] | None = None,
        dataset: str = "lmp",
        since: Since | None = None,
    ) -> Iterator[Tick]:
        """New rows as they are committed, one `Tick` each, reconnecting and resuming without gaps.

        A blocking iterator over `AsyncClient.stream` (see there); stop by
        breaking out of the loop. `since` (a `datetime`, a `date`,
        ISO-8601 text, UTC when it has no offset, or `now-1h`/`today`-style
        text on this machine's clock) replays stored rows after
        it first; an unreadable one raises `InvalidRequest` at once, before
        connecting.
        """
        self._refuse_local_stream()
        subscription = Subscription.of(iso, market, locations, dataset, since)
        return _blocking(stream_ticks(self.settings.stream_url(), self._stream_credentials, subscription))

    def forecast_stream(
        self, *, iso: str, location: str | list[str], market: str = "RT5"
    ) -> Iterator[SubHourlyForecast]:
        """Sub-hourly price forecasts as they are made, as a blocking iterator.

        The same as `AsyncClient.forecast_stream` (see there): each
        location's latest forecast of the next twelve five-minute intervals
        first, then one per committed or revised interval; stop by breaking
        out of the loop.
        """
        self._refuse_local_stream()
        subscription = ForecastSubscription.of(iso, location, market)
        return _blocking(stream_forecasts(self.settings.stream_url(), self._stream_credentials, subscription))

    def _refuse_local_stream(self) -> None:
        if self._local is not None:
            raise RuntimeError(
                "streaming needs a running service (carbon254 serve); local mode reads stored data"
            )

    async def _stream_credentials(self) -> dict[str, str]:
        """The WebSocket handshake's headers, renewing an OIDC token first when one is used."""
        probe = None if self.settings.auth is None else await asyncio.to_thread(self._http.get, "/health")
        return self.settings.stream_headers(probe)


def _blocking(items: AsyncGenerator[_T, None]) -> Iterator[_T]:
    """An async generator as a blocking iterator, on an event loop of its own (closed with it)."""
    loop = asyncio.new_event_loop()
    try:
        while True:
            try:
                yield loop.run_until_complete(anext(items))
            except StopAsyncIteration:
                return
    finally:
        loop.run_until_complete(items.aclose())
        loop.close()
