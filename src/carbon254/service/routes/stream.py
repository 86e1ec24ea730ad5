"""`/v1/stream`: a WebSocket pushing each new interval as soon as it is committed to the store.

Domain "stream" (`router`). Messages are JSON text frames.

Credentials: `Authorization: Bearer <key or JWT>` or `X-API-Key: <key>` on
the handshake, or a `token` query parameter, or (browsers cannot set
headers) a first message `{"type": "auth", "token": "..."}`. With
`CARBON254_AUTH=off` none is needed. A later `auth` message replaces the
credential (e.g. a refreshed JWT, or another tenant's key).

Entitlements hold on open streams, whichever process changes them (the
admin API, the CLI): before the next message is delivered, a revoked or
rotated key closes the connection with 4401, and each subscription the
tenant may no longer see (an ISO or dataset removed, or an `auth` message
as a tenant without it) ends with a `not_entitled` error naming its
dataset, iso and market while the other subscriptions carry on. With Redis,
every service process hears of a change made through the admin API at
once, so idle subscriptions end at once too. Tokens are also re-checked
every heartbeat, so an expired one loses the stream within one.

Client messages (`type` may also be spelled `action`):
* `{"type": "subscribe", "dataset": "lmp", "iso": "ERCOT", "market": "RT5",
  "locations": ["HB_NORTH"] | null, "since": "<ISO-8601>" | null}`:
  `dataset` defaults to `lmp`; `market` is omitted for `ordc_adder`;
  `locations` null means every location. Names are checked as `/v1/lmp`
  checks them, in any case: an unknown ISO, market or LMP location (one not
  in the location catalog) is refused with `/v1/lmp`'s `not_found` message
  and `suggestions`, and known names are confirmed in the catalog's
  spelling. Markets also include those the ISO's feeds produce before any
  row of them is stored. With `since` (the last
  `interval_start` the client saw), every stored row with a later
  `interval_start` is replayed first (`"replay": true`, at most
  `max_range_days`), then live rows follow, with no gap and no duplicate.
  Subscribing again to the same dataset/iso/market replaces the subscription.
* `{"type": "unsubscribe", "dataset": "lmp", "iso": "ERCOT", "market": "RT5"}`.
* `{"type": "subscribe", "dataset": "forecast", "iso": "ERCOT", "market":
  "RT5", "locations": ["HB_NORTH"]}`: sub-hourly forecasts of up to 20
  locations (names checked as for `lmp`; `market` defaults to `RT5`, the
  only one). Needs the ISO's `lmp` data and the `forecast` feature (4403
  otherwise). `{"type": "unsubscribe", "dataset": "forecast", "iso"}` stops it.

Server messages:
* `{"type": "subscribed", "dataset", "iso", "market", "locations", "since"}`,
  `{"type": "unsubscribed", "dataset", "iso", "market"}`,
  `{"type": "authenticated", "tenant"}` (after an `auth` message);
* `{"type": "data", "dataset", "iso", "market", "replay": bool, "data": [rows]}`:
  rows hold the dataset's columns; for `lmp`: `interval_start`,
  `interval_end`, `location`, `lmp`, `energy`, `congestion`, `loss`; times
  ISO-8601 UTC. A revised interval arrives again with its new values.
* `{"type": "forecast", "dataset": "forecast", "iso", "market", "location",
  "model", "model_version", "trained_through", "issued_at",
  "last_interval_start", "interval_start": [12 starts], "point", "p10",
  "p50", "p90"}` ($/MWh): each location's latest forecast on subscribing,
  then one each time an interval of it is committed or revised; `{"type":
  "error", "code": "forecast_unavailable", "location", ...}` for a location
  with too little stored history to fit a model (see `stream.reforecast`);
* `{"type": "heartbeat", "time"}` every `stream_heartbeat_s` seconds;
* `{"type": "error", "code", "message", "parameter"[, "suggestions"]}`: a bad
  message or subscription (unknown dataset, ISO, market or location, too
  many locations, malformed `since`); nothing is subscribed and the
  connection stays open;
* `{"type": "error", "code": "not_entitled", "message", "parameter",
  "dataset", "iso", "market"}`: that subscription ended because the tenant
  lost the entitlement; the connection stays open.

Close codes: 4401 unauthenticated (also a key revoked while connected),
4403 a subscribe outside the tenant's entitlements, 4429 rate limited (each
subscribe counts as a request), 4008 slow consumer (the client fell
`stream_queue_max` messages behind; resume with `since`), 1013 the message
broker, or the metadata database that checks credentials, is unavailable
(retry later).
"""

from __future__ import annotations

from fastapi import APIRouter, WebSocket

from carbon254.service.stream.session import CloseCode, StreamSession

router = APIRouter(tags=["stream"])


@router.websocket("/v1/stream")
async def stream(websocket: WebSocket) -> None:
    """Serve one streaming client (see the module docstring for the protocol)."""
    state = websocket.app.state
    hub = getattr(state, "stream_hub", None)
    if hub is None:  # the app was built without install_stream, or is shutting down
        await websocket.close(CloseCode.UNAVAILABLE)
        return
    headers = {k: v for k in ("authorization", "x-api-key") if (v := websocket.headers.get(k))}
    token = websocket.query_params.get("token")
    if token and not headers:
        headers["authorization"] = f"Bearer {token}"
    session = StreamSession(websocket, hub, lambda: state.store, state.settings, state.stream_metrics)
    await session.run(headers)
