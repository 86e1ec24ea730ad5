"""The SDK's models of the risk reads of a saved portfolio (`GET /v1/risk/...`), mirroring the service's.

Portfolios are saved with `Client.risk_save_portfolio` (`POST
/v1/risk/portfolios`); each query names one by `portfolio` (and optional
`version`) and the market day `as_of` its history ends on.
"""

from __future__ import annotations

from typing import ClassVar

from carbon254.client.queries import Query


class RiskVarQuery(Query):
    """`GET /v1/risk/var`: one row, VaR and ES ($) of a saved portfolio by a method."""

    path: ClassVar[str] = "/v1/risk/var"
    portfolio: str
    version: int | None = None
    as_of: str | None = None
    method: str = "historical"
    confidence: float = 0.99
    horizon_days: int = 1
    window: int = 250
    paths: int = 10_000
    seed: int = 0
    copula: str = "gaussian"
    covariance: str = "ewma"


class RiskEsQuery(RiskVarQuery):
    """`GET /v1/risk/es`: the same row as `/v1/risk/var` (Excel's =C254.ES shows the ES)."""

    path: ClassVar[str] = "/v1/risk/es"


class RiskAttributionQuery(RiskVarQuery):
    """`GET /v1/risk/attribution`: VaR and ES by book node and position ($)."""

    path: ClassVar[str] = "/v1/risk/attribution"


class RiskStressQuery(Query):
    """`GET /v1/risk/stress`: P&L ($) per book node and position under a shock, event or saved scenario."""

    path: ClassVar[str] = "/v1/risk/stress"
    portfolio: str
    version: int | None = None
    as_of: str | None = None
    shock: str | None = None
    event: str | None = None
    scenario: str | None = None


class RiskBacktestQuery(Query):
    """`GET /v1/risk/backtest`: each day's P&L against the rolling historical VaR ($), and the tests."""

    path: ClassVar[str] = "/v1/risk/backtest"
    portfolio: str
    version: int | None = None
    as_of: str | None = None
    confidence: float = 0.99
    window: int = 100
    days: int = 250
