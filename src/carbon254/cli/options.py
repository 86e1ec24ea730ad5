"""Options shared by several commands, with their environment variables (`CARBON254_*`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

DEFAULT_DATA_DIR = Path("carbon254-data")
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000

DataDir = Annotated[
    Path,
    typer.Option(
        "--data-dir",
        envvar="CARBON254_DATA_DIR",
        help="Directory of the embedded store.",
        file_okay=False,
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
