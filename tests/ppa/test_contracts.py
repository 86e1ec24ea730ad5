"""Contract parsing: the minimal JSON, defaults, and bad contracts refused with the field named."""

from __future__ import annotations

from datetime import date

import pytest

from carbon254.ppa import Collar, FixedPrice, FloatingDiscount, IndexPlus, PpaError, parse_contract


def test_minimal_fixed_contract_parses_with_documented_defaults() -> None:
    contract = parse_contract({"type": "fixed", "strike": 45})
    assert isinstance(contract, FixedPrice)
    assert contract.strike == 45.0
    assert contract.settlement == "virtual"
    assert contract.negative_price == "settle"
    assert contract.volume == "as_generated"
    assert contract.rec_price == 0.0 and contract.escalator == 0.0
    assert contract.start is None and contract.term_years is None and contract.settlement_point is None


def test_each_contract_type_parses_to_its_model() -> None:
    collar = parse_contract(
        {"type": "collar", "floor": 20, "cap": 60, "start": "2026-01-01", "term_years": 15}
    )
    assert isinstance(collar, Collar) and collar.start == date(2026, 1, 1) and collar.term_years == 15
    assert isinstance(parse_contract({"type": "index_plus", "adder": 3.5}), IndexPlus)
    floating = parse_contract({"type": "floating_discount", "discount": 0.1, "floor": 15})
    assert isinstance(floating, FloatingDiscount) and floating.floor == 15.0
    assert (
        parse_contract({"type": "collar", "floor": 40, "cap": 40}).cap == 40.0
    )  # a zero-width band is a fixed price


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"type": "collar", "floor": 40, "cap": 30}, "cap: 30 $/MWh is below the floor 40 $/MWh"),
        ({"type": "fixed", "strike": 45, "term_years": -3}, "term_years: must be 1 to 25 years, got -3"),
        ({"type": "fixed", "strike": 45, "term_years": 0}, "term_years: must be 1 to 25 years, got 0"),
        ({"type": "fixed", "strike": 45, "term_years": 26}, "term_years: must be 1 to 25 years, got 26"),
        ({"type": "fixed", "strike": 45, "escalator": 2.5}, "escalator: 2.5 is not a yearly fraction"),
        ({"type": "fixed"}, "strike: Field required"),
        ({"type": "fixed", "strike": 45, "strik": 1}, "strik: Extra inputs are not permitted"),
        (
            {"type": "swap", "strike": 45},
            "type: 'swap' is not one of fixed, collar, index_plus, floating_discount",
        ),
        ({"strike": 45}, "type: None is not one of"),
        (
            {"type": "fixed", "strike": 45, "rec_price": -1},
            "rec_price: Input should be greater than or equal to 0",
        ),
        (
            {"type": "fixed", "strike": 45, "settlement": "financial"},
            "settlement: Input should be 'virtual' or",
        ),
        ({"type": "floating_discount", "discount": 1.5}, "discount: Input should be less than 1"),
        ({"type": "fixed", "strike": float("nan")}, "strike: Input should be a finite number"),
        ({"type": "fixed", "strike": "cheap"}, "strike: Input should be a valid number"),
    ],
)
def test_bad_contracts_are_refused_naming_the_field(data: dict[str, object], message: str) -> None:
    with pytest.raises(PpaError) as error:
        parse_contract(data)
    assert message in str(error.value)


def test_a_contract_that_is_not_an_object_is_refused() -> None:
    with pytest.raises(PpaError, match="contract: expected an object"):
        parse_contract([1, 2])  # type: ignore[arg-type]


def test_contracts_are_immutable() -> None:
    contract = parse_contract({"type": "fixed", "strike": 45})
    with pytest.raises(ValueError, match="frozen"):
        contract.strike = 50  # type: ignore[misc]
