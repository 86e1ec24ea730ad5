"""Store backends by URL scheme, and `open_store`: the one way a consumer gets a `Store`.

A store URL is `<scheme>://<address>` (`CARBON254_STORE`). Each backend
registers one `Backend` under its scheme; the embedded `duckdb://` backend is
registered by `carbon254.store` itself, and a second one (chDB, ClickHouse)
adds its own `register_backend` call. Consumers never name a backend class:
they call `open_store(settings.store, settings.data_dir)` and get a `Store`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from carbon254.store.base import Store

_SCHEME = re.compile(r"[a-z][a-z0-9+.-]*\Z")
# The backend a directory path (rather than a URL) opens: the embedded store.
DIRECTORY_SCHEME = "duckdb"


class StoreUrlError(ValueError):
    """A store URL that is malformed or names no registered backend; the message lists the schemes."""


@dataclass(frozen=True, slots=True)
class Backend:
    """One store backend: how its URLs read and how to open one.

    `locate(address, data_dir)` turns the text after `<scheme>://` into the
    backend's canonical address (absolute, so every process over one store
    names it alike) without touching storage, and raises `StoreUrlError`
    when the address is malformed. `connect(address, create)` opens the
    store at a canonical address; with `create=False` it raises
    `StoreNotFound` when nothing was ever committed there, and creates
    nothing.
    """

    scheme: str
    locate: Callable[[str, Path], str]
    connect: Callable[[str, bool], Store]


_BACKENDS: dict[str, Backend] = {}


def register_backend(backend: Backend) -> None:
    """Make `backend` the opener of `<backend.scheme>://` URLs.

    Raises ValueError for a scheme that is not a lower-case URL scheme or is
    already taken by another backend (registering the same one twice is harmless).
    """
    if not _SCHEME.match(backend.scheme):
        raise ValueError(f"store scheme {backend.scheme!r} is not a lower-case URL scheme")
    taken = _BACKENDS.get(backend.scheme)
    if taken is not None and taken != backend:
        raise ValueError(f"store scheme {backend.scheme}:// is already registered")
    _BACKENDS[backend.scheme] = backend


def backend_schemes() -> tuple[str, ...]:
    """The registered schemes, sorted (e.g. `("duckdb",)`)."""
    return tuple(sorted(_BACKENDS))


def supported_schemes() -> str:
    """The registered schemes as a reader would write them: `duckdb://` (comma-separated)."""
    return ", ".join(f"{scheme}://" for scheme in backend_schemes())


def _backend(url: str) -> tuple[Backend, str]:
    """The backend a URL names and the address after `<scheme>://`; StoreUrlError if there is none."""
    text = url.strip()
    scheme, sep, address = text.partition("://")
    if not sep or not _SCHEME.match(scheme.lower()):
        raise StoreUrlError(
            f"malformed store URL {text!r}: expected <scheme>://<address>, e.g. duckdb:///srv/c254; "
            f"supported schemes: {supported_schemes()}"
        )
    backend = _BACKENDS.get(scheme.lower())
    if backend is None:
        # Only the scheme is echoed: the rest of a server URL may hold credentials.
        raise StoreUrlError(f"unknown store scheme {scheme}://; supported schemes: {supported_schemes()}")
    return backend, address


def _locate(backend: Backend, address: str, data_dir: Path | str) -> str:
    """The backend's canonical address; a malformed one's error also names the supported schemes."""
    try:
        return backend.locate(address, Path(data_dir))
    except StoreUrlError as exc:
        raise StoreUrlError(f"{exc}; supported schemes: {supported_schemes()}") from None


def resolve_store_url(url: str, data_dir: Path | str) -> str:
    """The canonical form of a store URL, its address made absolute against `data_dir`.

    Every process over one store resolves its URL to the same text (e.g.
    `duckdb://` with data dir `./data` to `duckdb:///home/me/data`), so it
    identifies the store. Nothing is opened or created. Raises
    `StoreUrlError` for a malformed URL or an unregistered scheme.
    """
    backend, address = _backend(url)
    return f"{backend.scheme}://{_locate(backend, address, data_dir)}"


def open_store(
    url: str | os.PathLike[str] | None = None,
    data_dir: Path | str | None = None,
    *,
    create: bool = True,
) -> Store:
    """Open the store a URL names, with the backend registered for its scheme.

    `url` is a store URL (`duckdb://`, `duckdb:///srv/c254`); None means the
    `CARBON254_STORE` setting. A path object instead of a URL is the
    embedded store in that directory. `data_dir` anchors addresses that
    need it (`duckdb://` alone is the data dir itself); None means
    `CARBON254_DATA_DIR`. With `create=False` nothing is created and a store
    that was never written to raises `StoreNotFound`. Raises
    `StoreUrlError` for a malformed URL or an unknown scheme (naming the
    supported ones), and OSError when the storage cannot be opened.
    """
    if isinstance(url, os.PathLike):
        backend, address, data_dir = _BACKENDS[DIRECTORY_SCHEME], "", os.fspath(url)
    else:
        if url is None or data_dir is None:
            from carbon254.config import Settings  # deferred: config validates store URLs with this module

            settings = Settings()
            url = settings.store if url is None else url
            data_dir = settings.data_dir if data_dir is None else data_dir
        backend, address = _backend(url)
    return backend.connect(_locate(backend, address, data_dir), create)
