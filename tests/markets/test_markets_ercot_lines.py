"""The SCED line reader (`ercot.lines`): the CSV reader's names and prices, or None, never other values.

Bodies here are generated in the NP6-788-CD layout (made-up names and prices);
the reference is pyarrow's CSV reader on the same bytes, which the fast path
used for every SCED file before and still uses for anything the line reader
leaves (and which the ERCOT parser tests compare with the general path).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from carbon254.isos.ercot import fastpath as fast
from carbon254.isos.ercot import parsers as p
from carbon254.isos.ercot.lines import name_price_lines

FIX = Path(__file__).resolve().parent / "fixtures" / "ercot"
HEADER = b"SCEDTimestamp,RepeatedHourFlag,SettlementPoint,LMP"
OPENING = b"11/03/2024 01:30:12,Y,"


def csv_reader(body: bytes) -> tuple[pa.Array, pa.Array]:
    """(names, prices) as pyarrow's CSV reader reads the last two columns of `body`."""
    table = pacsv.read_csv(
        pa.BufferReader(body),
        pacsv.ReadOptions(column_names=["t", "f", "point", "lmp"], skip_rows=1),
        pacsv.ParseOptions(ignore_empty_lines=False),
        pacsv.ConvertOptions(
            column_types={"point": pa.string(), "lmp": pa.float64()},
            include_columns=["point", "lmp"],
            null_values=[],
            strings_can_be_null=False,
        ),
    )
    return table.column("point").combine_chunks(), table.column("lmp").combine_chunks()


def bits(prices: pa.Array) -> list[int]:
    return list(prices.to_numpy().view(np.int64))


def sced_body(names: list[str], prices: list[str], newline: bytes = b"\r\n") -> bytes:
    lines = [HEADER] + [OPENING + f"{n},{v}".encode() for n, v in zip(names, prices, strict=True)]
    return newline.join(lines) + newline


names_st = st.text(alphabet="ABCXYZ019_ -.", min_size=0, max_size=14)
# ERCOT's own spelling is "%12.2f"; the others are what a layout drift could bring.
number_st = st.one_of(
    st.decimals(min_value=-99_999, max_value=99_999, places=2, allow_nan=False).map(str),
    st.integers(min_value=-(10**9), max_value=10**9).map(str),
    st.floats(allow_nan=False, allow_infinity=False, width=64).map(repr),
    st.sampled_from(["-0.00", "0", "1e3", "12.", ".5", "+1.25", "00042.10", "inf", "nan", "abc", ""]),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=st.lists(st.tuples(names_st, number_st), min_size=1, max_size=30),
    width=st.integers(min_value=0, max_value=24),
    newline=st.sampled_from([b"\r\n", b"\n"]),
)
def test_same_names_and_prices_as_the_csv_reader(
    rows: list[tuple[str, str]], width: int, newline: bytes
) -> None:
    body = sced_body([n for n, _ in rows], [v.rjust(width) for _, v in rows], newline)
    got = name_price_lines(body, OPENING)
    try:
        expected = csv_reader(body)
    except pa.ArrowInvalid:
        assert got is None  # what the CSV reader refuses is never read here
        return
    if got is not None:
        assert got[0].equals(expected[0])
        assert bits(got[1]) == bits(expected[1])  # the same doubles, NaN and -0.0 included
    widths = {len(v.rjust(width)) for _, v in rows}
    plain = all(v.strip() == v.lstrip() and v.strip() for _, v in rows)
    if len(widths) == 1 and plain:
        assert got is not None  # ERCOT's own shape: one width, right-aligned, read here


def test_the_mis_spelling_reads_as_published() -> None:
    body = sced_body(["HB_NORTH", "LZ_WEST", "UNIT_1"], [f"{v:12.2f}" for v in (27.04, -0.5, -0.0)])
    names, prices = name_price_lines(body, OPENING) or (None, None)
    assert names is not None and prices is not None
    assert names.to_pylist() == ["HB_NORTH", "LZ_WEST", "UNIT_1"]
    assert prices.to_pylist() == [27.04, -0.5, -0.0]
    assert str(prices[2].as_py()) == "-0.0"  # the sign of a negative zero survives, as in the CSV reader


