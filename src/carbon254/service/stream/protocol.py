"""The client side of `/v1/stream`: parsing client messages and building server messages.

Client messages are JSON objects with a `type` (or, equivalently, `action`):
`auth`, `subscribe`, `unsubscribe`. A malformed message or a bad
subscription parameter is a `ProtocolError`, answered with an `error`
message while the connection stays open. Names are checked as the REST
endpoints check them (`application.catalog`): an unknown ISO, market or LMP
location is a `not_found` error with the same message and suggestions as
`/v1/lmp` gives, and known names are taken in the catalog's spelling. A
subscribe or unsubscribe naming the dataset `jobs` is about the tenant's
jobs instead (`is_jobs`, `parse_jobs_subscribe`), and one naming `forecast`
is about sub-hourly forecasts (`is_forecast`, `parse_forecast_subscribe`).
See `routes/stream.py` for the whole protocol.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from carbon254 import names
from carbon254.application.catalog import check_published, resolve_iso, resolve_locations, served_markets
from carbon254.application.errors import ApiError
from carbon254.excerpt import excerpt
from carbon254.isos import Iso
from carbon254.schema import Dataset, spec
from carbon254.service.control_characters import control_character_message, first_control_character
from carbon254.service.errors import public_message
from carbon254.service.stream.forecast_messages import (
    FORECAST,
    FORECAST_MARKETS,
    ForecastChannel,
    ForecastKey,
)
from carbon254.service.stream.messages import Channel
from carbon254.store.base import Store
from carbon254.timeseries import parse_bound


@dataclass(frozen=True, slots=True)
class ProtocolError(Exception):
    """A client message the server cannot act on; sent back as an `error` message."""

    code: str
    message: str
    parameter: str | None = None
    # None: the error has no suggestions field; a not_found error always has one, as over REST.
    suggestions: tuple[str, ...] | None = None

    def frame(self) -> str:
        """The `error` message."""
        body: dict[str, Any] = {"type": "error", "code": self.code, "message": public_message(self.message)}
        body["parameter"] = self.parameter
        if self.suggestions is not None:
            body["suggestions"] = list(self.suggestions)
        return orjson.dumps(body).decode()


@dataclass(frozen=True, slots=True)
class ClientMessage:
    """One parsed client message: its kind and its JSON object."""

    kind: str
    body: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class SubscribeRequest:
    """A validated subscription: the channel, the locations (None: all) and where to resume."""

    channel: Channel
    locations: tuple[str, ...] | None
    since: datetime | None

    @property
    def location_set(self) -> frozenset[str] | None:
        """`locations` as a set, for filtering."""
        return frozenset(self.locations) if self.locations is not None else None


KINDS = ("auth", "subscribe", "unsubscribe")
# The `dataset` of a subscription to the tenant's jobs, and the most job ids one may follow.
JOBS = "jobs"
MAX_JOB_IDS = 500
# Fields of a market-data subscription that a jobs subscription refuses rather than ignores.
_NOT_FOR_JOBS = ("iso", "market", "locations", "since")


@dataclass(frozen=True, slots=True)
class JobsRequest:
    """A subscription to the tenant's jobs: every one of them (`ids` None) or only these ids."""

    ids: tuple[str, ...] | None

    def wants(self, job_id: str) -> bool:
        """Whether changes of job `job_id` are followed."""
        return self.ids is None or job_id in self.ids


def parse_message(text: str) -> ClientMessage:
    """A client text frame as a `ClientMessage`; `ProtocolError` if it is not a known JSON message."""
    try:
        body = orjson.loads(text)
    except orjson.JSONDecodeError:
        raise ProtocolError("invalid_message", "messages must be JSON objects") from None
    if not isinstance(body, dict):
        raise ProtocolError("invalid_message", "messages must be JSON objects")
    kind = body.get("type", body.get("action"))
    if kind not in KINDS:
        raise ProtocolError(
            "invalid_message",
            f"unknown message type {excerpt(kind)}; expected one of: {', '.join(KINDS)}",
            parameter="type",
        )
    return ClientMessage(str(kind), body)


def _text(body: Mapping[str, Any], name: str, *, required: bool = True) -> str | None:
    value = body.get(name)
    if value is None:
        if required:
            raise ProtocolError("missing_parameter", f"'{name}' is required", parameter=name)
        return None
    if not isinstance(value, str) or not value.strip():
        raise ProtocolError("invalid_parameter", f"'{name}' must be a non-empty string", parameter=name)
    _refuse_control_characters(name, value)
    return value.strip()


def _refuse_control_characters(name: str, value: str) -> None:
    """The same rule as the HTTP edge's: no subscription field may hold a control character."""
    character = first_control_character(value)
    if character is not None:
        raise ProtocolError("invalid_parameter", control_character_message(f"'{name}'", character), name)


