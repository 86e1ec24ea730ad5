"""`carbon254 ppa value --contract --prices --generation`: the interface contract of valuing a virtual PPA.

From the buyer's view a fixed price pays sum mwh x (price - strike) and a
collar sum mwh x (max(price - cap, 0) - max(floor - price, 0)); with
`--discount-rate 0` the NPV is that settlement. The expected figures are
computed here row by row from the files written, not by the implementation.
"""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from carbon254.cli.main import app

HOURS = 24 * 45  # mid-January to the end of February: two months, two settlements


def _series() -> tuple[list[str], list[float], list[float]]:
    start = datetime(2025, 1, 15, tzinfo=UTC)
    stamps, prices, volumes = [], [], []
    for h in range(HOURS):
        t = start + timedelta(hours=h)
        stamps.append(t.isoformat().replace("+00:00", "Z"))
        # Prices swing through a 20-60 $/MWh band with a few negative hours; a solar-like day shape.
        prices.append(40.0 + 20.0 * math.sin(h / 5.0) - (45.0 if h % 97 == 0 else 0.0))
        hour = t.hour
        volumes.append(max(0.0, 50.0 * math.sin(math.pi * (hour - 12) / 12.0)) if 12 <= hour <= 23 else 0.0)
    return stamps, prices, volumes


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path, list[float], list[float]]:
    stamps, prices, volumes = _series()
    price_file = tmp_path / "prices.csv"
    rows = zip(stamps, prices, strict=True)
    price_file.write_text("interval_start,price\n" + "".join(f"{s},{p}\n" for s, p in rows))
    volume_file = tmp_path / "generation.csv"
    rows = zip(stamps, volumes, strict=True)
    volume_file.write_text("interval_start,mwh\n" + "".join(f"{s},{v}\n" for s, v in rows))
    return price_file, volume_file, prices, volumes


def _run(
    tmp_path: Path, contract: dict[str, object], prices: Path, volumes: Path, *extra: str
) -> dict[str, float]:
    contract_file = tmp_path / "contract.json"
    contract_file.write_text(json.dumps(contract))
    args = ["ppa", "value", "--contract", str(contract_file), "--prices", str(prices)]
    args += ["--generation", str(volumes), "--discount-rate", "0", "--format", "json", *extra]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    document: dict[str, float] = json.loads(result.stdout)
    return document


def test_fixed_price_pays_volume_times_price_minus_strike(tmp_path: Path, files: tuple) -> None:  # type: ignore[type-arg]
    price_file, volume_file, prices, volumes = files
    document = _run(tmp_path, {"type": "fixed", "strike": 42.5}, price_file, volume_file)
    expected = sum(v * (p - 42.5) for p, v in zip(prices, volumes, strict=True))
    assert document["settlement"] == pytest.approx(expected, rel=1e-12)
    assert document["npv"] == pytest.approx(expected, rel=1e-12)
    assert document["capture_price"] == pytest.approx(
        sum(v * p for p, v in zip(prices, volumes, strict=True)) / sum(volumes)
    )


def test_collar_pays_the_call_above_the_cap_less_the_put_below_the_floor(
    tmp_path: Path, files: tuple
) -> None:  # type: ignore[type-arg]
    price_file, volume_file, prices, volumes = files
    document = _run(tmp_path, {"type": "collar", "floor": 30, "cap": 52}, price_file, volume_file)
    expected = sum(v * (max(p - 52, 0.0) - max(30 - p, 0.0)) for p, v in zip(prices, volumes, strict=True))
    assert document["settlement"] == pytest.approx(expected, rel=1e-12)
    assert document["npv"] == pytest.approx(expected, rel=1e-12)


def test_a_discount_rate_lowers_the_value_of_later_cash(tmp_path: Path, files: tuple) -> None:  # type: ignore[type-arg]
    price_file, volume_file, _, _ = files
    contract = {"type": "fixed", "strike": 10}  # every hour pays the buyer
    undiscounted = _run(tmp_path, contract, price_file, volume_file)
    contract_file = tmp_path / "c.json"
    contract_file.write_text(json.dumps(contract))
    args = ["ppa", "value", "--contract", str(contract_file), "--prices", str(price_file)]
    result = CliRunner().invoke(
        app, [*args, "--generation", str(volume_file), "--discount-rate", "0.1", "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    discounted = json.loads(result.stdout)
    assert 0 < discounted["npv"] < undiscounted["npv"]
    assert discounted["settlement"] == pytest.approx(undiscounted["settlement"])


@pytest.mark.parametrize(
    ("contract", "message"),
    [
        ({"type": "collar", "floor": 50, "cap": 30}, "cap"),
        ({"type": "fixed", "strike": 40, "term_years": -2}, "term_years"),
        ({"type": "fixed"}, "strike"),
        ({"type": "swap", "strike": 1}, "type"),
    ],
)
def test_bad_contracts_are_refused_naming_the_field(
    tmp_path: Path,
    files: tuple,  # type: ignore[type-arg]
    contract: dict[str, object],
    message: str,
) -> None:
    price_file, volume_file, _, _ = files
    contract_file = tmp_path / "bad.json"
    contract_file.write_text(json.dumps(contract))
    args = ["ppa", "value", "--contract", str(contract_file), "--prices", str(price_file)]
    result = CliRunner().invoke(app, [*args, "--generation", str(volume_file), "--format", "json"])
    assert result.exit_code == 1
    assert "--contract" in result.output and message in result.output


def test_files_that_do_not_cover_the_same_hours_are_refused(tmp_path: Path, files: tuple) -> None:  # type: ignore[type-arg]
    price_file, volume_file, _, _ = files
    short = tmp_path / "short.csv"
    short.write_text("\n".join(volume_file.read_text().splitlines()[:-3]) + "\n")
    contract_file = tmp_path / "c.json"
    contract_file.write_text('{"type": "fixed", "strike": 40}')
    args = [
        "ppa",
        "value",
        "--contract",
        str(contract_file),
        "--prices",
        str(price_file),
        "--generation",
        str(short),
    ]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 1
    assert "--generation: has no row for 2025-02-28T21:00:00Z" in result.output
