"""Position files: a good file becomes a portfolio; a bad one is refused whole, faults by line and field."""

from __future__ import annotations

from datetime import date

import pytest

from carbon254.risk import (
    BasisPosition,
    ForwardPosition,
    LoadObligation,
    PositionFileError,
    parse_positions,
)
from carbon254.timeseries.periods import Block

HEADER = "id,book,kind,iso,location,hub,block,start,end,mw,price,volume_mwh,shape\n"
SHAPE = ";".join(["1"] * 6 + ["2"] * 16 + ["1"] * 2)


def test_a_good_file_reads_every_kind() -> None:
    text = (
        HEADER
        + "f1,Power/East/Forwards,forward,ercot,HB_NORTH,,5x16,2026-01,2026-03,25,55.5,,\n"
        + "b1, Power / East / Basis ,basis,ERCOT,NODE_A,HB_NORTH,atc,2026-01,2026-01,-10,-1.5,,\n"
        + f"l1,Power/Load,load,PJM,PSEG,,,2026-01,2026-12,,,120000,{SHAPE}\n"
    )
    portfolio = parse_positions(text, "east")
    forward, basis, load = portfolio.positions
    assert portfolio.name == "east" and portfolio.ids == ("f1", "b1", "l1")
    assert forward == ForwardPosition(
        "f1",
        "Power/East/Forwards",
        "ERCOT",
        "HB_NORTH",
        Block.ONPEAK,
        date(2026, 1, 1),
        date(2026, 3, 1),
        25,
        55.5,
    )
    assert basis == BasisPosition(
        "b1",
        "Power/East/Basis",
        "ERCOT",
        "NODE_A",
        "HB_NORTH",
        Block.ATC,
        date(2026, 1, 1),
        date(2026, 1, 1),
        -10,
        -1.5,
    )
    assert isinstance(load, LoadObligation) and load.volume_mwh == 120000 and load.shape[6] == 2.0
    assert portfolio.books == (
        "",
        "Power",
        "Power/East",
        "Power/Load",
        "Power/East/Basis",
        "Power/East/Forwards",
    )


def test_every_problem_is_reported_with_its_line_and_column() -> None:
    text = (
        HEADER
        + "f1,Power/East,forward,EROT,HB_NORTH,,5x16,2026-01,2026-03,25x,55.5,,\n"
        + "f2,Power//East,forward,ERCOT,HB_NORTH,,5x17,2026-13,2026-03,25,,,\n"
        + "b1,Power/East,basis,ERCOT,NODE_A,,atc,2026-02,2026-01,-10,,,\n"
        + "l1,Power/Load,load,ERCOT,LZ_HOUSTON,,,2026-01,2026-12,5,,,1;2\n"
        + "f3,Power/East,future,ERCOT,HB_NORTH,,atc,2026-01,2026-01,5,,,\n"
        + "f4,Power/East,forward,ERCOT,HB_NORTH,,atc,2026-01,2026-01,5,,,\n"
        + "f4,Power/East,forward,ERCOT,HB_NORTH,,atc,2026-01,2026-01,5,,,\n"
    )
    with pytest.raises(PositionFileError) as caught:
        parse_positions(text)
    found = {(p.line, p.field) for p in caught.value.problems}
    assert found == {
        (2, "iso"),
        (2, "mw"),
        (3, "book"),
        (3, "block"),
        (3, "start"),
        (4, "end"),
        (4, "hub"),
        (5, "mw"),
        (5, "volume_mwh"),
        (5, "shape"),
        (6, "kind"),
        (8, "id"),
    }
    message = str(caught.value)
    assert "line 2, iso: unknown ISO 'EROT'" in message
    assert "line 8, id: 'f4' is already the id of line 7" in message


def test_missing_and_unknown_columns_and_empty_files_are_refused() -> None:
    with pytest.raises(PositionFileError, match="line 1, mw_typo: unknown column"):
        parse_positions("id,book,kind,iso,location,start,end,mw_typo\n")
    with pytest.raises(PositionFileError, match="line 1, location: missing column"):
        parse_positions("id,book,kind,iso,start,end,mw\n")
    with pytest.raises(PositionFileError, match="no positions"):
        parse_positions(HEADER)
    with pytest.raises(PositionFileError, match="no positions"):
        parse_positions("")


def test_a_row_with_too_many_fields_is_refused() -> None:
    with pytest.raises(PositionFileError, match="line 2, columns"):
        parse_positions(HEADER + "f1,Power,forward,ERCOT,HB_NORTH,,atc,2026-01,2026-01,5,,,,extra\n")
