"""`carbon254 tenants create|list|retention`: who may use the service, what, and how long files stay.

Tenants live in the metadata database: SQLite under `--data-dir` by default,
or `CARBON254_METADATA_URL` (e.g. `postgresql://user@host/db`), the same one
`carbon254 serve` uses. Every change is written to the audit log.
"""

from __future__ import annotations

import getpass
import re
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.markup import escape
from rich.table import Table
from sqlalchemy.exc import SQLAlchemyError

from carbon254.cli.console import CliError, console, fail
from carbon254.cli.options import DEFAULT_DATA_DIR, DataDir
from carbon254.cli.output import print_table
from carbon254.config import Settings
from carbon254.metadata import (
    AuditEvent,
    InvalidEntitlement,
    MetadataDatabase,
    MetadataError,
    TenantExists,
    TenantRecord,
    UnknownKey,
    UnknownTenant,
    create_tenant,
    list_tenants,
    set_job_retention,
    write_events,
)

tenants = typer.Typer(
    name="tenants",
    help="Tenants and their entitlements (ISOs, datasets, analytics features).",
    no_args_is_help=True,
)


def open_metadata(data_dir: Path) -> MetadataDatabase:
    """The metadata database of `data_dir` (or `CARBON254_METADATA_URL`), migrated; exits if it cannot."""
    url = Settings(data_dir=data_dir).metadata_database_url()
    try:
        return MetadataDatabase(url)
    except (SQLAlchemyError, ValueError) as exc:
        cause = getattr(exc, "orig", None) or exc
        shown = url.split("@")[-1] if "@" in url else url  # never echo a password
        fail(
            f"cannot open the metadata database {shown}: {type(cause).__name__}: {cause}",
            "Check CARBON254_METADATA_URL (or --data-dir for the default SQLite file).",
        )


def split_names(text: str | None) -> list[str] | None:
    """`ERCOT,PJM` as ['ERCOT', 'PJM']; None (meaning all) when the option was not given."""
    if text is None:
        return None
    return [part.strip() for part in text.split(",") if part.strip()]


def cli_status(exc: MetadataError) -> int:
    """The HTTP status the admin API answers the same refusal with (kept alike in the audit log)."""
    if isinstance(exc, TenantExists):
        return 409
    if isinstance(exc, UnknownTenant | UnknownKey):
        return 404
    return 422


def audit_cli(
    db: MetadataDatabase, action: str, target: str, parameters: dict[str, str], status: int
) -> None:
    """Write the audit event of a CLI admin action (method `cli`, subject the OS user), synchronously."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no user name in this environment (e.g. an anonymous container uid)
        user = "unknown"
    write_events(
        db,
        [
            AuditEvent(
                tenant=None,
                subject=f"cli:{user}",
                method="cli",
                action=action,
                target=target,
                status=status,
                parameters=parameters,
            )
        ],
    )


def fail_metadata(exc: MetadataError) -> NoReturn:
    """Leave with the error's message, and close matches for a misspelled ISO or dataset."""
    hint = None
    if isinstance(exc, InvalidEntitlement) and exc.suggestions:
        hint = f"Did you mean: {', '.join(exc.suggestions)}?"
    elif isinstance(exc, UnknownTenant):
        hint = "`carbon254 tenants list` shows the tenants; `carbon254 tenants create NAME` adds one."
    elif isinstance(exc, UnknownKey):
        hint = "`carbon254 keys list` shows the key ids."
    fail(exc.message, hint)


def _shown(values: tuple[str, ...] | None) -> str:
    if values is None:
        return "all"
    return ",".join(values) if values else "none"


def describe_tenant(tenant: TenantRecord) -> str:
    """One line: name, admin flag and entitlements."""
    admin = " (admin)" if tenant.admin else ""
    return (
        f"{tenant.name}{admin}: isos {_shown(tenant.isos)}; datasets {_shown(tenant.datasets)}; "
        f"features {_shown(tenant.features)}"
    )


