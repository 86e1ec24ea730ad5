"""Fitted forecast models as object-store artifacts: pickled once, checked by SHA-256 before unpickling.

`save_artifact` pickles a fitted model (protocol 5) straight into the
object store's atomic writer, hashing the bytes as they go, and returns the
SHA-256 the registry records beside the key. `load_artifact` reads the
bytes back and unpickles them only if they still have that digest: the
object store may be shared (a bucket, a directory), and unpickling runs
code, so only bytes the registry vouches for are trusted.
"""

from __future__ import annotations

import hashlib
import pickle
import re
import uuid
from typing import BinaryIO

from carbon254.objects import ObjectNotFound, ObjectStore

PICKLE_PROTOCOL = 5
# Key parts keep to letters, digits, '_' and '-', which every object store and file system takes as
# they are (no dots: a part is never '..' nor a hidden file).
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")


class ArtifactError(Exception):
    """An artifact that cannot be read back as the registry recorded it."""


class ArtifactMissing(ArtifactError, LookupError):
    """No object at the artifact's key (deleted, or a different object store)."""


class ArtifactAltered(ArtifactError, ValueError):
    """The artifact's bytes no longer have the SHA-256 recorded when it was saved."""


class _HashingWriter:
    """A binary file that hashes everything written through it (what `pickle.dump` writes to)."""

    def __init__(self, handle: BinaryIO) -> None:
        self._handle = handle
        self.digest = hashlib.sha256()

    def write(self, data: bytes) -> int:
        self.digest.update(data)
        return self._handle.write(data)


def _part(text: str, what: str) -> str:
    cleaned = _UNSAFE.sub("-", text.strip()).strip("-")
    if not cleaned:
        raise ValueError(f"{what} {text!r} has no letter or digit to name an artifact by")
    return cleaned.lower() if what == "name" else cleaned


def artifact_key(owner: str, name: str, version_hint: str) -> str:
    """A new, unique object key for a fitted model: `models/{owner}/{name}/{version_hint}-{uuid}.pkl`.

    `name` is the registered model name (lower case, every run of
    characters other than letters, digits, '_' and '-' made one '-'); `version_hint` says what
    the artifact is before the registry numbers it (a job id, `v3`, ...;
    empty for none). The random part keeps two trainings from ever writing
    one key. Raises ValueError for an owner or name with nothing to name it by.
    """
    hint = _UNSAFE.sub("-", version_hint.strip()).strip("-")
    unique = uuid.uuid4().hex
    leaf = f"{hint}-{unique}" if hint else unique
    return f"models/{_part(owner, 'owner')}/{_part(name, 'name')}/{leaf}.pkl"


def save_artifact(objects: ObjectStore, key: str, fitted: object) -> str:
    """Pickle `fitted` (protocol 5) into the object `key`, atomically; the SHA-256 (hex) of its bytes.

    The object appears whole or not at all: a model that fails to pickle
    leaves nothing behind (and an earlier object of that key stays).
    """
    with objects.writer(key) as handle:
        writer = _HashingWriter(handle)
        pickle.dump(fitted, writer, protocol=PICKLE_PROTOCOL)
    return writer.digest.hexdigest()


def load_artifact(objects: ObjectStore, key: str, sha256: str) -> object:
    """The fitted model stored at `key`, unpickled only if its bytes have the SHA-256 (hex) `sha256`.

    Raises `ArtifactMissing` when there is no such object and
    `ArtifactAltered` when its digest differs (the artifact was altered or
    replaced since it was registered); nothing is unpickled then.
    """
    try:
        data = objects.get(key)
    except ObjectNotFound:
        raise ArtifactMissing(f"artifact {key!r} is not in the object store {objects.url}") from None
    actual = hashlib.sha256(data).hexdigest()
    if actual != sha256.strip().lower():
        raise ArtifactAltered(
            f"artifact {key!r} was altered: its SHA-256 is {actual}, the registry recorded {sha256}"
        )
    # The digest matches what the registry recorded when this process's code saved it.
    return pickle.loads(data)
