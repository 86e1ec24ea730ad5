"""`carbon254 replay`: serve ISO files under the ISOs' URL layouts on this machine.

Point connectors at it with `CARBON254_<ISO>_URL=http://127.0.0.1:PORT` to
backfill from saved files (tests, demos, air-gapped sites) exactly as from
the ISOs, through the same HTTP code.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from carbon254.cli.console import console, fail
from carbon254.cli.names import BadList, split_list
from carbon254.isos import Iso
from carbon254.names import UnknownName, resolve_iso
from carbon254.replay import ReplayServer
from carbon254.replay.sites import routes_for
from carbon254.settings_doc import env_name


def site_roots(iso: Iso, roots: list[Path]) -> list[Path]:
    """Where an ISO's files are looked for: each root's folder named after the ISO, then the roots."""
    own = [r / iso.value.lower() for r in roots if (r / iso.value.lower()).is_dir()]
    return own + roots


def replay(
    root: Annotated[
        list[Path],
        typer.Option(
            "--root",
            help="Directory of saved ISO files, searched recursively (a subfolder named after the ISO "
            "first). Repeat for several.",
            exists=True,
            file_okay=False,
        ),
    ],
    iso: Annotated[
        str | None,
        typer.Option(
            "--iso", help="Comma list of ISOs to imitate; all seven when omitted.", show_default=False
        ),
    ] = None,
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=0, max=65535, help="Port (0 picks a free one).")] = 9000,
) -> None:
    """Serve saved ISO files under each ISO's own URL layout until Ctrl-C."""
    try:
        names = split_list("--iso", iso)
        isos = [resolve_iso(n, "--iso") for n in names] if names else list(Iso)
    except (BadList, UnknownName) as exc:
        raise typer.BadParameter(str(exc), param_hint="--iso") from None
    routes = [r for i in isos for r in routes_for(i, site_roots(i, root))]
    try:
        server = ReplayServer(routes, port=port, host=host)
    except OSError as exc:
        fail(f"cannot listen on {host}:{port} ({exc.strerror or exc})")
    with server:
        console.print(f"Replaying {', '.join(i.value for i in isos)} at [bold]{escape(server.url)}[/]")
        for i in isos:
            console.print(f"  {env_name(i.value.lower(), 'url')}={server.url}")
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            console.print("Replay stopped.")
