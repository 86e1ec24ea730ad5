"""`carbon254 simulate`: write simulated market data for a UTC window into the store."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

import typer
from rich.table import Table

from carbon254.cli.console import CliError, console, fail, interrupted
from carbon254.cli.names import BadList, split_list
from carbon254.cli.options import DEFAULT_DATA_DIR, DEFAULT_STORE, DataDir, StoreUrl
from carbon254.cli.progress import RowProgress
from carbon254.cli.stores import open_cli_store, store_label
from carbon254.demo import LoadSummary, write_simulation
from carbon254.isos import Iso
from carbon254.names import UnknownName, resolve_iso, resolve_names
from carbon254.schema import Dataset
from carbon254.simulate import SimulationConfig
from carbon254.simulate.config import DEFAULT_DATASETS, MARKETS
from carbon254.store import StoreError
from carbon254.timeseries import parse_bound

DEFAULT_NODES = 200  # per ISO, as in the demo
DEFAULT_SEED = 254


def _utc(option: str, text: str) -> datetime:
    try:
        return parse_bound(text, None)
    except ValueError as exc:
        raise CliError(f"{option}: {exc}") from None


def _isos(text: str | None) -> tuple[Iso, ...]:
    names = split_list("--isos", text)
    if names is None:
        return tuple(Iso)
    return tuple(dict.fromkeys(resolve_iso(n, "--isos") for n in names))


def _summary(summary: LoadSummary) -> Table:
    table = Table(title="Simulated rows stored", title_justify="left")
    table.add_column("dataset")
    table.add_column("rows", justify="right")
    table.add_column("new", justify="right")
    for dataset in Dataset:
        if summary.rows_received[dataset]:
            table.add_row(
                dataset.value,
                f"{summary.rows_received[dataset]:,}",
                f"{summary.rows_written[dataset]:,}",
            )
    return table


def build_config(
    start: str,
    end: str,
    isos: str | None,
    nodes: int,
    seed: int,
    markets: str | None,
    rt5_days: int,
    datasets: str | None,
) -> SimulationConfig:
    """The simulation the options ask for; CliError/UnknownName/BadList naming the bad option."""
    lo, hi = _utc("--start", start), _utc("--end", end)
    if hi <= lo:
        raise CliError(
            f"--end ({hi.isoformat()}) must be after --start ({lo.isoformat()}); --end is exclusive"
        )
    market_names = split_list("--markets", markets)
    chosen_markets = (
        tuple(resolve_names("--markets", "market(s)", market_names, MARKETS)) if market_names else MARKETS
    )
    dataset_names = split_list("--datasets", datasets)
    chosen_datasets = (
        tuple(Dataset(d) for d in resolve_names("--datasets", "dataset(s)", dataset_names, list(Dataset)))
        if dataset_names
        else DEFAULT_DATASETS
    )
    try:
        return SimulationConfig(
            start=lo,
            end=hi,
            isos=_isos(isos),
            nodes=nodes,
            markets=chosen_markets,
            rt5_start=hi - timedelta(days=rt5_days),
            datasets=chosen_datasets,
            seed=seed,
        )
    except ValueError as exc:
        raise CliError(f"invalid simulation: {exc}") from None


def simulate(
    start: Annotated[
        str,
        typer.Option("--start", help="First day (UTC), e.g. 2025-01-01 or today-30d.", show_default=False),
    ],
    end: Annotated[
        str, typer.Option("--end", help="Day after the last (UTC, exclusive).", show_default=False)
    ],
    isos: Annotated[
        str | None,
        typer.Option("--isos", help="Comma-separated ISOs; all seven when omitted.", show_default=False),
    ] = None,
    nodes: Annotated[
        int, typer.Option("--nodes", help="Nodes per ISO, besides every hub and zone.", min=1)
    ] = DEFAULT_NODES,
    seed: Annotated[
        int, typer.Option("--seed", help="Random seed; the same seed gives the same data.", min=0)
    ] = DEFAULT_SEED,
    markets: Annotated[
        str | None,
        typer.Option("--markets", help="Comma-separated LMP markets among DAM, RTH, RT5; all when omitted."),
    ] = None,
    rt5_days: Annotated[
        int, typer.Option("--rt5-days", help="Simulate RT5 (5-minute) only for the last N days.", min=0)
    ] = 7,
    datasets: Annotated[
        str | None,
        typer.Option(
            "--datasets",
            help="Comma-separated datasets among lmp, as_price, ordc_adder, load, capacity_price; "
            "all when omitted.",
        ),
    ] = None,
    data_dir: DataDir = DEFAULT_DATA_DIR,
    store_url: StoreUrl = DEFAULT_STORE,
) -> None:
    """Simulate market data for a UTC window and store it (marked simulated, never shown as real).

    LMPs ($/MWh) with energy, congestion and loss for every hub, zone and
    --nodes nodes per ISO; ancillary prices ($/MW-h), ERCOT ORDC adders,
    zonal load (MW) and capacity prices ($/MW-day). Running it again over the
    same window stores nothing new.
    """
    try:
        config = build_config(start, end, isos, nodes, seed, markets, rt5_days, datasets)
        store = open_cli_store(store_url, data_dir)
    except UnknownName as exc:
        fail(exc.message, exc.hint())
    except CliError as exc:
        fail(exc.message, exc.hint)
    except BadList as exc:
        fail(str(exc))
    try:
        with RowProgress(console) as progress:
            summary = write_simulation(store, [config], progress, description="Simulating")
    except KeyboardInterrupt:
        interrupted("Batches stored so far are kept (each is atomic); run the same command to finish.")
    except (OSError, StoreError) as exc:
        fail(
            f"the store in {store_label(store_url, data_dir)} could not write a batch ({exc}); "
            "batches stored before it are kept"
        )
    finally:
        store.close()
    console.print(_summary(summary))
    rate = summary.total_received / summary.seconds if summary.seconds else 0.0
    console.print(
        f"{summary.total_received:,} rows simulated, {summary.total_written:,} new, "
        f"in {summary.seconds:.1f} s ({rate / 1e6:.1f}M rows/s) into {store_label(store_url, data_dir)}"
    )
