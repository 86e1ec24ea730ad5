"""Shared by the dataset and GraphQL tests: rows of every dataset, a counting store, a key authenticator."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pyarrow as pa

from carbon254.application.identity import AuthenticationError, AuthMethod, Entitlements, Principal
from carbon254.schema import TIMESTAMP
from carbon254.store import Store

DAY = datetime(2024, 3, 1, tzinfo=UTC)
PUBLISHED = DAY - timedelta(days=1)


def _hours(start: datetime, hours: int, step_s: int = 3600) -> tuple[pa.Array, pa.Array]:
    first = np.datetime64(start.replace(tzinfo=None), "us")
    starts = first + np.arange(hours) * np.timedelta64(step_s, "s")
    return pa.array(starts).cast(TIMESTAMP), pa.array(starts + np.timedelta64(step_s, "s")).cast(TIMESTAMP)


def as_price_table(
    regions: Sequence[str] = ("ERCOT",), products: Sequence[str] = ("REGUP", "RRS"), hours: int = 48
) -> pa.Table:
    """ERCOT day-ahead ancillary prices: 10 $/MW-h + product index + hour of day."""
    parts = []
    for r in regions:
        for k, p in enumerate(products):
            starts, ends = _hours(DAY, hours)
            parts.append(
                pa.table(
                    {
                        "iso": ["ERCOT"] * hours,
                        "market": ["DAM"] * hours,
                        "region": [r] * hours,
                        "product": [p] * hours,
                        "interval_start": starts,
                        "interval_end": ends,
                        "price": 10.0 + k + (np.arange(hours) % 24),
                        "published_at": pa.array([PUBLISHED] * hours, TIMESTAMP),
                    }
                )
            )
    return pa.concat_tables(parts)


def capacity_table(price_rto: float = 28.92) -> pa.Table:
    """PJM base residual auction prices for two zones, delivery year 2024/25."""
    start = datetime(2024, 6, 1, 4, tzinfo=UTC)
    end = datetime(2025, 6, 1, 4, tzinfo=UTC)
    return pa.table(
        {
            "iso": ["PJM", "PJM"],
            "auction": ["BRA", "BRA"],
            "zone": ["RTO", "BGE"],
            "delivery_start": pa.array([start, start], TIMESTAMP),
            "delivery_end": pa.array([end, end], TIMESTAMP),
            "price": [price_rto, 73.0],
        }
    )


def ordc_table(hours: int = 24) -> pa.Table:
    """ERCOT ORDC adders, 15-minute intervals."""
    n = hours * 4
    starts, ends = _hours(DAY, n, 900)
    return pa.table(
        {
            "iso": ["ERCOT"] * n,
            "interval_start": starts,
            "interval_end": ends,
            "rt_reserve_adder": np.round(np.arange(n) * 0.01, 2),
            "rt_reliability_deployment_adder": np.zeros(n),
        }
    )


def load_table(zones: Sequence[str] = ("NORTH", "SOUTH"), hours: int = 24) -> pa.Table:
    """ERCOT actual load and one day-ahead forecast per zone."""
    parts = []
    for z, zone in enumerate(zones):
        starts, ends = _hours(DAY, hours)
        for kind, issued in (("actual", None), ("forecast", DAY - timedelta(hours=14))):
            parts.append(
                pa.table(
                    {
                        "iso": ["ERCOT"] * hours,
                        "zone": [zone] * hours,
                        "kind": [kind] * hours,
                        "interval_start": starts,
                        "interval_end": ends,
                        "mw": 10_000.0 + 1000 * z + np.arange(hours) + (5.0 if kind == "forecast" else 0.0),
                        "forecast_issued_at": pa.array([issued] * hours, TIMESTAMP),
                    }
                )
            )
    return pa.concat_tables(parts)


def fill_other_datasets(store: Store) -> None:
    """Rows of as_price, capacity_price, ordc_adder and load next to the LMPs of `conftest.fill`."""
    store.write("as_price", as_price_table())
    store.write("capacity_price", capacity_table())
    store.write("ordc_adder", ordc_table())
    store.write("load", load_table())


class CountingStore:
    """A real store that counts `read` calls, to prove what a request did (or did not) read."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self.reads = 0

    def read(self, *args: Any, **kwargs: Any) -> pa.Table:
        self.reads += 1
        return self._store.read(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)


class KeyAuthenticator:
    """A tiny `identity.Authenticator`: fixed API keys, each a tenant's principal; anything else is 401."""

    def __init__(self, tenants: dict[str, Entitlements]) -> None:
        self._principals = {
            f"key-{name}": Principal(name, f"key-{name}", AuthMethod.API_KEY, entitlements)
            for name, entitlements in tenants.items()
        }

    def authenticate(self, credential: str | None) -> Principal:
        if credential is None:
            raise AuthenticationError("credentials required: send 'Authorization: Bearer <API key>'")
        try:
            return self._principals[credential]
        except KeyError:
            raise AuthenticationError("unknown API key") from None


# ERCOT tenant: every ERCOT dataset; PJM tenant: PJM LMPs and capacity only.
TENANTS = {
    "ercot": Entitlements(isos=frozenset({"ERCOT"})),
    "pjm": Entitlements(isos=frozenset({"PJM"}), datasets=frozenset({"lmp", "capacity_price"})),
}


def bearer(tenant: str) -> dict[str, str]:
    """The Authorization header of a tenant's test key."""
    return {"Authorization": f"Bearer key-{tenant}"}
