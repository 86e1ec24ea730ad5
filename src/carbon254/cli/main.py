"""The `carbon254` Typer app: one command per module, registered here.

Shared options (`--data-dir`, `--host`, `--port`) live in `cli/options.py`
and are declared on each command, so `carbon254 query --data-dir X` works
and `CARBON254_DATA_DIR` is honoured everywhere.
"""

from __future__ import annotations

from typing import Annotated

import typer

from carbon254 import __version__
from carbon254.cli.battery import battery
from carbon254.cli.battery_screen import screen as _screen  # noqa: F401  (registers `battery screen`)
from carbon254.cli.curves import curve
from carbon254.cli.demo import demo
from carbon254.cli.export import export
from carbon254.cli.forecast import forecast
from carbon254.cli.forecast_models import models
from carbon254.cli.ingest import ingest
from carbon254.cli.jobs import jobs
from carbon254.cli.keys import keys
from carbon254.cli.operations import add_operation_commands
from carbon254.cli.ppa import ppa
from carbon254.cli.quality import quality
from carbon254.cli.query import query
from carbon254.cli.replay import replay
from carbon254.cli.risk import risk
from carbon254.cli.risk_store import portfolio
from carbon254.cli.scenarios import scenario
from carbon254.cli.serve import serve
from carbon254.cli.simulate import simulate
from carbon254.cli.tenants import tenants

app = typer.Typer(
    name="carbon254",
    help="254Carbon: North American power-market data. Prices are $/MWh; times are UTC unless --tz says.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"carbon254 {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool | None,
        typer.Option("--version", help="Show the version and exit.", callback=_version, is_eager=True),
    ] = None,
) -> None:
    """254Carbon: North American power-market data (ISO LMPs, ancillary, load, capacity)."""


app.command("ingest")(ingest)
app.command("query")(query)
app.command("export")(export)
app.command("quality")(quality)
app.command("simulate")(simulate)
app.command("serve")(serve)
app.command("demo")(demo)
app.command("replay")(replay)
app.add_typer(tenants)
app.add_typer(keys)
app.add_typer(jobs)
app.add_typer(curve)
app.add_typer(scenario)
app.add_typer(battery)
app.add_typer(risk)
app.add_typer(ppa)
risk.add_typer(portfolio)
app.add_typer(forecast)
forecast.add_typer(models)
# Analytics: one command per declared operation (carbon254 spreads, carbon254 curve show ...).
add_operation_commands(
    app, {"curve": curve, "battery": battery, "risk": risk, "ppa": ppa, "forecast": forecast}
)