def _unknown(exc: names.UnknownName) -> ProtocolError:
    return ProtocolError("not_found", exc.message, exc.parameter, tuple(exc.suggestions))


def _refused(exc: ApiError) -> ProtocolError:
    """The stream's form of a REST refusal: the same code, message, parameter and suggestions."""
    suggestions = None if exc.suggestions is None else tuple(exc.suggestions)
    return ProtocolError(exc.code, exc.message, exc.parameter, suggestions)


def parse_channel(body: Mapping[str, Any], store: Store) -> Channel:
    """The (dataset, ISO, market) a subscribe/unsubscribe names; `dataset` defaults to `lmp`."""
    dataset_name = _text(body, "dataset", required=False) or Dataset.LMP.value
    try:
        dataset = Dataset(dataset_name.lower())
    except ValueError:
        known = [*(d.value for d in Dataset), JOBS, FORECAST]
        raise ProtocolError(
            "not_found",
            f"unknown dataset {excerpt(dataset_name)}",
            "dataset",
            tuple(names.close_matches(dataset_name, known) or known),
        ) from None
    iso_text = _text(body, "iso")
    assert iso_text is not None
    try:
        iso = resolve_iso(iso_text)
    except ApiError as exc:
        raise _refused(exc) from None
    try:
        check_published(store, dataset, iso)
    except ApiError as exc:
        raise _refused(exc) from None
    if spec(dataset).market_column is None:
        if body.get("market") is not None:
            raise ProtocolError(
                "invalid_parameter", f"{dataset.value} has no markets; omit 'market'", "market"
            )
        return Channel(dataset, iso.value, None)
    market_text = _text(body, "market")
    assert market_text is not None
    try:
        market = names.resolve_names(
            "market",
            f"{iso.value} {dataset.value} market",
            [market_text],
            served_markets(store, dataset, iso),
            suggest_all=True,
        )[0]
    except names.UnknownName as exc:
        raise _unknown(exc) from None
    return Channel(dataset, iso.value, market)


def parse_subscribe(
    body: Mapping[str, Any], store: Store, *, max_locations: int, max_range_days: int, now: datetime
) -> SubscribeRequest:
    """A validated subscription, or `ProtocolError` naming the bad parameter."""
    channel = parse_channel(body, store)
    locations = _locations(body, channel, max_locations, store)
    since_text = _text(body, "since", required=False)
    since = None
    if since_text is not None:
        try:
            since = parse_bound(since_text, None)
        except ValueError as exc:
            raise ProtocolError("invalid_parameter", f"invalid since: {exc}", "since") from None
        if now - since > timedelta(days=max_range_days):
            raise ProtocolError(
                "range_too_long",
                f"since is more than {max_range_days:,} days ago; a resume replays at most that much. "
                "Read older rows from /v1 and subscribe without since",
                "since",
            )
    return SubscribeRequest(channel, locations, since)


def _locations(body: Mapping[str, Any], channel: Channel, limit: int, store: Store) -> tuple[str, ...] | None:
    """The requested locations; for LMP in the catalog's spelling, an unknown one refused as `/v1/lmp` does.

    Other datasets' names (zones, regions) have no catalog: they are kept as sent.
    """
    given = body.get("locations")
    if given is None:
        return None
    if spec(channel.dataset).location_column is None:
        raise ProtocolError(
            "invalid_parameter", f"{channel.dataset.value} has no locations; omit 'locations'", "locations"
        )
    if not isinstance(given, list) or not all(isinstance(n, str) for n in given):
        raise ProtocolError("invalid_parameter", "'locations' must be a list of names or null", "locations")
    for name in given:
        _refuse_control_characters("locations", name)
    chosen = tuple(dict.fromkeys(n.strip() for n in given if n.strip()))
    if not chosen:
        raise ProtocolError("invalid_parameter", "'locations' lists no name; use null for all", "locations")
    if len(chosen) > limit:
        raise ProtocolError(
            "too_many_locations",
            f"locations names {len(chosen):,} entries; at most {limit:,} are allowed per subscription",
            "locations",
        )
    if channel.dataset is Dataset.LMP:
        iso = Iso(channel.iso)
        try:
            return tuple(resolve_locations(store.locations(iso=iso.value), iso, chosen))
        except ApiError as exc:
            raise _refused(exc) from None
    return chosen


def is_jobs(body: Mapping[str, Any]) -> bool:
    """Whether a subscribe/unsubscribe is about the tenant's jobs (`"dataset": "jobs"`, any case)."""
    dataset = body.get("dataset")
    return isinstance(dataset, str) and dataset.strip().lower() == JOBS


