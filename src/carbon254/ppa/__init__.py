"""PPA valuation: what a power purchase agreement is worth to each side, and how much it can go wrong.

Contracts (`FixedPrice`, `Collar`, `IndexPlus`, `FloatingDiscount`, parsed
from JSON by `parse_contract`) settle hour by hour on UTC hour starts
(`settle`) and are valued with a `DiscountCurve` (`value_ppa`,
`breakeven_price`). Generation comes from pvlib (`solar_profile`), a wind
power curve (`wind_profile`) or an uploaded shape (`shape_profile`), with
P50/P90 from `VolumeUncertainty`. `simulate_ppa` values the contract on
Monte Carlo paths of the scenario engine's price model (`PathsStep`, fitted
by `calibrate_paths`), with basis and volume uncertainty;
`risk_decomposition` splits value and risk into shape, basis, volume and
price; `sensitivity` tabulates one input at a time. No I/O: arrays in,
typed results out.
"""

from carbon254.ppa.book import SettleAt
from carbon254.ppa.calibrate import calibrate_paths
from carbon254.ppa.contracts import (
    Collar,
    Contract,
    FixedPrice,
    FloatingDiscount,
    IndexPlus,
    parse_contract,
)
from carbon254.ppa.degradation import degradation_factors
from carbon254.ppa.discount import DiscountCurve
from carbon254.ppa.distribution import Percentiles, PpaDistribution
from carbon254.ppa.errors import PpaError
from carbon254.ppa.montecarlo import simulate_ppa, value_paths
from carbon254.ppa.risk import RiskComponent, RiskDecomposition, WaterfallStep, risk_decomposition, waterfall
from carbon254.ppa.sensitivity import Axis, sensitivity
from carbon254.ppa.settlement import Settlement, Side, settle
from carbon254.ppa.shape import shape_profile
from carbon254.ppa.solar import Cloudiness, SolarSite, Weather, nearest_station, solar_profile
from carbon254.ppa.uncertainty import VolumeUncertainty
from carbon254.ppa.valuation import Valuation, breakeven_price, value_ppa
from carbon254.ppa.wind import PowerCurve, wind_profile

__all__ = [
    "Axis",
    "Cloudiness",
    "Collar",
    "Contract",
    "DiscountCurve",
    "FixedPrice",
    "FloatingDiscount",
    "IndexPlus",
    "Percentiles",
    "PowerCurve",
    "PpaDistribution",
    "PpaError",
    "RiskComponent",
    "RiskDecomposition",
    "SettleAt",
    "Settlement",
    "Side",
    "SolarSite",
    "Valuation",
    "VolumeUncertainty",
    "WaterfallStep",
    "Weather",
    "breakeven_price",
    "calibrate_paths",
    "degradation_factors",
    "nearest_station",
    "parse_contract",
    "risk_decomposition",
    "sensitivity",
    "settle",
    "shape_profile",
    "simulate_ppa",
    "solar_profile",
    "value_paths",
    "value_ppa",
    "waterfall",
    "wind_profile",
]
