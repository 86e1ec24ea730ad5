"""Streaming: `/v1/stream` pushes each commit to the store to subscribed WebSocket clients.

Pieces, each in its own module: `broker` (in-process or Redis pub/sub),
`lease` (which process publishes, and the feed's cursor), `watcher` (follows
the store's change feed and publishes), `hub` (one broker subscription per
channel per process, fanning out to connections), `guard` (re-checks the
connections' principals when credentials change, before anything more is
delivered), `session` (one WebSocket), `protocol` and `messages` (what
clients and the broker see). Sub-hourly forecasts: `reforecast` (fits and
re-forecasts in the publishing process), `forecast_board` (wanted series and
latest forecasts, shared by processes), `forecast_feed` (per-process
fan-out), `forecast_subscription` and `forecast_messages`.

`install_stream(app, settings)` wires them into an app's lifespan.
"""

from carbon254.service.stream.install import install_stream

__all__ = ["install_stream"]
