"""Opening the store a command works on, from `--store` (CARBON254_STORE) and `--data-dir`."""

from __future__ import annotations

from pathlib import Path

from carbon254.cli.console import CliError
from carbon254.cli.options import DEFAULT_STORE
from carbon254.store import Store, StoreNotFound, StoreUrlError, open_store, resolve_store_url

NO_STORE_HINT = (
    "Load data with `carbon254 demo`, `simulate` or `ingest`, or point --data-dir (CARBON254_DATA_DIR) "
    "or --store (CARBON254_STORE) at an existing store."
)


def _default(url: str) -> bool:
    """Whether `url` is the default, the store in the data dir (so --data-dir is what placed it)."""
    return url.strip() == DEFAULT_STORE


def store_label(url: str, data_dir: Path) -> str:
    """How messages name the store: its data dir for the default URL, else the URL as given."""
    return str(data_dir) if _default(url) else url.strip()


def check_store_url(url: str, data_dir: Path) -> None:
    """CliError naming --store and the supported schemes when `url` is malformed or of an unknown scheme."""
    try:
        resolve_store_url(url, data_dir)
    except StoreUrlError as exc:
        raise CliError(f"--store (CARBON254_STORE): {exc}") from None


def open_cli_store(url: str, data_dir: Path, *, create: bool = True) -> Store:
    """The store `url` names (`duckdb://`: the one in `data_dir`); CliError naming the option at fault.

    With `create=False` (commands that only read) nothing is created, and a
    store never written to is an error with a hint on how to fill one.
    """
    check_store_url(url, data_dir)
    try:
        return open_store(url, data_dir, create=create)
    except StoreNotFound as exc:
        option = "--data-dir" if _default(url) else "--store"
        raise CliError(f"{option}: {exc}", hint=NO_STORE_HINT) from None
    except OSError as exc:
        why = exc.strerror or exc
        if _default(url):
            raise CliError(f"--data-dir: cannot open the store in {data_dir} ({why})") from None
        raise CliError(f"--store: cannot open the store at {url.strip()} ({why})") from None