def parse_jobs_subscribe(body: Mapping[str, Any]) -> JobsRequest:
    """A validated jobs subscription: `ids` null or absent (every job), or a list of job ids."""
    for name in _NOT_FOR_JOBS:
        if body.get(name) is not None:
            raise ProtocolError("invalid_parameter", f"a jobs subscription takes no '{name}'; omit it", name)
    given = body.get("ids")
    if given is None:
        return JobsRequest(None)
    if not isinstance(given, list) or not all(isinstance(i, str) for i in given):
        raise ProtocolError("invalid_parameter", "'ids' must be a list of job ids or null", "ids")
    for job_id in given:
        _refuse_control_characters("ids", job_id)
    ids = tuple(dict.fromkeys(i.strip() for i in given if i.strip()))
    if not ids:
        raise ProtocolError("invalid_parameter", "'ids' lists no job id; use null for every job", "ids")
    if len(ids) > MAX_JOB_IDS:
        raise ProtocolError(
            "too_many_ids", f"ids names {len(ids):,} jobs; at most {MAX_JOB_IDS:,} are allowed", "ids"
        )
    return JobsRequest(ids)


@dataclass(frozen=True, slots=True)
class ForecastRequest:
    """A subscription to the sub-hourly forecasts of some locations of one ISO's real-time market."""

    channel: ForecastChannel
    locations: tuple[str, ...]

    @property
    def keys(self) -> frozenset[ForecastKey]:
        """The forecast series followed."""
        c = self.channel
        return frozenset(ForecastKey(c.iso, c.market, loc) for loc in self.locations)


# Each followed location costs the publishing process a model: a subscription follows a few.
MAX_FORECAST_LOCATIONS = 20


def is_forecast(body: Mapping[str, Any]) -> bool:
    """Whether a subscribe/unsubscribe is about sub-hourly forecasts (`"dataset": "forecast"`, any case)."""
    dataset = body.get("dataset")
    return isinstance(dataset, str) and dataset.strip().lower() == FORECAST


def parse_forecast_channel(body: Mapping[str, Any], store: Store) -> ForecastChannel:
    """The (ISO, market) of a forecast subscribe/unsubscribe; `market` defaults to `RT5`, the only one."""
    iso_text = _text(body, "iso")
    assert iso_text is not None
    try:
        iso = resolve_iso(iso_text)
        check_published(store, Dataset.LMP, iso)
    except ApiError as exc:
        raise _refused(exc) from None
    market_text = _text(body, "market", required=False) or FORECAST_MARKETS[0]
    try:
        market = names.resolve_names(
            "market", f"{iso.value} forecast market", [market_text], list(FORECAST_MARKETS), suggest_all=True
        )[0]
    except names.UnknownName as exc:
        raise _unknown(exc) from None
    return ForecastChannel(iso.value, market)


def parse_forecast_subscribe(body: Mapping[str, Any], store: Store) -> ForecastRequest:
    """A validated forecast subscription: the channel and 1 to `MAX_FORECAST_LOCATIONS` known locations."""
    if body.get("since") is not None:
        raise ProtocolError("invalid_parameter", "a forecast subscription takes no 'since'; omit it", "since")
    channel = parse_forecast_channel(body, store)
    given = body.get("locations")
    if given is None:
        raise ProtocolError(
            "missing_parameter", "'locations' is required: the locations to forecast", "locations"
        )
    if not isinstance(given, list) or not all(isinstance(n, str) for n in given):
        raise ProtocolError("invalid_parameter", "'locations' must be a list of names", "locations")
    for name in given:
        _refuse_control_characters("locations", name)
    chosen = tuple(dict.fromkeys(n.strip() for n in given if n.strip()))
    if not chosen:
        raise ProtocolError("invalid_parameter", "'locations' lists no name", "locations")
    if len(chosen) > MAX_FORECAST_LOCATIONS:
        raise ProtocolError(
            "too_many_locations",
            f"locations names {len(chosen):,} entries; at most {MAX_FORECAST_LOCATIONS} are forecast "
            "per subscription",
            "locations",
        )
    iso = Iso(channel.iso)
    try:
        return ForecastRequest(channel, tuple(resolve_locations(store.locations(iso=iso.value), iso, chosen)))
    except ApiError as exc:
        raise _refused(exc) from None


def now_utc() -> datetime:
    """The current UTC time."""
    return datetime.now(UTC)


def control_frame(kind: str, **fields: Any) -> str:
    """A server message other than `data`: `{"type": kind, ...fields}` as JSON text."""
    return orjson.dumps({"type": kind, **fields}).decode()


def channel_fields(channel: Channel) -> dict[str, Any]:
    """The dataset/iso/market fields naming a channel in server messages."""
    return {"dataset": channel.dataset.value, "iso": channel.iso, "market": channel.market}
