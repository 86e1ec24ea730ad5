"""`carbon254 demo`: load (or catch up) a year of simulated data, serve it, and replay a live feed.

All the work is in `carbon254.demo`; this module wires it to a progress bar,
the HTTP service and the terminal, and makes sure Ctrl-C or SIGTERM stops the
server and the feed thread cleanly.
"""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from sqlalchemy.exc import SQLAlchemyError

from carbon254.cli.console import CliError, console, err_console, fail, interrupted
from carbon254.cli.options import (
    DEFAULT_DATA_DIR,
    DEFAULT_HOST,
    DEFAULT_PORT,
    DEFAULT_STORE,
    DataDir,
    Host,
    Port,
    StoreUrl,
)
from carbon254.cli.progress import RowProgress
from carbon254.cli.serve import build_app, check_auth_binding, settings_for
from carbon254.cli.server import run_server, server_url, stop_signals_interrupt
from carbon254.cli.stores import open_cli_store, store_label
from carbon254.config import AuthMode
from carbon254.demo import (
    DemoMarker,
    DemoMarkerError,
    DemoParams,
    DemoPlan,
    FeedRunner,
    LiveFeed,
    MarkerKeeper,
    Published,
    plan_demo,
    replay_seconds_ahead,
    run_plan,
)
from carbon254.demo.load import mark_demo_curves
from carbon254.metadata import MetadataDatabase
from carbon254.store import Store, StoreError

EXAMPLE_ISO = "ERCOT"
EXAMPLE_HUB = "HB_NORTH"


def _load(store: Store, where: str, data_dir: Path, plan: DemoPlan) -> None:
    if not plan.configs:
        console.print(f"Demo data is up to date through {_utc(plan.marker.loaded_through)}.")
        return
    what = "Loading simulated demo data" if plan.first_load else "Catching up the demo data"
    console.print(f"{what} into {escape(where)} ({plan.total_rows:,} rows)…")
    with RowProgress(console) as progress:
        summary = run_plan(store, data_dir, plan, progress)
    rate = summary.total_received / summary.seconds if summary.seconds else 0.0
    console.print(
        f"Stored {summary.total_received:,} rows in {summary.seconds:.1f} s ({rate / 1e6:.1f}M rows/s), "
        f"through {_utc(plan.marker.loaded_through)}."
    )


def _mark(metadata_url: str, marker: DemoMarker) -> None:
    """Mark the demo's forward curves (on a thread beside the server); a failure is reported, not fatal.

    Marking runs once the API is up, so the demo is ready to query as soon
    as its prices are loaded; `/v1/curves` has the marks a few tens of
    seconds later (a rerun only marks the days added since).
    """
    try:
        db = MetadataDatabase(metadata_url)
        try:
            summary = mark_demo_curves(db, marker)
        finally:
            db.close()
    except SQLAlchemyError as exc:
        cause = getattr(exc, "orig", None) or exc
        err_console.print(
            f"[yellow]Forward curves:[/] could not store the demo's marks ({type(cause).__name__}: "
            f"{escape(str(cause))}); check CARBON254_METADATA_URL, then run `carbon254 demo` again."
        )
        return
    if summary.marks:
        console.print(f"Marked {summary.marks:,} simulated forward curves in {summary.seconds:.1f} s.")


