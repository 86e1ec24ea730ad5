"""Opening the store from its URL (`CARBON254_STORE`): where `duckdb://` URLs point, errors, the registry."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from pydantic import ValidationError
from store_tables import lmp_table, utc

import carbon254.store.registry as registry
from carbon254.config import Settings
from carbon254.store import (
    Backend,
    ParquetStore,
    Store,
    StoreNotFound,
    StoreUrlError,
    backend_schemes,
    open_store,
    register_backend,
    resolve_store_url,
)
from carbon254.store.embedded import EMBEDDED

DAY = (utc(2025, 1, 1), utc(2025, 1, 2))


def _write_one_day(store: Store) -> None:
    try:
        store.write("lmp", lmp_table(["HB_NORTH"], DAY[0], 24))
    finally:
        store.close()


def _rows_in(directory: Path) -> int:
    """Rows of the test day in the embedded store in `directory`, read without any URL."""
    store = ParquetStore(directory)
    try:
        return store.read("lmp", "ERCOT", "DAM", None, *DAY).num_rows
    finally:
        store.close()


@pytest.fixture(autouse=True)
def _no_store_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("CARBON254_STORE", "CARBON254_DATA_DIR"):
        monkeypatch.delenv(name, raising=False)


def test_duckdb_alone_is_the_data_dir(tmp_path: Path) -> None:
    store = open_store("duckdb://", tmp_path)
    assert isinstance(store, Store)
    _write_one_day(store)
    assert _rows_in(tmp_path) == 24
    assert (tmp_path / "store" / "manifest.json").is_file()


def test_absolute_path_is_that_directory_whatever_the_data_dir(tmp_path: Path) -> None:
    elsewhere = tmp_path / "srv" / "c254"
    _write_one_day(open_store(f"duckdb://{elsewhere}", tmp_path / "data"))
    assert _rows_in(elsewhere) == 24
    assert not (tmp_path / "data").exists()  # the data dir was not touched


def test_relative_path_is_read_from_the_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    tmp_path = tmp_path.resolve()
    monkeypatch.chdir(tmp_path)
    _write_one_day(open_store("duckdb://archive/2025", tmp_path / "data"))
    assert _rows_in(tmp_path / "data" / "archive" / "2025") == 24
    assert resolve_store_url("duckdb://archive", "data") == f"duckdb://{tmp_path}/data/archive"


def test_home_and_percent_escapes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    tmp_path = tmp_path.resolve()
    monkeypatch.setenv("HOME", str(tmp_path))
    _write_one_day(open_store("duckdb://~/my%20store", tmp_path / "data"))
    assert _rows_in(tmp_path / "my store") == 24
    # The canonical URL escapes what a URL must, so it reads back as the same directory.
    url = resolve_store_url("duckdb://~/my store", "anywhere")
    assert url == f"duckdb://{tmp_path}/my%20store"
    assert resolve_store_url(url, "elsewhere") == url


def test_every_spelling_of_one_store_resolves_alike(tmp_path: Path) -> None:
    tmp_path = tmp_path.resolve()
    (tmp_path / "data").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "data")
    same = {
        resolve_store_url("duckdb://", tmp_path / "data"),
        resolve_store_url(" DuckDB:// ", tmp_path / "data"),
        resolve_store_url(f"duckdb://{tmp_path}/data/", "x"),
        resolve_store_url(f"duckdb://{tmp_path}/link", "x"),
        resolve_store_url("duckdb://../data", tmp_path / "link"),
    }
    assert same == {f"duckdb://{tmp_path}/data"}
    assert resolve_store_url("duckdb://", tmp_path / "b") != resolve_store_url("duckdb://", tmp_path / "data")


def test_a_path_object_is_the_embedded_store_there(tmp_path: Path) -> None:
    _write_one_day(open_store(tmp_path / "dir"))
    assert _rows_in(tmp_path / "dir") == 24


def test_settings_name_the_store_by_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CARBON254_DATA_DIR", str(tmp_path / "data"))
    _write_one_day(open_store())
    assert _rows_in(tmp_path / "data") == 24
    monkeypatch.setenv("CARBON254_STORE", f"duckdb://{tmp_path}/shared")
    _write_one_day(open_store())
    assert _rows_in(tmp_path / "shared") == 24
    _write_one_day(open_store("duckdb://", tmp_path / "given"))  # an explicit data dir wins
    assert _rows_in(tmp_path / "given") == 24


def test_create_false_opens_only_a_store_that_was_written(tmp_path: Path) -> None:
    tmp_path = tmp_path.resolve()
    with pytest.raises(StoreNotFound, match=f"no store in {tmp_path}/missing"):
        open_store("duckdb://", tmp_path / "missing", create=False)
    assert not (tmp_path / "missing").exists()
    ParquetStore(tmp_path / "opened").close()  # opened once, never written: nothing stored yet
    with pytest.raises(StoreNotFound):
        open_store("duckdb://", tmp_path / "opened", create=False)
    _write_one_day(open_store("duckdb://", tmp_path / "written"))
    reader = open_store(f"duckdb://{tmp_path}/written", "unused", create=False)
    assert reader.read("lmp", "ERCOT", "DAM", None, *DAY).num_rows == 24
    reader.close()


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("", "malformed store URL ''"),
        ("/srv/c254", "expected <scheme>://<address>"),
        ("duckdb:/srv/c254", "expected <scheme>://<address>"),
        ("://srv", "expected <scheme>://<address>"),
        ("1db:///srv", "expected <scheme>://<address>"),
        ("parquet:///srv/c254", "unknown store scheme parquet://"),
        ("clickhouse://reader:s3cret@db.example.com:9000/c254", "unknown store scheme clickhouse://"),
        ("duckdb:///srv/c254?mode=ro", "no ?query or #fragment"),
        ("duckdb:///srv/c254#latest", "no ?query or #fragment"),
        ("duckdb:///srv/c%00254", "NUL"),
    ],
)
def test_a_bad_url_is_a_clear_error_naming_the_supported_schemes(tmp_path: Path, url: str, says: str) -> None:
    with pytest.raises(StoreUrlError) as caught:
        open_store(url, tmp_path)
    message = str(caught.value)
    assert says in message
    assert message.endswith("supported schemes: duckdb://")
    assert "s3cret" not in message  # a server URL's credentials never reach a message
    assert list(tmp_path.iterdir()) == []  # nothing was created


def test_settings_refuse_a_bad_store_url_at_startup(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings().store == "duckdb://"
    monkeypatch.setenv("CARBON254_STORE", "clickhouse://db.example.com/c254")
    with pytest.raises(ValidationError) as caught:
        Settings()
    assert "store" in str(caught.value) and "supported schemes: duckdb://" in str(caught.value)
    monkeypatch.setenv("CARBON254_STORE", "  duckdb:///srv/c254 ")
    assert Settings().store == "duckdb:///srv/c254"


def test_settings_store_url_identifies_the_store(tmp_path: Path) -> None:
    tmp_path = tmp_path.resolve()
    default = Settings(data_dir=tmp_path / "a")
    assert default.store_url() == f"duckdb://{tmp_path}/a"
    other_dir_same_store = Settings(data_dir=tmp_path / "b", store=f"duckdb://{tmp_path}/a")
    assert other_dir_same_store.store_url() == default.store_url()


def test_a_second_backend_is_a_drop_in(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A backend registered under its own scheme is opened by `open_store`, with nothing else changed."""
    monkeypatch.setattr(registry, "_BACKENDS", dict(registry._BACKENDS))
    opened: list[tuple[str, bool]] = []

    def connect(address: str, create: bool) -> Store:
        opened.append((address, create))
        return ParquetStore(os.path.join(tmp_path, address))

    backend = Backend(scheme="mirror", locate=lambda address, data_dir: address.strip("/"), connect=connect)
    register_backend(backend)
    register_backend(backend)  # the same backend again is harmless
    assert backend_schemes() == ("duckdb", "mirror")
    _write_one_day(open_store("mirror://east/", "unused", create=False))
    assert opened == [("east", False)]
    assert _rows_in(tmp_path / "east") == 24
    with pytest.raises(StoreUrlError, match="supported schemes: duckdb://, mirror://"):
        open_store("mirrors://east", tmp_path)


def test_a_scheme_is_registered_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(registry, "_BACKENDS", dict(registry._BACKENDS))
    register_backend(EMBEDDED)
    impostor = Backend(scheme="duckdb", locate=EMBEDDED.locate, connect=lambda a, c: EMBEDDED.connect(a, c))
    with pytest.raises(ValueError, match="already registered"):
        register_backend(impostor)
    with pytest.raises(ValueError, match="not a lower-case URL scheme"):
        register_backend(Backend(scheme="Duck DB", locate=EMBEDDED.locate, connect=EMBEDDED.connect))
