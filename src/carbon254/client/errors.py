"""Typed errors of the SDK: one class per kind of failure, each carrying the server's message.

Every error the service answers has the body `{code, message, parameter}`;
the SDK raises it as the class its HTTP status maps to, so callers catch
what they can act on (`NotEntitled`, `RateLimited`, ...) and print
`str(error)`, which is the server's own message. A job that ends without
success raises `JobFailed` or `JobCancelled` when waited for.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from carbon254.client.job_models import JobInfo


class Carbon254Error(Exception):
    """Base of every SDK error: `status` (HTTP, None when no answer came), `code`, `parameter`."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        parameter: str | None = None,
        request_id: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
        self.parameter = parameter
        self.request_id = request_id

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r}, status={self.status}, code={self.code!r})"


class AuthError(Carbon254Error):
    """401: no credentials, or a key or token the service does not accept (unknown, revoked, expired)."""


class NotEntitled(Carbon254Error):
    """403: valid credentials, but the tenant may not read this ISO, dataset or feature."""


class NotFound(Carbon254Error):
    """404: an unknown ISO, market or location; `suggestions` lists close names the service knows."""

    def __init__(
        self,
        message: str,
        *,
        suggestions: tuple[str, ...] = (),
        status: int | None = 404,
        code: str | None = None,
        parameter: str | None = None,
        request_id: str | None = None,
    ) -> None:
        super().__init__(message, status=status, code=code, parameter=parameter, request_id=request_id)
        self.suggestions = suggestions


class InvalidRequest(Carbon254Error):
    """400, 409, 413 or 422: a malformed or inconsistent request; `parameter` names the culprit."""


class RateLimited(Carbon254Error):
    """429 after the retries: the credential's rate limit; `retry_after_s` says when to try again."""

    def __init__(
        self,
        message: str,
        *,
        retry_after_s: float | None = None,
        status: int | None = 429,
        code: str | None = None,
        parameter: str | None = None,
        request_id: str | None = None,
    ) -> None:
        super().__init__(message, status=status, code=code, parameter=parameter, request_id=request_id)
        self.retry_after_s = retry_after_s


class ServerError(Carbon254Error):
    """5xx after the retries, or no answer at all (`status` None: the connection failed or timed out)."""


class JobError(Carbon254Error):
    """A job that ended without success, or was not done in time; `job_id` names it.

    `info` is the job as last seen (status, progress, `error`), when known.
    """

    def __init__(self, message: str, *, job_id: str, info: JobInfo | None = None) -> None:
        super().__init__(message)
        self.job_id = job_id
        self.info = info


class JobFailed(JobError):
    """The job failed; the message carries the service's `error` (also at `info.error`)."""


class JobCancelled(JobError):
    """The job was cancelled before it finished; `resume()` runs it on from its checkpoints."""


class JobTimeout(JobError, TimeoutError):
    """The job had not finished when the wait's `timeout_s` ran out; it keeps running on the service."""
