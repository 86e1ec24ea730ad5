"""Real prices: fixed and collar virtual PPAs settled on NYISO's 2022 real-time zonal LBMPs (Capital zone).

Against a flat volume and a solar volume (`solar_profile` for a 100 MW
fixed-tilt plant near Albany), each checked against a plain loop over the
CSV rows that knows nothing of the PPA code: settlement, capture price and
the NPV discounted month by month.
"""

from __future__ import annotations

import csv
from datetime import UTC, datetime

import numpy as np
import pytest

from carbon254.ppa import DiscountCurve, SolarSite, parse_contract, settle, solar_profile, value_ppa
from shared_data import SHARED_DATA

DATA = SHARED_DATA / "history" / "nyiso_rt_zonal_hourly_2022.csv"
ZONE = "CAPITL"
ALBANY = SolarSite(latitude=42.65, longitude=-73.75, capacity_mw=100.0, tilt=35.0)

pytestmark = pytest.mark.skipif(not DATA.exists(), reason=f"{DATA} is absent")


def _rows() -> list[tuple[datetime, float]]:
    with DATA.open(newline="") as handle:
        rows = [
            (
                datetime.fromisoformat(r["datetime_beginning_utc"].replace("Z", "+00:00")),
                float(r["lbmp_usd_mwh"]),
            )
            for r in csv.DictReader(handle)
            if r["zone"] == ZONE
        ]
    return sorted(rows)


@pytest.fixture(scope="module")
def market() -> tuple[list[tuple[datetime, float]], np.ndarray, np.ndarray, np.ndarray]:
    rows = _rows()
    starts = np.array([int(t.timestamp()) * 1_000_000 for t, _ in rows], dtype=np.int64)
    price = np.array([p for _, p in rows])
    solar = solar_profile(ALBANY, starts, seed=22, degradation=0.0)
    return rows, starts, price, solar


def _loop_settlement(
    rows: list[tuple[datetime, float]], volume: list[float], floor: float, cap: float
) -> float:
    total = 0.0
    for (_, p), mwh in zip(rows, volume, strict=True):
        total += mwh * (max(p - cap, 0.0) - max(floor - p, 0.0))
    return total


def _loop_npv(rows: list[tuple[datetime, float]], cash: list[float], rate: float) -> float:
    """Each month's cash paid on the 1st of the next month, discounted to the first hour at `rate`."""
    months: dict[tuple[int, int], float] = {}
    for (t, _), c in zip(rows, cash, strict=True):
        months[(t.year, t.month)] = months.get((t.year, t.month), 0.0) + c
    origin = rows[0][0]
    npv = 0.0
    for (year, month), c in months.items():
        paid = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=UTC)
        npv += c * (1 + rate) ** (-(paid - origin).total_seconds() / (365.25 * 86400))
    return npv


def test_the_year_is_complete(
    market: tuple[list[tuple[datetime, float]], np.ndarray, np.ndarray, np.ndarray],
) -> None:
    rows, starts, price, solar = market
    assert len(rows) == 8760 and (np.diff(starts) == 3_600_000_000).all()
    assert price.min() < 0 < price.max()  # NYISO's real time went negative in 2022
    assert 0.12 <= solar.mean() / ALBANY.capacity_mw <= 0.18


@pytest.mark.parametrize("shape", ["flat", "solar"])
@pytest.mark.parametrize(
    ("terms", "floor", "cap"),
    [({"type": "fixed", "strike": 60}, 60.0, 60.0), ({"type": "collar", "floor": 40, "cap": 90}, 40.0, 90.0)],
)
def test_virtual_ppas_on_nyiso_2022_match_a_plain_loop_over_the_csv(
    market: tuple[list[tuple[datetime, float]], np.ndarray, np.ndarray, np.ndarray],
    shape: str,
    terms: dict[str, object],
    floor: float,
    cap: float,
) -> None:
    rows, starts, price, solar = market
    volume = np.full(len(rows), 25.0) if shape == "flat" else solar
    contract = parse_contract(terms)
    # The buyer's difference, hour by hour, from the CSV rows alone (a fixed price is a collar with
    # floor = cap = strike: mwh * (max(p - K, 0) - max(K - p, 0)) = mwh * (p - K)).
    expected = _loop_settlement(rows, volume.tolist(), floor, cap)
    hourly = settle(contract, starts, price, volume)
    assert hourly.total == pytest.approx(expected, rel=1e-9)
    if terms["type"] == "fixed":
        assert hourly.total == pytest.approx(
            sum(m * (p - 60.0) for (_, p), m in zip(rows, volume, strict=True)), rel=1e-9
        )
    result = value_ppa(contract, starts, price, volume, DiscountCurve.flat(0.05))
    assert result.settlement == pytest.approx(expected, rel=1e-9)
    cash = [m * (max(p - cap, 0.0) - max(floor - p, 0.0)) for (_, p), m in zip(rows, volume, strict=True)]
    assert result.npv == pytest.approx(_loop_npv(rows, cash, 0.05), rel=1e-9)
    capture = sum(m * p for (_, p), m in zip(rows, volume, strict=True)) / sum(volume)
    assert result.capture_price == pytest.approx(capture, rel=1e-9)
    assert result.baseload_price == pytest.approx(sum(p for _, p in rows) / len(rows), rel=1e-9)
    seller = value_ppa(contract, starts, price, volume, DiscountCurve.flat(0.05), side="seller")
    assert seller.npv == pytest.approx(-result.npv, rel=1e-12)
