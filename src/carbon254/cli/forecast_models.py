"""`carbon254 forecast models list|show|promote|rollback|archive`: the registry in the data dir's database.

The same functions as `/v1/models` (`application.forecast_models`), on the
metadata database of `--data-dir` (or `CARBON254_METADATA_URL`), as the
embedded tenant. Models are registered by training; these commands read
them and move them between stages (candidate, production, archived).
`--format json` prints what the REST API answers.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from enum import StrEnum
from typing import Annotated, TypeVar

import typer
from rich.table import Table

from carbon254.application.errors import ApiError
from carbon254.application.forecast_models import (
    archive_model,
    model_document,
    model_versions,
    promote_model,
    registered_model,
    registered_models,
    rollback_model,
)
from carbon254.application.identity import ANONYMOUS
from carbon254.cli.console import console, fail
from carbon254.cli.operations import option_message
from carbon254.cli.options import DEFAULT_DATA_DIR, DataDir
from carbon254.cli.output import print_table
from carbon254.cli.tenants import open_metadata
from carbon254.metadata.database import MetadataDatabase
from carbon254.metadata.forecast_models import ModelVersion

models = typer.Typer(
    name="models",
    help="The forecast model registry: list, show, promote, rollback, archive model versions.",
    no_args_is_help=True,
)


class ModelsFormat(StrEnum):
    """How the registry commands print model versions."""

    TABLE = "table"
    JSON = "json"


Name = Annotated[str, typer.Argument(help="The registered model name (any case).")]
Version = Annotated[int, typer.Argument(help="The model version (1, 2, ...).")]
Format = Annotated[ModelsFormat, typer.Option("--format", help="table, or json (as GET /v1/models).")]
T = TypeVar("T")
# The metrics the table shows, in this order; JSON shows all of them.
TABLE_METRICS = ("mae", "rmse", "rmae", "coverage")


def _call(data_dir: DataDir, action: Callable[[MetadataDatabase], T]) -> T:
    """`action` on the data dir's metadata database; a refusal exits with the registry's message.

    A refused filter names its option (`--market: ...`); an unknown name or
    version is said as is, since NAME and VERSION are arguments of some
    commands and options of others.
    """
    db = open_metadata(data_dir)
    try:
        return action(db)
    except ApiError as error:
        if error.parameter in ("name", "version"):
            fail(error.message.removeprefix(f"{error.parameter}: "))
        fail(option_message(error))
    finally:
        db.close()


def _metric(record: ModelVersion, name: str) -> str:
    value = json.loads(record.metrics).get(name)
    return "" if value is None else f"{value:.3f}" if isinstance(value, float) else str(value)


def _show(records: Sequence[ModelVersion], fmt: ModelsFormat, title: str, many: bool = True) -> None:
    if fmt is ModelsFormat.JSON:
        documents = [model_document(r).model_dump(mode="json") for r in records]
        print(json.dumps(documents if many else documents[0]))
        return
    if not records:
        console.print("No forecast models registered; training registers them (carbon254 forecast train).")
        return
    table = Table(title=title)
    columns = ("name", "version", "stage", "iso", "location", "market", "model", "trained on", *TABLE_METRICS)
    for column in columns:
        table.add_column(column, justify="right" if column in ("version", *TABLE_METRICS) else "left")
    for r in records:
        table.add_row(
            r.name,
            str(r.version),
            r.stage.value,
            r.iso,
            r.location,
            r.market,
            r.model,
            f"{r.train_start} .. {r.train_end}",
            *(_metric(r, m) for m in TABLE_METRICS),
        )
    print_table(console, table)


@models.command("list")
def list_command(
    name: Annotated[str | None, typer.Option("--name", help="Only this model name (any case).")] = None,
    iso: Annotated[str | None, typer.Option("--iso", help="Only models of this ISO, e.g. ERCOT.")] = None,
    location: Annotated[str | None, typer.Option("--location", help="Only this location.")] = None,
    market: Annotated[str | None, typer.Option("--market", help="Only dam or rtm models.")] = None,
    fmt: Format = ModelsFormat.TABLE,
    data_dir: DataDir = DEFAULT_DATA_DIR,
) -> None:
    """Every registered model version, newest first, with its stage and holdout metrics ($/MWh)."""
    records = _call(
        data_dir,
        lambda db: registered_models(db, ANONYMOUS, name=name, iso=iso, location=location, market=market),
    )
    _show(records, fmt, "Forecast models")


@models.command("show")
def show_command(
    name: Name,
    version: Annotated[
        int | None, typer.Option("--version", help="One version (default: every version of NAME).")
    ] = None,
    fmt: Format = ModelsFormat.TABLE,
    data_dir: DataDir = DEFAULT_DATA_DIR,
) -> None:
    """Every version of model NAME, or one with --version (its parameters and features with --format json)."""
    if version is None:
        _show(_call(data_dir, lambda db: model_versions(db, ANONYMOUS, name)), fmt, f"Model {name}")
        return
    record = _call(data_dir, lambda db: registered_model(db, ANONYMOUS, name, version))
    _show([record], fmt, f"Model {record.name} version {record.version}", many=False)


@models.command("promote")
def promote_command(
    name: Name, version: Version, fmt: Format = ModelsFormat.TABLE, data_dir: DataDir = DEFAULT_DATA_DIR
) -> None:
    """Make VERSION the production version of NAME; the one it replaces is archived (one step)."""
    record = _call(data_dir, lambda db: promote_model(db, ANONYMOUS, name, version))
    _changed(record, fmt, f"Promoted {record.name} version {record.version} to production.")


@models.command("rollback")
def rollback_command(
    name: Name, fmt: Format = ModelsFormat.TABLE, data_dir: DataDir = DEFAULT_DATA_DIR
) -> None:
    """Archive NAME's production version and restore the one in production before it."""
    record = _call(data_dir, lambda db: rollback_model(db, ANONYMOUS, name))
    _changed(record, fmt, f"Rolled {record.name} back to version {record.version} (production).")


@models.command("archive")
def archive_command(
    name: Name, version: Version, fmt: Format = ModelsFormat.TABLE, data_dir: DataDir = DEFAULT_DATA_DIR
) -> None:
    """Retire VERSION of NAME: archived, and never a rollback target again."""
    record = _call(data_dir, lambda db: archive_model(db, ANONYMOUS, name, version))
    _changed(record, fmt, f"Archived {record.name} version {record.version}.")


def _changed(record: ModelVersion, fmt: ModelsFormat, message: str) -> None:
    if fmt is ModelsFormat.JSON:
        print(json.dumps(model_document(record).model_dump(mode="json")))
    else:
        console.print(message)
