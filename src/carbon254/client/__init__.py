"""The 254Carbon Python SDK: every REST dataset as pandas, Polars or Arrow, live rows, typed errors.

    from carbon254.client import Client, AsyncClient

    with Client(base_url="http://127.0.0.1:8000", api_key="c254_...") as client:
        lmp = client.lmp(iso="PJM", market="DAM", locations=["WESTERN HUB"],
                         start="2024-01-01", end="2025-01-01", tz="iso")
        job = client.export(iso="PJM", market="DAM", locations=["WESTERN HUB"],
                            start="2024-01-01", end="2025-01-01", format="parquet")
        job.wait(progress=True)
        job.download("western_hub.parquet")

OIDC instead of an API key: `Client(auth=ClientCredentials(...))` for a
service account, `Client(auth=DeviceCode(...))` for a person (sign in once in
a browser; tokens are renewed). `client.export(...)` and `client.jobs` run
long work on the service as `Job` handles. `Client.local(path)` answers the
same calls in process from an embedded store (no server). The SDK imports
nothing from the server unless local mode is used, so `carbon254-client`
installs without the server's dependencies.
"""

from carbon254.client.async_client import AsyncClient
from carbon254.client.async_jobs import AsyncJob, AsyncJobs
from carbon254.client.battery import BatteryOptimized, BatterySummary
from carbon254.client.errors import (
    AuthError,
    Carbon254Error,
    InvalidRequest,
    JobCancelled,
    JobError,
    JobFailed,
    JobTimeout,
    NotEntitled,
    NotFound,
    RateLimited,
    ServerError,
)
from carbon254.client.forecast_models import ForecastModel
from carbon254.client.forecast_stream import SubHourlyForecast
from carbon254.client.job_models import JobInfo, JobProgress, JobResult, JobStatus
from carbon254.client.jobs import Job, Jobs
from carbon254.client.models import (
    CurveMarked,
    ImpliedOut,
    MarkedMonth,
    QualityDay,
    QualityGap,
    QualityReport,
    QualitySummary,
    SpreadStats,
    Tick,
)
from carbon254.client.oidc import ClientCredentials, DeviceCode, OidcError
from carbon254.client.ppa import PpaSummary, PpaValued
from carbon254.client.queries import Block, ExportFormat, Resample
from carbon254.client.scenarios import (
    ScenarioChecked,
    ScenarioMonth,
    ScenarioPreset,
    ScenarioRun,
    ScenarioRunRecord,
    ScenarioSaved,
    ScenarioYear,
)
from carbon254.client.sync_client import Client

__all__ = [
    "AsyncClient",
    "AsyncJob",
    "AsyncJobs",
    "AuthError",
    "BatteryOptimized",
    "BatterySummary",
    "Block",
    "Carbon254Error",
    "Client",
    "ClientCredentials",
    "CurveMarked",
    "DeviceCode",
    "ExportFormat",
    "ForecastModel",
    "ImpliedOut",
    "InvalidRequest",
    "Job",
    "JobCancelled",
    "JobError",
    "JobFailed",
    "JobInfo",
    "JobProgress",
    "JobResult",
    "JobStatus",
    "JobTimeout",
    "Jobs",
    "MarkedMonth",
    "NotEntitled",
    "NotFound",
    "OidcError",
    "PpaSummary",
    "PpaValued",
    "QualityDay",
    "QualityGap",
    "QualityReport",
    "QualitySummary",
    "RateLimited",
    "Resample",
    "ScenarioChecked",
    "ScenarioMonth",
    "ScenarioPreset",
    "ScenarioRun",
    "ScenarioRunRecord",
    "ScenarioSaved",
    "ScenarioYear",
    "ServerError",
    "SpreadStats",
    "SubHourlyForecast",
    "Tick",
]
