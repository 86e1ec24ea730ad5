from datetime import date

import pytest

from carbon254.curves import ContractKind, ContractLabelError, contract_from_dates, parse_contract
from carbon254.timeseries.periods import Block

AS_OF = date(2026, 12, 10)


@pytest.mark.parametrize(
    ("label", "start", "end", "kind"),
    [
        ("Jan27", date(2027, 1, 1), date(2027, 2, 1), ContractKind.MONTH),
        ("jan 2027", date(2027, 1, 1), date(2027, 2, 1), ContractKind.MONTH),
        ("DECEMBER 2027", date(2027, 12, 1), date(2028, 1, 1), ContractKind.MONTH),
        ("2027-01", date(2027, 1, 1), date(2027, 2, 1), ContractKind.MONTH),
        ("Q1 27", date(2027, 1, 1), date(2027, 4, 1), ContractKind.QUARTER),
        ("q4-2027", date(2027, 10, 1), date(2028, 1, 1), ContractKind.QUARTER),
        ("2027Q2", date(2027, 4, 1), date(2027, 7, 1), ContractKind.QUARTER),
        ("Sum27", date(2027, 7, 1), date(2027, 9, 1), ContractKind.SEASON),
        ("Summer 2027", date(2027, 7, 1), date(2027, 9, 1), ContractKind.SEASON),
        ("Win27", date(2027, 1, 1), date(2027, 3, 1), ContractKind.SEASON),
        ("winter 2028", date(2028, 1, 1), date(2028, 3, 1), ContractKind.SEASON),
        ("JanFeb27", date(2027, 1, 1), date(2027, 3, 1), ContractKind.SEASON),
        ("JULAUG27", date(2027, 7, 1), date(2027, 9, 1), ContractKind.SEASON),
        ("Cal27", date(2027, 1, 1), date(2028, 1, 1), ContractKind.CALENDAR),
        ("Cal 2029", date(2029, 1, 1), date(2030, 1, 1), ContractKind.CALENDAR),
        ("2030", date(2030, 1, 1), date(2031, 1, 1), ContractKind.CALENDAR),
        ("BOM", date(2026, 12, 11), date(2027, 1, 1), ContractKind.BALANCE_OF_MONTH),
    ],
)
def test_labels(label: str, start: date, end: date, kind: ContractKind) -> None:
    c = parse_contract(label, Block.ONPEAK, AS_OF)
    assert (c.start, c.end, c.kind, c.block) == (start, end, kind, Block.ONPEAK)
    assert c.label == " ".join(label.split())


def test_bom_on_last_day_of_month_is_an_error() -> None:
    with pytest.raises(ValueError, match="no days left on 2026-12-31"):
        parse_contract("BOM", Block.ATC, date(2026, 12, 31))


@pytest.mark.parametrize("label", ["Jxn27", "Q5 27", "FebJan27", "", "2027-13", "27"])
def test_unknown_label_names_it_and_the_forms(label: str) -> None:
    with pytest.raises(ContractLabelError) as err:
        parse_contract(label, Block.ATC, AS_OF)
    assert repr(label) in str(err.value)
    assert "Cal27" in str(err.value) and "Q1 27" in str(err.value)


@pytest.mark.parametrize(
    ("start", "end", "kind", "label"),
    [
        (date(2027, 3, 1), date(2027, 4, 1), ContractKind.MONTH, "Mar27"),
        (date(2027, 4, 1), date(2027, 7, 1), ContractKind.QUARTER, "Q2 27"),
        (date(2028, 1, 1), date(2029, 1, 1), ContractKind.CALENDAR, "Cal28"),
        (date(2027, 7, 1), date(2027, 9, 1), ContractKind.SEASON, "JulAug27"),
        (date(2027, 4, 1), date(2027, 11, 1), ContractKind.SEASON, "Apr-Oct27"),
        (date(2026, 12, 11), date(2027, 1, 1), ContractKind.BALANCE_OF_MONTH, "BOM"),
        (date(2027, 1, 5), date(2027, 1, 9), ContractKind.CUSTOM, ""),
        (date(2027, 11, 1), date(2028, 3, 1), ContractKind.CUSTOM, ""),
    ],
)
def test_contract_from_dates(start: date, end: date, kind: ContractKind, label: str) -> None:
    c = contract_from_dates(start, end, Block.OFFPEAK)
    assert (c.kind, c.label, c.start, c.end) == (kind, label, start, end)


def test_contract_from_dates_round_trips_labels() -> None:
    for label in ("Jan27", "Q3 27", "Cal28", "JulAug27"):
        c = parse_contract(label, Block.ATC, AS_OF)
        assert contract_from_dates(c.start, c.end, Block.ATC).label == label


def test_contract_from_dates_rejects_empty_period() -> None:
    with pytest.raises(ValueError, match="must be after"):
        contract_from_dates(date(2027, 1, 1), date(2027, 1, 1), Block.ATC)


@pytest.mark.parametrize(
    ("label", "as_of", "start", "end"),
    [
        ("M+1", date(2026, 12, 4), date(2027, 1, 1), date(2027, 2, 1)),
        ("m + 3", date(2026, 12, 31), date(2027, 3, 1), date(2027, 4, 1)),
        ("Q+1", date(2026, 12, 4), date(2027, 1, 1), date(2027, 4, 1)),
        ("Q+2", date(2027, 2, 15), date(2027, 7, 1), date(2027, 10, 1)),
        ("Cal+1", date(2026, 12, 4), date(2027, 1, 1), date(2028, 1, 1)),
        ("cal+3", date(2026, 1, 2), date(2029, 1, 1), date(2030, 1, 1)),
    ],
)
def test_relative_tenors_count_from_the_marking_date(label: str, as_of: date, start: date, end: date) -> None:
    contract = parse_contract(label, Block.ONPEAK, as_of)
    assert (contract.start, contract.end, contract.label) == (start, end, label)


def test_a_relative_tenor_counts_from_one() -> None:
    with pytest.raises(ValueError, match="counts from 1"):
        parse_contract("M+0", Block.ONPEAK, date(2026, 12, 4))
