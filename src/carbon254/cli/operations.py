"""`carbon254 <operation>` for every analytics operation, generated from its declaration.

Each request field becomes an option (`minus_market` -> `--minus-market`,
booleans as flags), with the field's description as help. The command runs
the operation in process against the store in `--data-dir` through the
application layer, exactly as the service does (a local user is entitled to
everything), then prints a table and the statistics, or writes every row to
`--output FILE.csv|.parquet`. A refused parameter is reported against its
option name.
"""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Annotated, Any

import pyarrow as pa
import pyarrow.compute as pc
import typer
from pydantic import ValidationError
from rich.table import Table

from carbon254.application.errors import ApiError
from carbon254.application.identity import ANONYMOUS
from carbon254.application.operation import Operation
from carbon254.application.operations import OPERATIONS
from carbon254.cli.console import CliError, console, fail
from carbon254.cli.options import DEFAULT_DATA_DIR, DataDir
from carbon254.cli.output import is_stdout, output_format, print_table, rich_table, write_table
from carbon254.cli.tenants import open_metadata
from carbon254.config import Settings
from carbon254.store import open_store

# Columns whose value is one per answer (named in the title instead) or bookkeeping: left out of
# the terminal table, which must stay readable at 80 columns, but not of files.
_HIDDEN_IN_TABLE = ("iso", "interval_end", "location", "minus", "location_lmp", "minus_lmp")


def _option(name: str) -> str:
    return "--" + name.replace("_", "-")


def option_message(error: ApiError) -> str:
    """The error's message naming its parameter as the option (`minus_market` -> `--minus-market`)."""
    message, parameter = error.message, error.parameter
    if parameter is None:
        return message
    if message.startswith(f"{parameter}: "):
        message = message[len(parameter) + 2 :]
    return f"{_option(parameter)}: {message.replace(repr(parameter), repr(_option(parameter)))}"


def _parameters(operation: Operation[Any, Any]) -> list[inspect.Parameter]:
    parameters = []
    for name, field in operation.request.model_fields.items():
        option = typer.Option(
            _option(name), help=field.description or "", show_default=not field.is_required()
        )
        parameters.append(
            inspect.Parameter(
                name,
                inspect.Parameter.KEYWORD_ONLY,
                default=inspect.Parameter.empty if field.is_required() else field.default,
                annotation=Annotated[field.annotation, option],
            )
        )
    return parameters


_COMMON = [
    inspect.Parameter(
        "output",
        inspect.Parameter.KEYWORD_ONLY,
        default=None,
        annotation=Annotated[
            Path | None,
            typer.Option(
                "--output",
                "-o",
                help="Write every row to this .csv or .parquet file instead of printing a table; - writes "
                "CSV to standard output.",
                dir_okay=False,
                show_default=False,
            ),
        ],
    ),
    inspect.Parameter(
        "limit",
        inspect.Parameter.KEYWORD_ONLY,
        default=50,
        annotation=Annotated[int, typer.Option("--limit", help="Rows shown in the terminal table.", min=0)],
    ),
    inspect.Parameter(
        "data_dir", inspect.Parameter.KEYWORD_ONLY, default=DEFAULT_DATA_DIR, annotation=DataDir
    ),
]


def _stats_table(stats: dict[str, Any], unit: str) -> Table:
    table = Table(title=f"Statistics ({unit}, duration-weighted)", show_header=False)
    table.add_column("statistic")
    table.add_column("value", justify="right")
    for name, value in stats.items():
        table.add_row(
            name, "-" if value is None else f"{value:,.6g}" if isinstance(value, float) else str(value)
        )
    return table


