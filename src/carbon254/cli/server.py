"""Running the HTTP service under uvicorn for `serve` and `demo`.

The listening socket is bound here, before uvicorn starts, so a busy port is
a clear one-line error rather than a log record and a bare exit. `on_ready`
runs once uvicorn accepts connections, which is when the URL is worth
printing (tests and scripts wait for that line).

Stopping: uvicorn handles Ctrl-C and SIGTERM by shutting down gracefully and
then re-raising the signal. `stop_signals_interrupt` makes SIGTERM behave
like Ctrl-C (a KeyboardInterrupt in the main thread), so both end in
`run_server` returning normally and the caller can stop its own threads
(the demo's live feed) before the process exits with status 0.
"""

from __future__ import annotations

import signal
import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

from carbon254.cli.console import CliError


def _raise_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


@contextmanager
def stop_signals_interrupt() -> Iterator[None]:
    """Within the block, SIGTERM raises KeyboardInterrupt in the main thread, like Ctrl-C."""
    previous = signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def bind_socket(host: str, port: int) -> socket.socket:
    """A TCP socket bound to host:port, ready for uvicorn; CliError naming --host/--port if it cannot be."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise CliError(f"--host: cannot resolve {host!r} ({exc.strerror})") from None
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
    except OSError as exc:
        sock.close()
        raise CliError(
            f"--port: cannot listen on {host}:{port} ({exc.strerror or exc})",
            hint="Is another server running there? Choose another port with --port.",
        ) from None
    sock.set_inheritable(True)
    return sock


def server_url(host: str, port: int) -> str:
    """The base URL a browser on this machine should open for a server bound to host:port."""
    shown = {"0.0.0.0": "127.0.0.1", "::": "[::1]", "": "127.0.0.1"}.get(host, host)
    if ":" in shown and not shown.startswith("["):
        shown = f"[{shown}]"
    return f"http://{shown}:{port}"


def run_server(
    app: Any,
    host: str,
    port: int,
    *,
    on_ready: Callable[[], None] | None = None,
    log_level: str = "info",
) -> None:
    """Serve `app` on host:port until Ctrl-C or SIGTERM, then return (after a graceful shutdown).

    Raises CliError if the address cannot be bound.
    """
    import uvicorn  # deferred: only the serving commands need the web stack

    class _Server(uvicorn.Server):
        async def startup(self, sockets: list[socket.socket] | None = None) -> None:
            await super().startup(sockets=sockets)
            if self.started and on_ready is not None:
                on_ready()

    sock = bind_socket(host, port)
    config = uvicorn.Config(app, log_level=log_level, timeout_graceful_shutdown=5)
    server = _Server(config)
    try:
        with stop_signals_interrupt():
            server.run(sockets=[sock])
    except KeyboardInterrupt:
        pass
    finally:
        sock.close()
