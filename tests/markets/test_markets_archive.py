"""Zip payloads: members in order, filtering, and truncated, corrupt or empty payloads as ParseError."""

from __future__ import annotations

import io
import re
import zipfile

import pytest

from carbon254.markets.archive import payload_files, zip_members
from carbon254.markets.report import ParseError


def archive(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return buf.getvalue()


def test_members_come_in_archive_order_and_can_be_filtered() -> None:
    data = archive({"b.csv": b"2", "a.csv": b"1", "notes.xml": b"<x/>"})
    assert zip_members(data) == [("b.csv", b"2"), ("a.csv", b"1"), ("notes.xml", b"<x/>")]
    assert zip_members(data, re.compile(r"\.csv$")) == [("b.csv", b"2"), ("a.csv", b"1")]
    with pytest.raises(ParseError, match="no file matching"):
        zip_members(data, re.compile(r"\.json$"))


def test_a_cut_short_archive_is_a_parse_error_not_partial_data() -> None:
    data = archive({f"{d:02d}.csv": b"x,y\n" * 5000 for d in range(1, 4)})
    with pytest.raises(ParseError, match="cut short"):
        zip_members(data[: len(data) // 2])


def test_a_corrupt_member_is_a_parse_error() -> None:
    data = bytearray(archive({"a.csv": b"x,y\n" * 1000}))
    data[60:80] = b"\x00" * 20  # inside the compressed stream
    with pytest.raises(ParseError):
        zip_members(bytes(data))


def test_payload_files_passes_plain_files_through_and_refuses_empty_ones() -> None:
    assert payload_files(b"a,b\n1,2\n") == [("", b"a,b\n1,2\n")]
    with pytest.raises(ParseError, match="empty"):
        payload_files(b"  \n")
