"""Object stores for the artifact tests: a directory, and a bucket on moto's real S3 server (127.0.0.1)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import s3fs

from carbon254.objects import ObjectStore, open_object_store
from moto_s3 import moto_server, use_dummy_aws


@pytest.fixture(scope="module")
def moto_endpoint() -> Iterator[str]:
    """The base URL of a moto S3 server on 127.0.0.1 (a free port), stopped after the module."""
    with moto_server() as endpoint:
        yield endpoint


@pytest.fixture(params=["file", "s3"])
def objects(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ObjectStore:
    """Each object store in turn, opened by URL as the service opens `CARBON254_OBJECT_STORE`."""
    if request.param == "file":
        return open_object_store("file://", data_dir=tmp_path, s3_endpoint=None)
    use_dummy_aws(monkeypatch, tmp_path)
    endpoint: str = request.getfixturevalue("moto_endpoint")
    bucket = f"c254-{uuid.uuid4().hex[:12]}"
    s3fs.S3FileSystem(endpoint_url=endpoint, skip_instance_cache=True).mkdir(bucket)
    return open_object_store(f"s3://{bucket}/registry", data_dir=tmp_path, s3_endpoint=endpoint)
