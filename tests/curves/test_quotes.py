from datetime import date

import pytest

from carbon254.curves import ContractKind, QuoteFileError, quotes_from_records, read_quotes_csv
from carbon254.timeseries.periods import Block

AS_OF = date(2026, 12, 10)


def test_dates_and_labels() -> None:
    text = (
        "Start,End,Block,Price\n"
        "2027-01-01,2027-02-01,ONPEAK,52.5\n"
        "\n"
        "2027-01-01,2027-04-01,2x16,-3\n"
        "2026-12-01,2027-01-01,atc,40\n"
    )
    quotes = read_quotes_csv(text, as_of=AS_OF)
    assert [q.line for q in quotes] == [2, 4, 5]
    assert [q.contract.kind for q in quotes] == [ContractKind.MONTH, ContractKind.QUARTER, ContractKind.MONTH]
    assert quotes[0].contract.block is Block.ONPEAK and quotes[0].price == 52.5
    assert quotes[1].contract.block is Block.TWO_BY_16 and quotes[1].price == -3.0
    labelled = read_quotes_csv("contract,block,price\nQ1 2027,7x8,30\nBOM,offpeak,31\n", as_of=AS_OF)
    assert labelled[0].contract.end == date(2027, 4, 1)
    assert labelled[1].contract.start == date(2026, 12, 11)


def test_every_bad_line_is_reported_with_line_and_field() -> None:
    text = (
        "start,end,block,price\n"
        "2027-01-01,2027-02-01,onpeak,40\n"
        "2027-02-01,2027-03-01,onpeak,abc\n"
        "2027-03-01,2027-03-01,peak,nan\n"
        "2027-13-01,2027-04-01,atc,1\n"
        "2026-01-01,2026-02-01,atc,1\n"
        "2027-01-01,2027-02-01,atc\n"
    )
    with pytest.raises(QuoteFileError) as err:
        read_quotes_csv(text, as_of=AS_OF)
    found = {(p.line, p.field) for p in err.value.problems}
    assert found == {
        (3, "price"),
        (4, "block"),
        (4, "price"),
        (4, "end"),
        (5, "start"),
        (6, "end"),
        (7, "line"),
    }
    message = str(err.value)
    assert "line 3, price: 'abc' is not a number" in message
    assert "line 4, block: 'peak' is not a block" in message
    assert "line 6, end:" in message and "already delivered" in message
    assert isinstance(err.value, ValueError)


def test_contract_errors_name_the_label() -> None:
    with pytest.raises(QuoteFileError) as err:
        read_quotes_csv("contract,block,price\nJxn27,atc,1\nCal25,atc,1\n", as_of=AS_OF)
    assert [(p.line, p.field) for p in err.value.problems] == [(2, "contract"), (3, "contract")]
    assert "'Jxn27'" in str(err.value) and "Cal25 atc ended on or before" in str(err.value)


@pytest.mark.parametrize(
    ("text", "field", "needle"),
    [
        ("", "file", "empty file"),
        ("  \n\n", "file", "empty file"),
        ("start,block,price\n2027-01-01,atc,1\n", "header", "missing column(s) end"),
        ("contract,price\nJan27,1\n", "header", "missing column(s) block"),
        ("contract,block,price\n", "file", "no quotes"),
    ],
)
def test_file_level_errors(text: str, field: str, needle: str) -> None:
    with pytest.raises(QuoteFileError) as err:
        read_quotes_csv(text, as_of=AS_OF)
    (problem,) = err.value.problems
    assert problem.line == 1 and problem.field == field and needle in problem.message


def test_records_use_item_numbers() -> None:
    quotes = quotes_from_records(
        [
            {"contract": "Jan27", "block": "onpeak", "price": 50},
            {"start": date(2027, 2, 1), "end": "2027-03-01", "Block": "OFFPEAK", "price": "41.5"},
        ],
        as_of=AS_OF,
    )
    assert [q.line for q in quotes] == [1, 2]
    assert quotes[1].price == 41.5 and quotes[1].contract.block is Block.OFFPEAK
    with pytest.raises(QuoteFileError) as err:
        quotes_from_records(
            [
                {"contract": "Jan27", "block": "onpeak", "price": 50},
                {"contract": "Feb27", "block": "onpeak", "price": True},
                {"block": "onpeak", "price": 1},
                {"contract": "Mar27", "block": "onpeak", "price": float("inf")},
            ],
            as_of=AS_OF,
        )
    assert [str(p).split(":")[0] for p in err.value.problems] == [
        "item 2, price",
        "item 3, fields",
        "item 4, price",
    ]
