"""Options shared by several commands, with their environment variables (`CARBON254_*`).

The query options (`--iso` ... `--as-of`) are declared once here for `query`
and `export`, which read the same rows.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from carbon254.schema import Dataset
from carbon254.store import Block, Resample

DEFAULT_DATA_DIR = Path("carbon254-data")
DEFAULT_STORE = "duckdb://"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000

DataDir = Annotated[
    Path,
    typer.Option(
        "--data-dir",
        envvar="CARBON254_DATA_DIR",
        help="Directory of the platform's local files (and of the store, with --store duckdb://).",
        file_okay=False,
        show_default=True,
    ),
]
StoreUrl = Annotated[
    str,
    typer.Option(
        "--store",
        envvar="CARBON254_STORE",
        help="Store URL: duckdb:// is the embedded store in --data-dir, duckdb:///path/to/dir the one "
        "in that directory (a relative path is read from --data-dir).",
        show_default=True,
    ),
]
Host = Annotated[
    str,
    typer.Option("--host", envvar="CARBON254_HOST", help="Address to listen on.", show_default=True),
]
Port = Annotated[
    int,
    typer.Option(
        "--port", envvar="CARBON254_PORT", help="Port to listen on.", min=1, max=65535, show_default=True
    ),
]
Only = Annotated[
    str | None,
    typer.Option(
        "--only",
        help="Serve only these comma-separated domains (data, analytics, quality, graphql, stream, admin, "
        "excel) on this port; health, readiness and metrics are always served. Default: everything "
        "(CARBON254_ONLY).",
        show_default=False,
    ),
]
SslCertfile = Annotated[
    Path | None,
    typer.Option(
        "--ssl-certfile",
        help="PEM certificate (chain) to serve HTTPS with; needs --ssl-keyfile (CARBON254_SSL_CERTFILE).",
        dir_okay=False,
        show_default=False,
    ),
]
SslKeyfile = Annotated[
    Path | None,
    typer.Option(
        "--ssl-keyfile",
        help="PEM private key of --ssl-certfile (CARBON254_SSL_KEYFILE).",
        dir_okay=False,
        show_default=False,
    ),
]

# --- the query options: what `query` shows and `export` writes ------------------------------------
IsoOption = Annotated[
    str, typer.Option("--iso", help="ISO/RTO, e.g. ERCOT, PJM (any case).", show_default=False)
]
StartOption = Annotated[
    str,
    typer.Option(
        "--start",
        help="Inclusive start: ISO-8601 date or datetime, read in --tz unless it has an offset; or "
        "relative: now or today (midnight in --tz), optionally with a signed offset of whole days, "
        "hours or weeks, e.g. today-30d, now-6h.",
        show_default=False,
    ),
]
EndOption = Annotated[
    str, typer.Option("--end", help="Exclusive end, same forms as --start.", show_default=False)
]
DatasetOption = Annotated[Dataset, typer.Option("--dataset", help="Dataset to read.", case_sensitive=False)]
MarketOption = Annotated[
    str | None,
    typer.Option(
        "--market",
        help="Market (lmp, as_price: DAM, RTH, RT5...), auction (capacity_price) or kind (load); "
        "omit for all.",
        show_default=False,
    ),
]
LocationsOption = Annotated[
    str | None,
    typer.Option(
        "--locations",
        help="Comma-separated locations (regions or zones for other datasets); omit for all.",
        show_default=False,
    ),
]
TzOption = Annotated[
    str | None,
    typer.Option(
        "--tz",
        help="IANA zone for --start/--end/--as-of and output times, or 'iso' for the ISO's market "
        "time; UTC when omitted.",
        show_default=False,
    ),
]
ResampleOption = Annotated[
    Resample | None,
    typer.Option("--resample", help="Average into calendar buckets.", case_sensitive=False),
]
BlockOption = Annotated[
    Block | None,
    typer.Option("--block", help="Keep one delivery block (ISO market time).", case_sensitive=False),
]
AsOfOption = Annotated[
    str | None,
    typer.Option(
        "--as-of",
        help="Return the data as known at this instant (no look-ahead); same forms as --start.",
        show_default=False,
    ),
]
