"""`open_object_store` and the settings that choose the store: which URLs mean what, and clear refusals."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from carbon254.config import Settings
from carbon254.objects import open_object_store
from carbon254.objects.file import FileObjectStore
from carbon254.objects.s3 import S3ObjectStore


def test_the_default_is_the_objects_directory_of_the_data_dir(tmp_path: Path) -> None:
    store = open_object_store("file://", data_dir=tmp_path, s3_endpoint=None)
    assert isinstance(store, FileObjectStore)
    assert store.url == f"file://{tmp_path.as_posix()}/objects"
    store.put("jobs/j1/a.csv", b"x")
    assert (tmp_path / "objects" / "jobs" / "j1" / "a.csv").read_bytes() == b"x"


def test_relative_paths_are_read_from_the_data_dir_and_absolute_ones_as_given(tmp_path: Path) -> None:
    relative = open_object_store("file://exports/v1", data_dir=tmp_path / "data", s3_endpoint=None)
    assert relative.url == f"file://{tmp_path.as_posix()}/data/exports/v1"
    absolute = open_object_store(f"file://{tmp_path}/elsewhere", data_dir=tmp_path / "data", s3_endpoint=None)
    assert absolute.url == f"file://{tmp_path.as_posix()}/elsewhere"


def test_opening_creates_nothing(tmp_path: Path) -> None:
    store = open_object_store("file://", data_dir=tmp_path, s3_endpoint=None)
    assert store.list("") == []
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("url", "expected"),
    [("s3://bucket", "s3://bucket"), ("s3://bucket/a/b/", "s3://bucket/a/b"), (" s3://b-1/p ", "s3://b-1/p")],
)
def test_s3_urls_name_a_bucket_and_an_optional_prefix(url: str, expected: str) -> None:
    store = open_object_store(url, data_dir=Path("unused"), s3_endpoint="http://127.0.0.1:9")
    assert isinstance(store, S3ObjectStore) and store.url == expected


@pytest.mark.parametrize("url", ["gs://bucket", "/srv/objects", "", "memory://", "s3://", "s3:///prefix"])
def test_other_urls_are_refused_naming_what_is_accepted(url: str) -> None:
    with pytest.raises(ValueError, match=r"file://PATH or s3://bucket\[/prefix\]"):
        open_object_store(url, data_dir=Path("unused"), s3_endpoint=None)


def test_a_prefix_that_could_escape_is_refused() -> None:
    with pytest.raises(ValueError, match="object key"):
        open_object_store("s3://bucket/a/../b", data_dir=Path("unused"), s3_endpoint=None)


def test_settings_read_the_store_and_endpoint_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CARBON254_OBJECT_STORE", "s3://artifacts/c254")
    monkeypatch.setenv("CARBON254_S3_ENDPOINT", "http://127.0.0.1:9000")
    settings = Settings()
    assert (settings.object_store, settings.s3_endpoint) == ("s3://artifacts/c254", "http://127.0.0.1:9000")
    assert Settings.model_fields["object_store"].default == "file://"
    assert Settings.model_fields["s3_endpoint"].default is None


def test_settings_refuse_an_unknown_object_store_at_startup(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CARBON254_OBJECT_STORE", "ftp://host/dir")
    with pytest.raises(ValidationError, match="unsupported object store URL 'ftp://host/dir'"):
        Settings()
