"""`carbon254 serve`: the HTTP API over a data dir, under uvicorn."""

from __future__ import annotations

from pathlib import Path

from pydantic import ValidationError as SettingsError
from rich.markup import escape

from carbon254.cli.console import CliError, console, fail
from carbon254.cli.options import DEFAULT_DATA_DIR, DEFAULT_HOST, DEFAULT_PORT, DataDir, Host, Port
from carbon254.cli.server import run_server, server_url, stop_signals_interrupt
from carbon254.config import Settings


def settings_for(data_dir: Path, host: str, port: int) -> Settings:
    """Settings from the environment with the command's options on top; CliError if the environment is bad."""
    try:
        return Settings(data_dir=data_dir, host=host, port=port)
    except SettingsError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        raise CliError(f"invalid CARBON254_* setting: {problems}") from None


def is_empty_store(data_dir: Path) -> bool:
    """Whether `data_dir` holds no committed store yet."""
    return not (data_dir / "store" / "manifest.json").exists()


def serve(
    data_dir: DataDir = DEFAULT_DATA_DIR,
    host: Host = DEFAULT_HOST,
    port: Port = DEFAULT_PORT,
) -> None:
    """Serve the HTTP API (REST, docs at /docs) over the store in --data-dir until Ctrl-C.

    The service reads the store on every request, so data written meanwhile by
    `carbon254 ingest` or `simulate` in another process shows up at once.
    """
    try:
        with stop_signals_interrupt():
            _serve(data_dir, host, port)
    except KeyboardInterrupt:
        pass  # Ctrl-C or SIGTERM before the server was up
    except CliError as exc:
        fail(exc.message, exc.hint)
    console.print("Server stopped.")


def _serve(data_dir: Path, host: str, port: int) -> None:
    settings = settings_for(data_dir, host, port)
    from carbon254.service import create_app  # deferred: the web stack loads in about a second

    base = server_url(host, port)

    def ready() -> None:
        console.print(
            f"254Carbon API serving [bold]{escape(str(data_dir))}[/] at {base}  (docs: {base}/docs)",
            soft_wrap=True,
        )
        if is_empty_store(data_dir):
            console.print(
                "[yellow]The store is empty:[/] load data with `carbon254 ingest`, "
                "`carbon254 simulate`, or run `carbon254 demo`.",
                soft_wrap=True,
            )
        console.print("Press Ctrl-C to stop.")

    run_server(create_app(settings), host, port, on_ready=ready)
