"""Who the risk comes from: standalone, component, marginal and incremental VaR per position and book node.

For a result from any method, with e_i position i's exposures (MWh) and g
the gradient of the book's VaR in factor exposures ($ per MWh):

- standalone: the VaR (and ES) of the position or node alone, same model;
- component: e_i . g (Euler). Parametric: the analytic gradient. Historical
  simulation: g is minus the factor changes of the VaR scenario (the two
  neighbouring order statistics, with the interpolation's weights: the
  conditional-expectation estimator at the VaR scenario itself, whose
  date the result names). Monte Carlo: minus the mean changes of the paths
  within paths/2,000 order statistics each side of VaR's position, scaled
  so their mean P&L is the quantile (a conditional expectation around the
  VaR scenario; `carbon254.risk.tail`). Either way components add up to
  VaR exactly. ES components (minus the mean changes over the tail
  scenarios) add up to ES exactly and are the smoother read of a tail;
- marginal: dVaR per unit of the position's amount (per MW of a forward or
  basis, per MWh of load volume, per unit scale of an hourly profile): the
  component divided by the amount, computed from exposures per unit so a
  zero amount still has one;
- incremental: VaR of the book minus VaR of the book without it.

Book nodes are every prefix of the positions' book paths, `""` being the
whole portfolio. A node's standalone VaR is that of the positions under
it; its component the sum of theirs (the root's is the book's VaR); its
`children_var` the sum of the standalone VaRs of what sits directly under
it (sub-books and positions), and its diversification benefit
`children_var - standalone_var` (>= 0 for a subadditive measure; VaR is
not always, ES is).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import polars as pl

from carbon254.risk.errors import RiskError
from carbon254.risk.exposure import ExposureMatrix
from carbon254.risk.model import measure_many
from carbon254.risk.positions import book_ancestors, book_nodes
from carbon254.risk.result import RiskResult

Floats = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True, eq=False)
class PositionRisk:
    """Per position ($): standalone and component VaR/ES, marginal VaR (per amount unit), incremental VaR."""

    ids: tuple[str, ...]
    books: tuple[str, ...]
    amounts: Floats
    amount_units: tuple[str, ...]
    standalone_var: Floats
    standalone_es: Floats
    component_var: Floats
    component_es: Floats
    marginal_var: Floats
    incremental_var: Floats

    def frame(self) -> pl.DataFrame:
        """One row per position."""
        return pl.DataFrame(
            {
                "id": list(self.ids),
                "book": list(self.books),
                "amount": self.amounts,
                "amount_unit": list(self.amount_units),
                "standalone_var": self.standalone_var,
                "standalone_es": self.standalone_es,
                "component_var": self.component_var,
                "component_es": self.component_es,
                "marginal_var": self.marginal_var,
                "incremental_var": self.incremental_var,
            }
        )


@dataclass(frozen=True, slots=True, eq=False)
class BookRisk:
    """Per book node ($), parents before children; `""` is the whole portfolio (module docstring)."""

    books: tuple[str, ...]
    parents: tuple[str | None, ...]
    positions: npt.NDArray[np.int64]
    standalone_var: Floats
    standalone_es: Floats
    component_var: Floats
    component_es: Floats
    incremental_var: Floats
    children_var: Floats
    diversification: Floats

    def frame(self) -> pl.DataFrame:
        """One row per node."""
        return pl.DataFrame(
            {
                "book": list(self.books),
                "parent": list(self.parents),
                "positions": self.positions,
                "standalone_var": self.standalone_var,
                "standalone_es": self.standalone_es,
                "component_var": self.component_var,
                "component_es": self.component_es,
                "incremental_var": self.incremental_var,
                "children_var": self.children_var,
                "diversification": self.diversification,
            }
        )


@dataclass(frozen=True, slots=True, eq=False)
class Attribution:
    """A result broken down by position and by book node."""

    result: RiskResult
    positions: PositionRisk
    books: BookRisk


def _nodes(books: tuple[str, ...]) -> tuple[tuple[str, ...], npt.NDArray[np.float64]]:
    """Every node (parents first) and the node x position membership (1 where the position is under it)."""
    nodes = book_nodes(books)
    index = {n: i for i, n in enumerate(nodes)}
    member = np.zeros((len(nodes), len(books)))
    for j, book in enumerate(books):
        for node in book_ancestors(book):
            member[index[node], j] = 1.0
    return nodes, member


def _parent(node: str) -> str | None:
    if node == "":
        return None
    return node.rsplit("/", 1)[0] if "/" in node else ""


def attribute(exposure: ExposureMatrix, result: RiskResult, *, incremental: bool = True) -> Attribution:
    """Break `result` down by the positions of `exposure` (the exposures it was measured on) and book nodes.

    Incremental VaR re-measures the book once per position and node
    (`incremental=False` skips it and leaves NaN: the costly part for
    large Monte Carlo books). Raises RiskError when `exposure` is not the
    book the result was measured on.
    """
    x = exposure.on(result.factors)
    if not np.allclose(x.sum(axis=0), result.exposure, rtol=1e-9, atol=1e-6):
        raise RiskError("exposure: these are not the exposures the result was measured on")
    unit = exposure.on(result.factors, per_unit=True)
    model, c = result.model, result.confidence
    standalone_var, standalone_es = measure_many(model, x.T, c)
    component_var = x @ result.var_gradient
    component_es = x @ result.es_gradient
    marginal = unit @ result.var_gradient
    nan = np.full(len(exposure.ids), np.nan)
    without = measure_many(model, result.exposure[:, None] - x.T, c)[0] if incremental else None
    incremental_var = result.var - without if without is not None else nan

    nodes, member = _nodes(exposure.books)
    node_x = member @ x
    node_var, node_es = measure_many(model, node_x.T, c)
    if incremental:
        node_incremental = result.var - measure_many(model, result.exposure[:, None] - node_x.T, c)[0]
    else:
        node_incremental = np.full(len(nodes), np.nan)
    index = {n: i for i, n in enumerate(nodes)}
    children = np.zeros(len(nodes))
    for i, node in enumerate(nodes):
        parent = _parent(node)
        if parent is not None:
            children[index[parent]] += node_var[i]
    for j, book in enumerate(exposure.books):
        children[index[book]] += standalone_var[j]
    positions = PositionRisk(
        ids=exposure.ids,
        books=exposure.books,
        amounts=exposure.amounts,
        amount_units=exposure.amount_units,
        standalone_var=standalone_var,
        standalone_es=standalone_es,
        component_var=component_var,
        component_es=component_es,
        marginal_var=marginal,
        incremental_var=incremental_var,
    )
    books = BookRisk(
        books=nodes,
        parents=tuple(_parent(n) for n in nodes),
        positions=member.sum(axis=1).astype(np.int64),
        standalone_var=node_var,
        standalone_es=node_es,
        component_var=member @ component_var,
        component_es=member @ component_es,
        incremental_var=node_incremental,
        children_var=children,
        diversification=children - node_var,
    )
    return Attribution(result, positions, books)
