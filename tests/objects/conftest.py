"""Object stores to run the one contract suite against: local files, and S3 on moto's real server.

The S3 backend talks HTTP to a `moto.server.ThreadedMotoServer` on 127.0.0.1
(one per test module), with a fresh bucket per test and dummy credentials
from the environment, exactly as it would talk to AWS or MinIO.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import s3fs
from object_backends import Backend

from carbon254.objects import ObjectStore, open_object_store
from moto_s3 import moto_server, use_dummy_aws


@pytest.fixture(scope="module")
def moto_endpoint() -> Iterator[str]:
    """The base URL of a moto S3 server on 127.0.0.1 (a free port), stopped after the module."""
    with moto_server() as endpoint:
        yield endpoint


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Dummy credentials and region from the environment; no AWS config file of the machine is read."""
    use_dummy_aws(monkeypatch, tmp_path)


def _file_backend(tmp_path: Path) -> Backend:
    store = open_object_store("file://objects", data_dir=tmp_path, s3_endpoint=None)
    root = tmp_path / "objects"

    def leftovers() -> list[str]:
        return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.name.startswith(".tmp-"))

    return Backend(store, leftovers, lambda key: None)


def _s3_backend(endpoint: str) -> Backend:
    bucket = f"c254-{uuid.uuid4().hex[:12]}"
    admin = s3fs.S3FileSystem(endpoint_url=endpoint, skip_instance_cache=True, use_listings_cache=False)
    admin.mkdir(bucket)
    # A prefix, so every test also checks that keys map under it and nothing outside it is seen.
    store = open_object_store(f"s3://{bucket}/artifacts", data_dir=Path("unused"), s3_endpoint=endpoint)

    def leftovers() -> list[str]:
        uploads = admin.call_s3("list_multipart_uploads", Bucket=bucket).get("Uploads", [])
        return sorted(upload["Key"] for upload in uploads)

    def parts(key: str) -> int | None:
        etag = str(admin.info(f"{bucket}/artifacts/{key}")["ETag"]).strip('"')
        # A multipart object's ETag ends in `-<parts>`; a single PUT's is a plain MD5.
        return int(etag.rsplit("-", 1)[1]) if "-" in etag else 1

    return Backend(store, leftovers, parts)


@pytest.fixture(params=["file", "s3"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    """Each backend in turn: a directory in tmp_path, then a fresh bucket on the moto server."""
    if request.param == "file":
        return _file_backend(tmp_path)
    request.getfixturevalue("aws_env")
    return _s3_backend(request.getfixturevalue("moto_endpoint"))


@pytest.fixture
def store(backend: Backend) -> ObjectStore:
    """The store of `backend`."""
    return backend.store
