"""Opening what ISOs serve: zip archives (whole, or cut short in transit) and their CSV members."""

from __future__ import annotations

import io
import re
import zipfile
import zlib

from carbon254.markets.report import ParseError


def is_zip(data: bytes) -> bool:
    """Whether the payload starts like a zip archive (local header or empty-archive record)."""
    return data[:4] in (b"PK\x03\x04", b"PK\x05\x06")


def zip_members(data: bytes, pattern: re.Pattern[str] | None = None) -> list[tuple[str, bytes]]:
    """(name, bytes) of each file in a zip archive, in archive order, optionally only names matching.

    A truncated or corrupt archive raises `ParseError` (a zip's directory
    sits at its end, so a body cut short in transit is caught here rather
    than read partially); so does an archive with no matching member.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            infos = [i for i in zf.infolist() if not i.is_dir()]
            if pattern is not None:
                infos = [i for i in infos if pattern.search(i.filename)]
            members = [(i.filename, zf.read(i)) for i in infos]
    except (zipfile.BadZipFile, EOFError, zipfile.LargeZipFile) as exc:
        raise ParseError(f"not a complete zip archive ({exc}); the download was probably cut short") from None
    except (OSError, ValueError, zlib.error) as exc:  # bad CRC, bad compression stream
        raise ParseError(f"corrupt zip archive ({exc})") from None
    if not members:
        want = f" matching {pattern.pattern}" if pattern is not None else ""
        raise ParseError(f"the zip archive holds no file{want}")
    return members


def payload_files(data: bytes, pattern: re.Pattern[str] | None = None) -> list[tuple[str, bytes]]:
    """The files in a payload: each zip member, or the payload itself (named "") when it is not a zip.

    An empty payload raises `ParseError`: ISOs never publish an empty file on
    purpose, so it is a failed download, not an empty day.
    """
    if not data.strip():
        raise ParseError("the payload is empty")
    if is_zip(data):
        return zip_members(data, pattern)
    return [("", data)]
