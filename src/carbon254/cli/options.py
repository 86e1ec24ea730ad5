"""Options shared by several commands, with their environment variables (`CARBON254_*`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

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
