"""`carbon254 serve`: the HTTP API over a data dir, under uvicorn.

Credentials are required (`CARBON254_AUTH=required`, the default) unless
`CARBON254_AUTH=off`, which is refused unless the server binds a loopback
address, so an open API can never be exposed to the network by mistake.
`--only` serves a subset of the routers (one domain per port, as in a split
deployment); `--ssl-certfile/--ssl-keyfile` serve HTTPS.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.markup import escape

from carbon254.cli.console import CliError, console, fail
from carbon254.cli.options import (
    DEFAULT_DATA_DIR,
    DEFAULT_HOST,
    DEFAULT_PORT,
    DEFAULT_STORE,
    DataDir,
    Host,
    Only,
    Port,
    SslCertfile,
    SslKeyfile,
    StoreUrl,
)
from carbon254.cli.server import (
    TlsFiles,
    is_loopback,
    run_server,
    server_url,
    stop_signals_interrupt,
    tls_files,
)
from carbon254.cli.settings import load_settings
from carbon254.cli.stores import store_label
from carbon254.config import AuthMode, Settings
from carbon254.store import StoreNotFound, open_store


def settings_for(data_dir: Path, host: str, port: int, **overrides: Any) -> Settings:
    """Settings from the environment with the command's options on top; CliError if the environment is bad.

    `overrides` are further fields (e.g. `only`, `auth`); None values are
    left to the environment.
    """
    return load_settings(data_dir=data_dir, host=host, port=port, **overrides)


def check_auth_binding(settings: Settings) -> None:
    """CliError if authentication is off while the server would listen beyond this machine."""
    if settings.auth is AuthMode.OFF and not is_loopback(settings.host):
        raise CliError(
            f"CARBON254_AUTH=off is allowed only on a loopback address; --host {settings.host!r} is not one",
            hint="Bind 127.0.0.1 (or ::1), or keep CARBON254_AUTH=required and use API keys or OIDC tokens.",
        )


def parse_only(text: str | None) -> list[str] | None:
    """`--only a,b` as a list of domain names (None when not given); CliError for an unknown domain."""
    if text is None:
        return None
    from carbon254.service.routes import UnknownDomain, select_domains  # deferred: loads the web stack

    names = [name.strip().lower() for name in text.split(",") if name.strip()]
    if not names:
        raise CliError("--only lists no domain; omit it to serve everything")
    try:
        select_domains(names)
    except UnknownDomain as exc:
        raise CliError(f"--only: {exc}") from None
    return names


def is_empty_store(settings: Settings) -> bool:
    """Whether the store `settings` name was never written to (nothing is created to find out)."""
    try:
        open_store(settings.store, settings.data_dir, create=False).close()
    except StoreNotFound:
        return True
    return False


def build_app(settings: Settings) -> Any:
    """The service app for `settings`; CliError if a domain asked for with --only is not installed."""
    from carbon254.service import create_app  # deferred: the web stack loads in about a second
    from carbon254.service.routes import DomainUnavailable, UnknownDomain

    try:
        return create_app(settings)
    except (UnknownDomain, DomainUnavailable) as exc:
        raise CliError(f"--only: {exc}") from None


def serve(
    data_dir: DataDir = DEFAULT_DATA_DIR,
    host: Host = DEFAULT_HOST,
    port: Port = DEFAULT_PORT,
    only: Only = None,
    ssl_certfile: SslCertfile = None,
    ssl_keyfile: SslKeyfile = None,
    store_url: StoreUrl = DEFAULT_STORE,
) -> None:
    """Serve the HTTP API (REST, docs at /docs) over the store (--store, default: in --data-dir) until Ctrl-C.

    The service reads the store on every request, so data written meanwhile by
    `carbon254 ingest` or `simulate` in another process shows up at once.
    Requests need an API key or OIDC token unless CARBON254_AUTH=off, which
    only a loopback --host allows. SIGTERM lets in-flight requests finish
    (CARBON254_SHUTDOWN_GRACE_S) before the process exits.
    """
    try:
        with stop_signals_interrupt():
            _serve(store_url, data_dir, host, port, only, ssl_certfile, ssl_keyfile)
    except KeyboardInterrupt:
        pass  # Ctrl-C or SIGTERM before the server was up
    except CliError as exc:
        fail(exc.message, exc.hint)
    console.print("Server stopped.")


def _serve(
    store_url: str,
    data_dir: Path,
    host: str,
    port: int,
    only: str | None,
    certfile: Path | None,
    keyfile: Path | None,
) -> None:
    settings = settings_for(
        data_dir,
        host,
        port,
        only=parse_only(only),
        ssl_certfile=certfile,
        ssl_keyfile=keyfile,
        store=store_url,
    )
    check_auth_binding(settings)
    tls = tls_files(settings.ssl_certfile, settings.ssl_keyfile)
    app = build_app(settings)
    from carbon254.service.ops.logs import logging_config

    base = server_url(host, port, tls=tls is not None)

    def ready() -> None:
        what = f" ({', '.join(settings.only)} and ops)" if settings.only else ""
        console.print(
            f"254Carbon API{what} serving [bold]{escape(store_label(settings.store, data_dir))}[/] "
            f"at {base}  (docs: {base}/docs)",
            soft_wrap=True,
        )
        if settings.auth is AuthMode.OFF:
            console.print("[yellow]Authentication is off[/] (CARBON254_AUTH=off): loopback only.")
        if is_empty_store(settings):
            console.print(
                "[yellow]The store is empty:[/] load data with `carbon254 ingest`, "
                "`carbon254 simulate`, or run `carbon254 demo`.",
                soft_wrap=True,
            )
        console.print("Press Ctrl-C to stop.")

    run_server(
        app,
        host,
        port,
        on_ready=ready,
        log_config=logging_config(settings),
        tls=tls,
        graceful_timeout_s=settings.shutdown_grace_s,
    )


__all__ = ["TlsFiles", "check_auth_binding", "parse_only", "serve", "settings_for"]