def _run(operation: Operation[Any, Any], given: dict[str, Any]) -> None:
    names = list(operation.request.model_fields)
    data_dir: Path = given["data_dir"]
    output: Path | None = given["output"]
    if output is not None:
        try:
            output_format(output)
        except ValueError as exc:
            fail(str(exc))
    if not operation.needs_metadata and not (data_dir / "store").is_dir():
        fail(
            f"--data-dir: no store in {data_dir}",
            "Load data with `carbon254 demo`, `simulate` or `ingest`, or point --data-dir "
            "(CARBON254_DATA_DIR) at an existing data dir.",
        )
    metadata = open_metadata(data_dir) if operation.needs_metadata else None
    store = open_store(data_dir)
    try:
        request = operation.parse({name: given[name] for name in names})
        call = operation.call(store, Settings(data_dir=data_dir), ANONYMOUS, request, metadata)
        answer = call.answer(store)
    except ValidationError as exc:
        first = exc.errors()[0]
        fail(f"{_option(str(first['loc'][0]))}: {first['msg']}" if first["loc"] else str(exc))
    except ApiError as exc:
        fail(
            option_message(exc),
            f"Did you mean: {', '.join(exc.suggestions)}?" if exc.suggestions else None,
        )
    finally:
        store.close()
        if metadata is not None:
            metadata.close()
    _show(operation, answer.table, answer.head, output, given["limit"], call.tz)


def _show(
    operation: Operation[Any, Any],
    table: pa.Table,
    head: dict[str, Any],
    output: Path | None,
    limit: int,
    tz: str | None,
) -> None:
    unit, zone = operation.unit, tz or "UTC"
    if output is not None:
        try:
            write_table(table, output)
        except OSError as exc:
            raise CliError(f"--output: cannot write {output} ({exc.strerror or exc})") from None
        if is_stdout(output):
            return  # only the CSV goes to a pipe; the statistics would corrupt it
        console.print(f"Wrote {table.num_rows:,} rows of {operation.name} ({unit}, times {zone}) to {output}")
    elif table.num_rows == 0:
        console.print(f"No {operation.name} rows in the window.")
    else:
        columns = [c for c in table.column_names if c not in _HIDDEN_IN_TABLE]
        hidden = [c for c in table.column_names if c not in columns]
        simulated = ["simulated data"] if head.get("simulated") else []
        title = " · ".join(
            [f"{operation.name} ({unit})", *_constants(table, hidden), f"times {zone}", *simulated]
        )
        print_table(console, rich_table(table, columns, limit, title))
        shown = min(limit, table.num_rows)
        console.print(
            f"{table.num_rows:,} rows in all; showing {shown:,}. Use --output FILE.csv to save every row."
            if shown < table.num_rows
            else f"{table.num_rows:,} rows."
        )
    if head.get("stats") is not None:
        console.print(_stats_table(head["stats"], unit))


def _constants(table: pa.Table, names: list[str]) -> list[str]:
    """`name value` for each text column among `names` holding one value in every row (for titles)."""
    found = []
    for name in names:
        column = table.column(name)
        if pa.types.is_string(column.type) and len(pc.unique(column)) == 1:
            found.append(f"{name} {column[0].as_py()}")
    return found


def operation_command(operation: Operation[Any, Any]) -> Any:
    """The Typer command function of `operation` (its signature is the options)."""

    def command(**given: Any) -> None:
        try:
            _run(operation, given)
        except CliError as exc:
            fail(exc.message, exc.hint)

    command.__signature__ = inspect.Signature([*_parameters(operation), *_COMMON])  # type: ignore[attr-defined]
    command.__name__ = operation.name
    command.__doc__ = f"{operation.summary}.\n\n{operation.description}"
    return command


def add_operation_commands(app: typer.Typer, groups: dict[str, typer.Typer]) -> None:
    """Register one command per declared operation (`application.operations.OPERATIONS`).

    An operation with a `command` goes in that group of `groups` (`carbon254
    curve hpfc`), else it is a top-level command named after it.
    """
    for operation in OPERATIONS:
        if operation.command is None:
            app.command(operation.name)(operation_command(operation))
        else:
            group, name = operation.command
            groups[group].command(name)(operation_command(operation))
