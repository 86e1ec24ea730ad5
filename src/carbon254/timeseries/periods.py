"""Calendar periods a query can ask for: resampling buckets and delivery blocks."""

from __future__ import annotations

from enum import StrEnum


class Resample(StrEnum):
    """Mean over calendar buckets (in the output time zone, else the ISO's market time)."""

    HOURLY = "hourly"
    DAILY = "daily"
    MONTHLY = "monthly"


class Block(StrEnum):
    """Standard delivery blocks in the ISO's market time.

    onpeak: hour-ending 7-22 on weekdays that are not NERC holidays (5x16);
    2x16: hour-ending 7-22 on weekends and NERC holidays; 7x8: hour-ending 1-6
    and 23-24 every day; offpeak: everything that is not onpeak (2x16 + 7x8);
    atc: around the clock.
    """

    ONPEAK = "onpeak"
    OFFPEAK = "offpeak"
    ATC = "atc"
    TWO_BY_16 = "2x16"
    SEVEN_BY_8 = "7x8"
