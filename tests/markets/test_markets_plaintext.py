"""`plain_names`: true exactly when the general path's strip and empty-name check would change nothing."""

from __future__ import annotations

import polars as pl
import pyarrow as pa
import pytest

from carbon254.markets.plaintext import plain_names


@pytest.mark.parametrize(
    ("names", "plain"),
    [
        (["HB_NORTH", "LZ_WEST", "A"], True),
        (["HB_NORTH", " LZ_WEST"], False),
        (["HB_NORTH", "LZ_WEST\t"], False),
        (["HB_NORTH", ""], False),
        (["HB_NORTH", "NODE\u00a0"], False),  # a non-ASCII blank the general path strips
        (["NÖRD"], False),  # non-ASCII: left to the general path
        (["IN SIDE", "a,b"], True),  # blanks inside are kept by both paths
        ([], False),
    ],
)
def test_plain_names(names: list[str], plain: bool) -> None:
    values = pa.array(names, pa.string())
    assert plain_names(values) is plain
    if names and all(n.isascii() for n in names):  # the general path's view of the same names
        stripped = pl.Series(names).str.strip_chars().to_list()
        assert plain == (stripped == names and "" not in names)


def test_plain_names_of_a_slice_reads_only_the_slice() -> None:
    values = pa.array([" padded", "A", "B", "", "C"], pa.string())
    assert plain_names(values.slice(1, 2))
    assert not plain_names(values.slice(0, 2)) and not plain_names(values.slice(2, 2))