def _utc(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def _example_url(base: str, marker: DemoMarker) -> str:
    # The UTC day of the latest stored interval, which therefore has RT5 rows to show.
    day = (marker.loaded_through - timedelta(minutes=5)).date()
    return (
        f"{base}/v1/lmp?iso={EXAMPLE_ISO}&market=RT5&locations={EXAMPLE_HUB}"
        f"&start={day.isoformat()}&end={(day + timedelta(days=1)).isoformat()}"
    )


def _note_params(requested: DemoParams, plan: DemoPlan) -> None:
    kept = plan.marker.params
    if plan.first_load or (kept.seed, kept.nodes) == (requested.seed, requested.nodes):
        return
    console.print(
        f"[yellow]Note:[/] this data dir's demo was made with seed {kept.seed} and {kept.nodes} nodes per "
        "ISO; keeping those so the series continues. Use another --data-dir to start afresh.",
        soft_wrap=True,
    )


def demo(
    data_dir: DataDir = DEFAULT_DATA_DIR,
    host: Host = DEFAULT_HOST,
    port: Port = DEFAULT_PORT,
    nodes: Annotated[
        int, typer.Option("--nodes", help="Nodes per ISO, besides every hub and zone (first run).", min=1)
    ] = 200,
    seed: Annotated[int, typer.Option("--seed", help="Random seed (first run).", min=0)] = 254,
    days: Annotated[
        int, typer.Option("--days", help="Days of hourly DAM/RTH history to load on first run.", min=1)
    ] = 365,
    feed_every: Annotated[
        float | None,
        typer.Option(
            "--feed-every",
            help="Replay speed-up: publish the next 5-minute interval every N seconds instead of when "
            "it ends on the wall clock. The data's timestamps then run ahead of the real clock.",
            min=0.01,
            show_default=False,
        ),
    ] = None,
    no_feed: Annotated[bool, typer.Option("--no-feed", help="Serve without the live feed.")] = False,
    store_url: StoreUrl = DEFAULT_STORE,
) -> None:
    """Run the self-contained demo: simulated data for all seven ISOs, the API, and a live 5-minute feed.

    First run: loads every hub and zone plus --nodes nodes per ISO, --days of
    hourly DAM and RTH LMPs ($/MWh) up to now, the last 7 days of RT5,
    ancillary prices, ERCOT ORDC adders, load and capacity prices, with
    tomorrow's day-ahead results for the ISOs that have published them. Later
    runs catch up from where the last one stopped. Then it serves the API and
    publishes each 5-minute interval as it ends (RT5 for every ISO, RTH and
    the other hourly data when an hour completes, the next day's day-ahead
    results at each ISO's publication time). Ctrl-C stops it.
    """
    began = time.perf_counter()
    requested = DemoParams(seed=seed, nodes=nodes)
    try:
        # The demo is a local, credential-free playground: auth is off, which needs a loopback --host.
        settings = settings_for(data_dir, host, port, auth=AuthMode.OFF, store=store_url)
        check_auth_binding(settings)
        plan = plan_demo(data_dir, requested, days)
        store = open_cli_store(settings.store, data_dir)
    except CliError as exc:
        fail(exc.message, exc.hint)
    except DemoMarkerError as exc:
        fail(str(exc))
    where = store_label(settings.store, data_dir)

    # From here on SIGTERM is handled like Ctrl-C, so each stage can leave cleanly.
    with stop_signals_interrupt():
        try:
            _note_params(requested, plan)
            _load(store, where, data_dir, plan)
        except KeyboardInterrupt:
            store.close()
            interrupted("Loading stopped; run `carbon254 demo` again to finish (stored batches are kept).")
        except (OSError, StoreError) as exc:
            store.close()
            fail(f"the store in {where} could not write the demo data ({exc})")

        keeper = MarkerKeeper(data_dir, plan.marker)
        runner = None if no_feed else _feed_runner(store, keeper, feed_every)
        base = server_url(host, port)

        def ready() -> None:
            console.print(f"Ready in {time.perf_counter() - began:.1f} s. Open {base}/docs", soft_wrap=True)
            console.print(f"Example: {_example_url(base, plan.marker)}", soft_wrap=True)
            console.print(_feed_line(runner is not None, feed_every, plan.marker), soft_wrap=True)
            if runner is not None:
                runner.start()
            marking = (settings.metadata_database_url(), plan.marker)
            threading.Thread(target=_mark, args=marking, name="carbon254-demo-marks", daemon=True).start()

        try:
            from carbon254.service.ops.logs import logging_config  # deferred: loads the web stack

            run_server(
                build_app(settings),
                host,
                port,
                on_ready=ready,
                log_level="warning",
                log_config=logging_config(settings, level="warning"),
                graceful_timeout_s=settings.shutdown_grace_s,
            )
        except KeyboardInterrupt:
            pass  # stopped before the server was up
        except CliError as exc:
            fail(exc.message, exc.hint)
        finally:
            if runner is not None and not runner.stop():
                err_console.print("[yellow]The live feed did not stop within 30 s.[/]")
            store.close()
    through = _utc(keeper.marker.loaded_through)
    console.print(f"Stopped. Data is stored through {through}; run again to resume.")


def _feed_runner(store: Store, keeper: MarkerKeeper, every: float | None) -> FeedRunner:
    """The live feed, continuing from the marker and advancing it after every interval."""

    def published(p: Published) -> None:
        keeper.advance(p.interval_end)
        extra = "  (hour complete: RTH, ancillary, load)" if p.hour_completed else ""
        if p.day_ahead:
            extra += f"  (next day's day-ahead: {', '.join(iso.value for iso in p.day_ahead)})"
        console.print(
            f"[dim]live[/] {p.interval_start:%Y-%m-%d %H:%M}–{p.interval_end:%H:%M} UTC: "
            f"+{p.total_written:,} rows{extra}",
            soft_wrap=True,
        )

    def failed(exc: BaseException) -> None:
        err_console.print(f"[yellow]Live feed:[/] could not publish ({escape(str(exc))}); retrying")

    marker = keeper.marker
    feed = LiveFeed(store, marker.params, marker.loaded_through, on_publish=published)
    return FeedRunner(feed, every=every, on_error=failed)


def _feed_line(feeding: bool, every: float | None, marker: DemoMarker) -> str:
    if not feeding:
        return "Live feed off (--no-feed). Press Ctrl-C to stop."
    if every is not None:
        return (
            f"Live feed: a new 5-minute interval every {every:g} s (replay; timestamps run ahead of "
            "the clock). Press Ctrl-C to stop."
        )
    ahead = replay_seconds_ahead(marker.loaded_through)
    wait = f" once the clock reaches {_utc(marker.loaded_through)}" if ahead else ""
    return f"Live feed: each 5-minute interval is published as it ends{wait}. Press Ctrl-C to stop."
