"""Attribution: components add up, standalone and incremental VaR re-measure sub-books, book nodes roll up."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import norm

from carbon254.risk import (
    ExposureMatrix,
    FactorCovariance,
    RiskError,
    RiskResult,
    attribute,
    exposures,
    historical_var,
    monte_carlo_var,
    parametric_var,
    var_es,
)
from carbon254.risk.model import ScenarioModel

from .books import COVARIANCE, FACTORS, book_with_load, normal_history

HISTORY = normal_history(500)


def _methods() -> list[tuple[str, RiskResult]]:
    book_exposures = exposures(book_with_load(), FACTORS)
    return [
        ("historical", historical_var(book_exposures, HISTORY, confidence=0.99)),
        ("parametric", parametric_var(book_exposures, HISTORY, confidence=0.99)),
        ("monte carlo", monte_carlo_var(book_exposures, HISTORY, confidence=0.99, paths=20_000, seed=2)),
    ]


@pytest.mark.parametrize("index", [0, 1, 2])
def test_components_add_up_to_var_and_es(index: int) -> None:
    _, result = _methods()[index]
    found = attribute(exposures(book_with_load(), FACTORS), result)
    assert found.positions.component_var.sum() == pytest.approx(result.var, rel=1e-9)
    assert found.positions.component_es.sum() == pytest.approx(result.es, rel=1e-9)
    root = found.books.books.index("")
    assert found.books.component_var[root] == pytest.approx(result.var, rel=1e-9)
    assert found.books.standalone_var[root] == pytest.approx(result.var, rel=1e-9)
    assert found.books.incremental_var[root] == pytest.approx(result.var, rel=1e-9)


def test_parametric_components_are_eulers() -> None:
    book_exposures = exposures(book_with_load(), FACTORS)
    result = parametric_var(book_exposures, FactorCovariance(FACTORS, COVARIANCE), confidence=0.99)
    found = attribute(book_exposures, result)
    x = book_exposures.mwh.toarray()
    total = x.sum(axis=0)
    sigma = math.sqrt(total @ COVARIANCE @ total)
    z = norm.ppf(0.99)
    for i in range(len(book_exposures.ids)):
        by_hand = sum(x[i, f] * (COVARIANCE @ total)[f] for f in range(4)) * z / sigma
        assert found.positions.component_var[i] == pytest.approx(by_hand, rel=1e-10)
        assert found.positions.standalone_var[i] == pytest.approx(z * math.sqrt(x[i] @ COVARIANCE @ x[i]))
        # Marginal VaR per unit of amount: component / amount.
        assert found.positions.marginal_var[i] == pytest.approx(
            by_hand / book_exposures.amounts[i], rel=1e-10
        )


def test_historical_components_are_each_positions_pnl_in_the_var_scenario() -> None:
    book_exposures = exposures(book_with_load(), FACTORS)
    result = historical_var(book_exposures, HISTORY, confidence=0.99)
    found = attribute(book_exposures, result)
    x = book_exposures.mwh.toarray()
    pnl = HISTORY.changes @ x.T  # days x positions
    total = pnl.sum(axis=1)
    order = np.argsort(total)
    position = 499 * 0.01
    k = int(position)
    frac = position - k
    by_hand = -((1 - frac) * pnl[order[k]] + frac * pnl[order[k + 1]])
    np.testing.assert_allclose(found.positions.component_var, by_hand, rtol=1e-10)
    assert result.var_dates == (HISTORY.dates[order[k]], HISTORY.dates[order[k + 1]])


@pytest.mark.parametrize("index", [0, 1])
def test_standalone_and_incremental_var_re_measure_the_sub_books(index: int) -> None:
    name, result = _methods()[index]
    portfolio = book_with_load()
    found = attribute(exposures(portfolio, FACTORS), result)
    for i, position_id in enumerate(portfolio.ids):
        others = [p for p in portfolio.ids if p != position_id]
        alone = _same_method(name, exposures(portfolio.subset([position_id]), FACTORS))
        without = _same_method(name, exposures(portfolio.subset(others), FACTORS))
        assert found.positions.standalone_var[i] == pytest.approx(alone.var, rel=1e-9)
        assert found.positions.standalone_es[i] == pytest.approx(alone.es, rel=1e-9)
        assert found.positions.incremental_var[i] == pytest.approx(
            result.var - without.var, rel=1e-9, abs=1e-6
        )


def _same_method(name: str, book_exposures: ExposureMatrix) -> RiskResult:
    if name == "historical":
        return historical_var(book_exposures, HISTORY, confidence=0.99)
    return parametric_var(book_exposures, HISTORY, confidence=0.99)


def test_monte_carlo_sub_books_are_measured_on_the_same_paths() -> None:
    _, result = _methods()[2]
    portfolio = book_with_load()
    book_exposures = exposures(portfolio, FACTORS)
    found = attribute(book_exposures, result)
    assert isinstance(result.model, ScenarioModel)
    changes = result.model.changes()
    x = book_exposures.on(result.factors)
    for i in range(len(portfolio.ids)):
        alone = var_es(changes @ x[i], 0.99)
        without = var_es(changes @ (x.sum(axis=0) - x[i]), 0.99)
        assert found.positions.standalone_var[i] == pytest.approx(alone.var, rel=1e-9)
        assert found.positions.standalone_es[i] == pytest.approx(alone.es, rel=1e-9)
        assert found.positions.incremental_var[i] == pytest.approx(
            result.var - without.var, rel=1e-9, abs=1e-6
        )


def test_book_nodes_roll_up_with_their_diversification() -> None:
    portfolio = book_with_load()
    book_exposures = exposures(portfolio, FACTORS)
    result = parametric_var(book_exposures, HISTORY, confidence=0.99)
    found = attribute(book_exposures, result)
    books = found.books
    assert books.books == ("", "Power", "Power/ERCOT", "Power/PJM", "Power/ERCOT/Basis", "Power/ERCOT/Load")
    assert books.parents == (None, "", "Power", "Power", "Power/ERCOT", "Power/ERCOT")
    assert list(books.positions) == [5, 5, 4, 1, 1, 1]
    node = {b: i for i, b in enumerate(books.books)}
    pos = {p: i for i, p in enumerate(portfolio.ids)}
    standalone = found.positions.standalone_var
    # Power/ERCOT holds the two forwards directly and the Basis and Load books below it.
    ercot = node["Power/ERCOT"]
    children = (
        standalone[pos["north"]]
        + standalone[pos["houston"]]
        + books.standalone_var[node["Power/ERCOT/Basis"]]
        + books.standalone_var[node["Power/ERCOT/Load"]]
    )
    assert books.children_var[ercot] == pytest.approx(children)
    assert books.diversification[ercot] == pytest.approx(children - books.standalone_var[ercot])
    ercot_alone = parametric_var(
        exposures(portfolio.subset(["north", "houston", "basis", "load"]), FACTORS), HISTORY, confidence=0.99
    )
    assert books.standalone_var[ercot] == pytest.approx(ercot_alone.var)
    assert books.component_var[ercot] == pytest.approx(
        sum(found.positions.component_var[pos[p]] for p in ("north", "houston", "basis", "load"))
    )
    # Delta-normal VaR is subadditive: every node diversifies (or at least does not add).
    assert (books.diversification >= -1e-6).all()
    frame = found.books.frame()
    assert frame.columns[:3] == ["book", "parent", "positions"] and frame.height == 6
    assert found.positions.frame().height == 5


def test_exposures_of_another_book_are_refused() -> None:
    book_exposures = exposures(book_with_load(), FACTORS)
    result = parametric_var(book_exposures, HISTORY)
    other = exposures(book_with_load().subset(["north"]), FACTORS)
    with pytest.raises(RiskError, match="not the exposures"):
        attribute(other, result)


def test_incremental_can_be_skipped() -> None:
    book_exposures = exposures(book_with_load(), FACTORS)
    result = monte_carlo_var(book_exposures, HISTORY, paths=5_000)
    found = attribute(book_exposures, result, incremental=False)
    assert np.isnan(found.positions.incremental_var).all()
    assert found.positions.component_var.sum() == pytest.approx(result.var)