@pytest.mark.parametrize(
    ("body", "why"),
    [
        (HEADER + b"\n" + OPENING + b"HB_NORTH,       20.00", "last line without its newline"),
        (HEADER + b"\n" + OPENING + b"HB_NORTH,   20.00\n" + OPENING + b"LZ_A,  5.00\n", "two widths"),
        (HEADER + b"\n" + OPENING + b"HB,NORTH,  20.00\n", "a comma in a name"),
        (HEADER + b"\n" + OPENING + b"HB_NORTH,\t20.00\n", "a tab before a price"),
        (HEADER + b"\n" + OPENING + b"HB_NORTH,20.00 \n", "a blank after a price"),
        (HEADER + b"\n" + OPENING + b"HB_NORTH,\n", "no price"),
        (HEADER + b"\n" + OPENING + b"HB_NORTH,  20.00\n11/03/2024 01:35:12,Y,LZ_A,  20.00\n", "two runs"),
        (HEADER + b"\n", "no data line"),
        (HEADER + b"\n" + OPENING + b"HB_NORTH,  20.00\r\r\n", "a stray carriage return"),
    ],
)
def test_other_shapes_are_left_to_the_csv_reader(body: bytes, why: str) -> None:
    assert name_price_lines(body, OPENING) is None, why


def test_one_run_sced_file_is_read_without_the_csv_reader(monkeypatch: pytest.MonkeyPatch) -> None:
    # The CSV reader hands work to its I/O and CPU thread pools and waits for it, several times per
    # file; a day of 288 SCED files spent most of its time in those waits on an idle machine.
    path = next(FIX.glob("*LMPSROSNODENP6788_20241103_013014.csv"))
    data = path.read_bytes()

    def no_csv_reader(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the CSV reader was used")

    monkeypatch.setattr(fast.pacsv, "open_csv", no_csv_reader)
    monkeypatch.setattr(fast.pacsv, "read_csv", no_csv_reader)
    quick = p.parse_sced_lmp(data)
    bus = p.parse_sced_bus_lmp(next(FIX.glob("*LMPSELECTBUSNP6787_20241103_013014.csv")).read_bytes())
    monkeypatch.setattr(fast, "read_typed", lambda *a, **k: None)  # the general path
    assert quick.equals(p.parse_sced_lmp(data))
    assert quick.num_rows == 5 and bus.num_rows == 3


def test_files_read_one_after_another_each_get_their_own_names_and_prices() -> None:
    # A day's files share their line layout, which the reader remembers from the last file: a file
    # laid out alike but with another name, or laid out otherwise, must still read as itself.
    names = ["HB_NORTH", "LZ_WEST", "UNIT_1"]
    prices = [f"{v:12.2f}" for v in (27.04, -0.5, 3.0)]
    bodies = [
        sced_body(names, prices),
        sced_body(names, [f"{v:12.2f}" for v in (1.0, 2.0, 3.0)]),
        sced_body(["HB_NORTH", "LZ_EAST", "UNIT_1"], prices),  # same lengths, one name changed
        sced_body(["HB_NORTH", "LZ_WEST", "UNIT_12"], prices),  # one name longer
        sced_body(names, prices, b"\n"),
        sced_body(names, prices),
    ]
    for body in bodies + bodies[::-1]:
        got = name_price_lines(body, OPENING)
        assert got is not None
        expected = csv_reader(body)
        assert got[0].equals(expected[0]) and bits(got[1]) == bits(expected[1])


def test_a_shorter_opening_with_longer_names_on_the_same_line_ends() -> None:
    body = sced_body(["HB_NORTH", "LZ_WEST"], [f"{v:12.2f}" for v in (1.0, 2.0)])
    shorter = b"1/3/2024 01:30:12,Y,"  # two bytes shorter: the names below are two bytes longer
    other = body.replace(OPENING + b"HB_", shorter + b"XXHB_").replace(OPENING + b"LZ_", shorter + b"YYLZ_")
    assert len(other) == len(body)
    assert name_price_lines(body, OPENING) is not None
    got = name_price_lines(other, shorter)
    assert got is not None and got[0].to_pylist() == ["XXHB_NORTH", "YYLZ_WEST"]