@tenants.command("create")
def create(
    name: Annotated[
        str, typer.Argument(help="Tenant name: letters, digits, '.', '_' or '-'.", show_default=False)
    ],
    isos: Annotated[
        str | None, typer.Option("--isos", help="Comma-separated ISOs, e.g. ERCOT,PJM; omit for all.")
    ] = None,
    datasets: Annotated[
        str | None, typer.Option("--datasets", help="Comma-separated datasets, e.g. lmp,load; omit for all.")
    ] = None,
    features: Annotated[
        str | None,
        typer.Option(
            "--features", help="Comma-separated analytics features, e.g. curves,risk; omit for all."
        ),
    ] = None,
    admin: Annotated[bool, typer.Option("--admin", help="May use the admin API (/v1/admin).")] = False,
    data_dir: DataDir = DEFAULT_DATA_DIR,
) -> None:
    """Create a tenant entitled to these ISOs, datasets and features (an option left out means all)."""
    parameters = {
        "isos": isos or "*",
        "datasets": datasets or "*",
        "features": features or "*",
        "admin": str(admin).lower(),
    }
    db = open_metadata(data_dir)
    try:
        tenant = create_tenant(
            db,
            name,
            isos=split_names(isos),
            datasets=split_names(datasets),
            features=split_names(features),
            admin=admin,
        )
    except MetadataError as exc:
        audit_cli(db, "admin.tenant.create", name, parameters, cli_status(exc))
        db.close()
        fail_metadata(exc)
    audit_cli(db, "admin.tenant.create", tenant.name, parameters, 201)
    db.close()
    console.print(f"Created tenant {escape(describe_tenant(tenant))}")


@tenants.command("list")
def list_(data_dir: DataDir = DEFAULT_DATA_DIR) -> None:
    """Every tenant with its entitlements ('all' = every ISO/dataset/feature, now and later)."""
    db = open_metadata(data_dir)
    try:
        rows = list_tenants(db)
    finally:
        db.close()
    if not rows:
        console.print("No tenants yet: create one with `carbon254 tenants create NAME`.")
        return
    table = Table(title="Tenants", title_justify="left")
    for column in ("name", "admin", "isos", "datasets", "features", "retention", "created (UTC)"):
        table.add_column(column, no_wrap=column in ("name", "created (UTC)"))
    for t in rows:
        table.add_row(
            escape(t.name),
            "yes" if t.admin else "no",
            escape(_shown(t.isos)),
            escape(_shown(t.datasets)),
            escape(_shown(t.features)),
            "default" if t.job_retention_s is None else format_duration(t.job_retention_s),
            t.created_at.strftime("%Y-%m-%d %H:%M:%S"),
        )
    print_table(console, table)


_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 604_800}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*$", re.IGNORECASE)


def parse_duration(text: str) -> float | None:
    """`30d`, `12h`, `90m`, `3600` (seconds) or `3600s` as seconds; `default` as None; CliError otherwise."""
    if text.strip().lower() == "default":
        return None
    match = _DURATION.match(text)
    if match is None or float(match.group(1)) <= 0:
        raise CliError(
            f"invalid retention {text!r}: give a positive duration such as 30d, 12h, 90m or 3600 (seconds), "
            "or 'default'"
        )
    return float(match.group(1)) * _UNITS[(match.group(2) or "s").lower()]


def format_duration(seconds: float) -> str:
    """Seconds as the largest whole unit that divides them (`7d`, `36h`), else seconds (`90s`)."""
    for unit, size in sorted(_UNITS.items(), key=lambda item: -item[1]):
        if seconds >= size and seconds % size == 0:
            return f"{seconds / size:.0f}{unit}"
    return f"{seconds:g}s"


@tenants.command("retention")
def retention(
    name: Annotated[str, typer.Argument(help="Tenant name.", show_default=False)],
    period: Annotated[
        str,
        typer.Argument(
            help="How long its jobs' files are kept after they finish: 30d, 12h, 90m, 3600 (seconds), "
            "or 'default' for CARBON254_JOB_RETENTION_S.",
            show_default=False,
        ),
    ],
    data_dir: DataDir = DEFAULT_DATA_DIR,
) -> None:
    """Set how long a tenant's job artifacts (exports) are kept before the retention sweep deletes them."""
    try:
        seconds = parse_duration(period)
    except CliError as exc:
        fail(exc.message)
    parameters = {"job_retention_s": "default" if seconds is None else f"{seconds:g}"}
    db = open_metadata(data_dir)
    try:
        tenant = set_job_retention(db, name, seconds)
    except MetadataError as exc:
        audit_cli(db, "admin.tenant.update", name, parameters, cli_status(exc))
        db.close()
        fail_metadata(exc)
    audit_cli(db, "admin.tenant.update", tenant.name, parameters, 200)
    db.close()
    kept = "the default retention" if seconds is None else format_duration(seconds)
    console.print(f"Tenant {escape(tenant.name)} keeps job artifacts for {kept}.")
