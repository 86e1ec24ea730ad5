"""Running the HTTP service under uvicorn for `serve` and `demo`.

The listening socket is bound here, before uvicorn starts, so a busy port is
a clear one-line error rather than a log record and a bare exit. `on_ready`
runs once uvicorn accepts connections, which is when the URL is worth
printing (tests and scripts wait for that line).

Stopping: uvicorn handles Ctrl-C and SIGTERM by shutting down gracefully
(it stops accepting connections, closes idle ones and lets in-flight
requests finish for up to `graceful_timeout_s` seconds, then cancels them)
and then re-raising the signal. `stop_signals_interrupt` makes SIGTERM behave
like Ctrl-C (a KeyboardInterrupt in the main thread), so both end in
`run_server` returning normally and the caller can stop its own threads
(the demo's live feed) before the process exits with status 0.
"""

from __future__ import annotations

import ipaddress
import signal
import socket
import ssl
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

from carbon254.cli.console import CliError

DEFAULT_GRACEFUL_TIMEOUT_S = 30.0


@dataclass(frozen=True, slots=True)
class TlsFiles:
    """The PEM certificate (chain) and private key to serve HTTPS with."""

    certfile: Path
    keyfile: Path


def tls_files(certfile: Path | None, keyfile: Path | None) -> TlsFiles | None:
    """The TLS files given (None for plain HTTP), checked loadable; CliError naming the option otherwise."""
    if certfile is None and keyfile is None:
        return None
    if certfile is None or keyfile is None:
        given, missing = (
            ("--ssl-certfile", "--ssl-keyfile") if keyfile is None else ("--ssl-keyfile", "--ssl-certfile")
        )
        raise CliError(f"{given} needs {missing} too: HTTPS takes a certificate and its private key")
    for option, path in (("--ssl-certfile", certfile), ("--ssl-keyfile", keyfile)):
        if not path.is_file():
            raise CliError(f"{option}: no such file {str(path)!r}")
    try:
        ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(certfile, keyfile)
    except (ssl.SSLError, OSError, ValueError) as exc:
        raise CliError(
            f"--ssl-certfile/--ssl-keyfile: cannot load the certificate and key ({exc})",
            hint="Both must be PEM files, the key matching the certificate (and not password-protected).",
        ) from None
    return TlsFiles(certfile, keyfile)


def is_loopback(host: str) -> bool:
    """Whether binding `host` (an address or a name) listens only on this machine's loopback interface.

    A name counts when every address it resolves to is a loopback address
    (`localhost`); an empty host or a wildcard (`0.0.0.0`, `::`) does not.
    """
    if not host:
        return False
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except socket.gaierror:
        return False
    addresses = {str(info[4][0]).split("%")[0] for info in infos}
    return bool(addresses) and all(ipaddress.ip_address(a).is_loopback for a in addresses)


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


def server_url(host: str, port: int, *, tls: bool = False) -> str:
    """The base URL a browser on this machine should open for a server bound to host:port."""
    shown = {"0.0.0.0": "127.0.0.1", "::": "[::1]", "": "127.0.0.1"}.get(host, host)
    if ":" in shown and not shown.startswith("["):
        shown = f"[{shown}]"
    return f"{'https' if tls else 'http'}://{shown}:{port}"


def run_server(
    app: Any,
    host: str,
    port: int,
    *,
    on_ready: Callable[[], None] | None = None,
    log_level: str = "info",
    log_config: dict[str, Any] | None = None,
    tls: TlsFiles | None = None,
    graceful_timeout_s: float = DEFAULT_GRACEFUL_TIMEOUT_S,
) -> None:
    """Serve `app` on host:port until Ctrl-C or SIGTERM, then return (after a graceful shutdown).

    `log_config` is a `logging.config.dictConfig` dictionary (uvicorn's own
    when None); `tls` serves HTTPS; in-flight requests get up to
    `graceful_timeout_s` seconds to finish once a stop is asked for. Raises
    CliError if the address cannot be bound.
    """
    import uvicorn  # deferred: only the serving commands need the web stack
    from uvicorn.config import LOGGING_CONFIG

    class _Server(uvicorn.Server):
        async def startup(self, sockets: list[socket.socket] | None = None) -> None:
            # The app's own lifespan froze the startup heap (`service.ops.heap`).
            await super().startup(sockets=sockets)
            if self.started and on_ready is not None:
                on_ready()

    sock = bind_socket(host, port)
    config = uvicorn.Config(
        app,
        log_level=log_level,
        # The service writes its own access line (request id, tenant, secrets redacted).
        access_log=log_config is None,
        timeout_graceful_shutdown=max(1, round(graceful_timeout_s)),
        ssl_certfile=str(tls.certfile) if tls else None,
        ssl_keyfile=str(tls.keyfile) if tls else None,
        log_config=log_config if log_config is not None else LOGGING_CONFIG,
    )
    server = _Server(config)
    try:
        with stop_signals_interrupt():
            server.run(sockets=[sock])
    except KeyboardInterrupt:
        pass
    finally:
        sock.close()
