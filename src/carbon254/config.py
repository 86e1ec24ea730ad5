"""Settings: one place, read from the environment (prefix `CARBON254_`)."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from carbon254.isos import Iso
from carbon254.isos.caiso.settings import CaisoSettings
from carbon254.isos.ercot.settings import ErcotSettings
from carbon254.isos.isone.settings import IsoneSettings
from carbon254.isos.miso.settings import MisoSettings
from carbon254.isos.nyiso.settings import NyisoSettings
from carbon254.isos.pjm.settings import PjmSettings
from carbon254.isos.settings import IsoSettings
from carbon254.isos.spp.settings import SppSettings


class AuthMode(StrEnum):
    """Whether requests must carry credentials (`CARBON254_AUTH`)."""

    REQUIRED = "required"
    OFF = "off"  # only allowed when the service binds a loopback address


class Settings(BaseSettings):
    """Process-wide settings.

    Every field can be set by an environment variable of the same name with
    the `CARBON254_` prefix (e.g. `CARBON254_DATA_DIR`); CLI flags override
    the environment. Each ISO's settings are a field named after the ISO
    whose own fields are `CARBON254_<ISO>_<FIELD>` (e.g. `pjm.api_key` is
    `CARBON254_PJM_API_KEY`).
    """

    # `_` nests once, and only into the ISO settings models (the only nested fields).
    model_config = SettingsConfigDict(
        env_prefix="CARBON254_", extra="ignore", env_nested_delimiter="_", env_nested_max_split=1
    )

    data_dir: Path = Field(
        default=Path("carbon254-data"),
        description="Where the platform keeps its local files: the default store, ingest ledger, "
        "quarantine, metadata database.",
    )
    store: str = Field(
        default="duckdb://",
        description="Market-data store URL: `duckdb://` is the embedded DuckDB/Parquet store in the data "
        "dir, `duckdb:///srv/c254` the one in that directory (a relative path is read from the data dir).",
    )
    host: str = Field(default="127.0.0.1", description="Address the service binds to.")
    port: int = Field(default=8000, ge=1, le=65535, description="Port the service listens on.")
    max_range_days: int = Field(
        default=3700, ge=1, description="Longest time range one request may ask for, in days."
    )
    max_locations: int = Field(default=2000, ge=1, description="Most locations one request may name.")
    quality_window_days: int = Field(
        default=7,
        ge=1,
        le=366,
        description="Complete market days (ending yesterday) the Prometheus quality gauges cover.",
    )

    # Each ISO's settings, from `CARBON254_<ISO>_<FIELD>` (e.g. CARBON254_NYISO_URL=http://127.0.0.1:9000
    # for a local replay, CARBON254_PJM_API_KEY): the models live in the ISO packages.
    caiso: CaisoSettings = Field(default_factory=CaisoSettings, description="CAISO's settings.")
    ercot: ErcotSettings = Field(default_factory=ErcotSettings, description="ERCOT's settings.")
    pjm: PjmSettings = Field(default_factory=PjmSettings, description="PJM's settings.")
    miso: MisoSettings = Field(default_factory=MisoSettings, description="MISO's settings.")
    spp: SppSettings = Field(default_factory=SppSettings, description="SPP's settings.")
    nyiso: NyisoSettings = Field(default_factory=NyisoSettings, description="NYISO's settings.")
    isone: IsoneSettings = Field(default_factory=IsoneSettings, description="ISO-NE's settings.")
    iso_timeout_s: float = Field(default=60.0, gt=0, description="Timeout of one ISO request, in seconds.")
    iso_retries: int = Field(default=5, ge=1, description="Attempts per ISO request before giving up.")
    iso_min_interval_s: float | None = Field(
        default=None,
        ge=0,
        description="Seconds between requests to one ISO; unset uses each ISO's published limit.",
    )

    # --- the service: identity, backends, limits -----------------------------------------------
    auth: AuthMode = Field(
        default=AuthMode.REQUIRED,
        description="`required`: every data request needs an API key or OIDC token; "
        "`off`: no credentials (only when bound to a loopback address).",
    )
    metadata_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL of the metadata database (tenants, keys, audit); "
        "default SQLite `metadata.db` in the data dir, e.g. `postgresql://user@host/db`.",
    )
    cache_url: str = Field(
        default="memory://",
        description="Query-result cache and pub/sub: `memory://` or `redis://host:port/db`.",
    )
    cache_ttl_s: float = Field(default=300.0, gt=0, description="Seconds a cached query result stays valid.")
    cache_max_bytes: int = Field(
        default=256 * 2**20,
        ge=0,
        description="Bytes of results held in process (0: none): the whole cache with `memory://`, "
        "copies of recent values in front of Redis with `redis://`.",
    )
    object_store: str = Field(
        default="file://",
        description="Where jobs keep their artifacts (exports): `file://` is `objects` in the data dir, "
        "`file:///srv/c254-objects` that directory (a relative path is read from the data dir), "
        "`s3://bucket/prefix` S3 with the usual AWS credentials.",
    )
    s3_endpoint: str | None = Field(
        default=None,
        description="Base URL of the S3 API for `s3://` object stores (MinIO, Ceph, ...); unset: AWS.",
    )
    oidc_issuer: str | None = Field(default=None, description="Accepted `iss` of OIDC bearer tokens.")
    oidc_audience: str | None = Field(default=None, description="Required `aud` of OIDC bearer tokens.")
    oidc_jwks_url: str | None = Field(default=None, description="Where the issuer's signing keys (JWKS) are.")
    oidc_tenant_claim: str = Field(
        default="carbon254_tenant", description="Token claim naming the caller's tenant."
    )
    oidc_jwks_cache_s: float = Field(default=600.0, gt=0, description="Seconds fetched JWKS keys are reused.")
    rate_limit_per_s: float = Field(
        default=50.0, ge=0, description="Requests per second each credential may sustain (0 disables)."
    )
    rate_limit_burst: int = Field(default=200, ge=1, description="Requests each credential may burst.")
    cors_origins: list[str] = Field(
        default_factory=list, description="Origins allowed to call the API from a browser (JSON list)."
    )
    max_body_bytes: int = Field(default=1 * 2**20, ge=1, description="Largest request body accepted, bytes.")
    json_page_rows: int = Field(
        default=50_000, ge=1, description="Rows per JSON page; the rest follows by `cursor`."
    )

    # --- JSON page cursors ---------------------------------------------------------------------
    cursor_secret: SecretStr | None = Field(
        default=None,
        description="Key signing JSON page cursors; unset: derived from the store URL, so every "
        "process over one store accepts the others' cursors (set it to make cursors unforgeable).",
    )

    stream_queue_max: int = Field(
        default=1000, ge=1, description="Messages a WebSocket client may fall behind before it is dropped."
    )
    stream_heartbeat_s: float = Field(default=15.0, gt=0, description="Seconds between stream heartbeats.")
    stream_poll_s: float = Field(
        default=0.01, gt=0, description="Seconds between checks of the store for new commits to stream."
    )
    stream_jobs_poll_s: float = Field(
        default=0.5,
        gt=0,
        description="Seconds between looks at the metadata database for job changes to push to "
        "`jobs` stream subscriptions (only while a connection subscribes).",
    )
    stream_forecast_history_days: int = Field(
        default=7,
        ge=1,
        le=90,
        description="Days of stored five-minute real-time prices the stream's sub-hourly forecaster is "
        "fitted on, per location (refitted daily).",
    )
    # Services streaming one store share Redis channels and a publisher lock under this name.
    stream_namespace: str | None = Field(
        default=None,
        description="Redis key prefix of the stream's channels and publisher lock; "
        "default derived from the store URL, so services over one store share it.",
    )
    graphql_max_depth: int = Field(default=8, ge=1, description="Deepest GraphQL selection accepted.")
    graphql_max_aliases: int = Field(default=20, ge=1, description="Most aliases in one GraphQL query.")
    graphql_max_rows: int = Field(
        default=1_000_000, ge=1, description="Most rows one GraphQL query may return over all its fields."
    )
    graphql_max_query_chars: int = Field(
        default=100_000, ge=1, description="Longest GraphQL document accepted, in characters."
    )
    graphql_max_tokens: int = Field(
        default=5_000, ge=1, description="Most tokens (and, separately, comments) in one GraphQL document."
    )
    graphql_max_fragment_spreads: int = Field(
        default=100,
        ge=0,
        description="Most fragment spreads one GraphQL document makes once every spread is expanded.",
    )
    graphql_max_fields: int = Field(
        default=1000,
        ge=1,
        description="Most field selections in one GraphQL document once every fragment spread is expanded.",
    )
    graphql_max_introspection_depth: int = Field(
        default=15,
        ge=1,
        description="Deepest introspection (`__schema`, `__type`) selection; the standard one is 14 deep.",
    )
    graphql_max_field_repeats: int = Field(
        default=5,
        ge=1,
        description="Most times one GraphQL field (one response path) may be selected, fragments included.",
    )
    log_json: bool = Field(default=True, description="Structured JSON logs (one object per line).")

    # --- jobs: where their tasks run, and how workers hold them -----------------------------------
    compute: str = Field(
        default="local://",
        description="Where job tasks run: `local://` (a process per core of this machine; "
        "`local://?processes=N` for N) or `dask://host:port` (a Dask distributed scheduler).",
    )
    job_lease_s: float = Field(
        default=30.0,
        gt=0,
        description="Seconds a worker's claim on a job lasts without a heartbeat; a job whose worker "
        "died is taken over by another worker this long after its last heartbeat.",
    )
    job_poll_s: float = Field(
        default=1.0,
        gt=0,
        description="Seconds an idle job worker waits between looks for queued jobs; also how often a "
        "running job's worker renews its lease at most and notices a cancel.",
    )
    job_workers: int = Field(
        default=1,
        ge=0,
        description="Job workers `carbon254 serve` runs in its own process (each a thread feeding the "
        "compute of `CARBON254_COMPUTE`); 0: none, jobs wait for a `carbon254 jobs worker`.",
    )
    job_max_active: int = Field(
        default=10,
        ge=1,
        description="Most jobs one tenant may have queued or running at once; one more is refused (429).",
    )
    job_max_stored_bytes: int = Field(
        default=10 * 2**30,
        ge=0,
        description="Most bytes of job artifacts (exports) one tenant may keep stored; a new job "
        "is refused (413) while the tenant holds this much.",
    )
    job_retention_s: float = Field(
        default=7 * 86_400.0,
        gt=0,
        description="Seconds a finished job's artifacts (exports, and the parts of failed or cancelled "
        "jobs) are kept before the retention sweep deletes them; a tenant may have its own "
        "(`carbon254 tenants retention`).",
    )
    job_sweep_s: float = Field(
        default=3600.0,
        ge=0,
        description="Seconds between retention sweeps in `carbon254 serve` and `carbon254 jobs worker`; "
        "0: none (run `carbon254 jobs sweep` instead).",
    )
    download_link_s: float = Field(
        default=3600.0,
        gt=0,
        description="Seconds a signed download link (`/v1/downloads/{id}`) stays valid after it is issued.",
    )

    # --- the service: deployment (which routers, TLS, shutdown) ---------------------------------
    only: Annotated[list[str] | None, NoDecode] = Field(
        default=None,
        description="Domains this process serves, comma-separated (`serve --only data,quality`): "
        "data, analytics, quality, graphql, stream, jobs, admin, excel; ops (health, ready, metrics) always. "
        "Unset: all.",
    )
    ssl_certfile: Path | None = Field(
        default=None, description="PEM certificate (chain) to serve HTTPS with; needs `ssl_keyfile`."
    )
    ssl_keyfile: Path | None = Field(default=None, description="PEM private key of `ssl_certfile`.")
    shutdown_grace_s: float = Field(
        default=30.0,
        gt=0,
        description="Seconds in-flight requests may take to finish after SIGTERM before being cut off.",
    )

    @field_validator("store")
    @classmethod
    def _known_store(cls, value: str) -> str:
        """Refuse a malformed store URL or an unknown scheme at startup, naming the supported schemes."""
        from carbon254.store import resolve_store_url  # deferred: the store stack is heavy to import

        resolve_store_url(value, Path())
        return value.strip()

    @field_validator("compute")
    @classmethod
    def _known_compute(cls, value: str) -> str:
        """Refuse a malformed compute URL or an unknown executor at startup, naming the supported ones."""
        from carbon254.compute import check_compute_url

        return check_compute_url(value)

    @field_validator("object_store")
    @classmethod
    def _known_object_store(cls, value: str) -> str:
        """Refuse an unknown object store scheme at startup, naming the accepted ones."""
        from carbon254.objects import check_object_store_url

        return check_object_store_url(value)

    @field_validator("only", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        """`CARBON254_ONLY=data,quality` as a list (a JSON list is accepted too); blank means unset."""
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                return json.loads(text)
            return [name.strip() for name in text.split(",") if name.strip()] or None
        return value

    def store_url(self) -> str:
        """The store URL resolved against the data dir: the same text in every process over one store."""
        from carbon254.store import resolve_store_url

        return resolve_store_url(self.store, self.data_dir)

    def metadata_database_url(self) -> str:
        """The metadata database URL: `metadata_url`, else SQLite in the data dir."""
        return self.metadata_url or f"sqlite:///{(self.data_dir / 'metadata.db').as_posix()}"

    def iso_settings(self, iso: Iso) -> IsoSettings:
        """The settings of one ISO (`CARBON254_<ISO>_*`), an instance of that ISO's own model."""
        found: IsoSettings = getattr(self, Iso(iso).value.lower())
        return found
