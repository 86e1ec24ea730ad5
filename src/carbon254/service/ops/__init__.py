"""Operations and transport security of the service, a module per concern.

* `install.install_operations(app, settings)`: the middleware below, in order, and the store check;
* `readiness`: `ReadinessCheck` and `add_readiness_check(app, check)` for backends `/ready` depends on;
* `access`: request ids (echoed as `X-Request-ID`) and one access log line per request;
* `logs`: JSON (or text) log formatting with request ids, and uvicorn's `logging_config`;
* `redaction`: secrets kept out of every log line;
* `security_headers`, `body_limit`: response headers and the request body size limit;
* `request_id`, `routes`: the current request's id and the route template a request matched.

Nothing is imported here, so `carbon254.service.metrics` can use `routes`
while `install` uses the metrics.
"""
