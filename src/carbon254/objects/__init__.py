"""The object store jobs keep their artifacts in, chosen by `CARBON254_OBJECT_STORE`.

`file://` (the default: `<data dir>/objects`), `file://PATH` (a relative
PATH is read from the data dir) or `s3://bucket[/prefix]` (at
`CARBON254_S3_ENDPOINT` when set). Callers hold an `ObjectStore` and never
know which backend is behind it.
"""

from __future__ import annotations

from pathlib import Path

from carbon254.objects.base import ObjectInfo, ObjectNotFound, ObjectStore

__all__ = ["ObjectInfo", "ObjectNotFound", "ObjectStore", "check_object_store_url", "open_object_store"]

_ACCEPTED = "file:// (under the data dir), file://PATH or s3://bucket[/prefix]"


def check_object_store_url(url: str) -> str:
    """The URL stripped of surrounding blanks; ValueError naming the accepted forms if it is not one."""
    text = url.strip()
    if text.startswith("file://"):
        return text
    if text.startswith("s3://"):
        bucket = text.removeprefix("s3://").split("/", 1)[0]
        if not bucket:
            raise ValueError(f"object store URL {url!r} names no bucket: use {_ACCEPTED}")
        return text
    raise ValueError(f"unsupported object store URL {url!r}: use {_ACCEPTED}")


def open_object_store(url: str, *, data_dir: Path, s3_endpoint: str | None) -> ObjectStore:
    """Open the object store `url` names; nothing is created or contacted until first use.

    `data_dir` anchors `file://` (its `objects` directory) and relative
    `file://PATH`s; `s3_endpoint` is the S3 API's base URL (None: AWS's own).
    Raises ValueError for any other scheme, naming the accepted ones.
    """
    text = check_object_store_url(url)
    if text.startswith("s3://"):
        from carbon254.objects.s3 import S3ObjectStore  # deferred: s3fs and botocore are slow to import

        bucket, _, prefix = text.removeprefix("s3://").partition("/")
        return S3ObjectStore(bucket, prefix, endpoint=s3_endpoint)
    from carbon254.objects.file import FileObjectStore

    address = text.removeprefix("file://")
    root = Path(address).expanduser() if address else Path("objects")
    return FileObjectStore(root if root.is_absolute() else data_dir / root)
