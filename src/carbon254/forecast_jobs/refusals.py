"""What both forecasting job kinds refuse at submit: a tenant without the feature or the ISO's prices,
an unknown ISO or location."""

from __future__ import annotations

from carbon254.application.errors import ApiError, bad_parameter
from carbon254.application.forecast import FORECAST_FEATURE
from carbon254.isos import Iso
from carbon254.jobs.kinds import EntitlementCheck
from carbon254.schema import Dataset
from carbon254.store.base import Store


def forecast_refusal(iso: str, entitlements: EntitlementCheck) -> str | None:
    """Why a tenant may not run forecast jobs on `iso`: the `forecast` feature and the ISO's LMPs."""
    if not entitlements.allows_feature(FORECAST_FEATURE):
        return f"not entitled to the {FORECAST_FEATURE} feature"
    if not entitlements.allows_data(iso.upper(), Dataset.LMP.value):
        return f"not entitled to {iso.upper()} {Dataset.LMP.value}"
    return None


def check_location(store: Store, iso: str, location: str) -> None:
    """422 naming `iso` for an unknown ISO, 404 naming `location` when its catalog lacks the location."""
    try:
        known = Iso(iso.upper())
    except ValueError:
        raise bad_parameter("iso", f"iso: {iso!r} is not an ISO") from None
    if location not in set(store.locations(iso=known.value).column("location").to_pylist()):
        raise ApiError(
            404, "unknown_location", f"location: {known.value} has no location {location!r}", "location"
        )
