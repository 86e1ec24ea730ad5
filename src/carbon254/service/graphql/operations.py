"""GraphQL fields for every analytics operation, generated from its declaration.

For an operation named `spreads` this makes the field `spreads(...)`, whose
arguments are the request model's fields (camelCase, like every field here;
enums as their text, as the dataset fields take them), returning
`SpreadsAnswer { rows: [SpreadsRow!]!, stats: SpreadsStats, simulated, unit }`.
Row fields are the operation's columns, the same as the REST rows; the
statistics type mirrors the operation's statistics dataclass. The resolver
checks and entitles through the application layer exactly as REST does and
computes on a worker thread.
"""

from __future__ import annotations

import asyncio
import dataclasses
import types
import typing
from datetime import datetime
from typing import Any

import strawberry
from pydantic import ValidationError
from strawberry.types import Info

from carbon254.application.errors import BAD_PARAMETER_STATUS, ApiError
from carbon254.application.operation import ColumnType, Operation
from carbon254.application.operations import OPERATIONS
from carbon254.service.graphql.arguments import sign_resolver
from carbon254.service.graphql.context import GraphQLContext
from carbon254.service.graphql.errors import from_api_error
from carbon254.service.graphql.types import to_rows

_COLUMN_TYPES: dict[ColumnType, Any] = {
    ColumnType.TIMESTAMP: datetime,
    ColumnType.TEXT: str | None,
    ColumnType.FLOAT: float | None,
    ColumnType.INTEGER: int | None,
}


def _pascal(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_"))


def _row_type(operation: Operation[Any, Any]) -> type:
    """The strawberry type of one row: a field per column (resample-only columns may be null)."""
    annotations = {c.name: _COLUMN_TYPES[c.type] for c in operation.columns}
    namespace: dict[str, Any] = {"__annotations__": annotations}
    cls = types.new_class(f"{_pascal(operation.name)}Row", (), {}, lambda ns: ns.update(namespace))
    description = "; ".join(f"{c.name}: {c.description}" for c in operation.columns)
    return strawberry.type(cls, description=f"One row of `{operation.name}`. {description}")


def _stats_type(operation: Operation[Any, Any]) -> type | None:
    """A strawberry type with the fields of the operation's statistics dataclass, or None."""
    if operation.stats is None:
        return None
    hints = typing.get_type_hints(operation.stats)
    annotations = {f.name: hints[f.name] for f in dataclasses.fields(operation.stats)}
    namespace: dict[str, Any] = {"__annotations__": annotations}
    cls = types.new_class(f"{_pascal(operation.name)}Stats", (), {}, lambda ns: ns.update(namespace))
    return strawberry.type(cls, description=(operation.stats.__doc__ or "").strip().splitlines()[0])


def _answer_type(operation: Operation[Any, Any], row: type, stats: type | None) -> type:
    annotations: dict[str, Any] = {"rows": list[row], "simulated": bool, "unit": str}  # type: ignore[valid-type]
    if stats is not None:
        annotations["stats"] = stats | None
    namespace: dict[str, Any] = {"__annotations__": annotations}
    cls = types.new_class(f"{_pascal(operation.name)}Answer", (), {}, lambda ns: ns.update(namespace))
    return strawberry.type(
        cls, description=f"The answer of `{operation.name}`: rows and what describes them."
    )


def _field(operation: Operation[Any, Any]) -> Any:
    """The strawberry field of `operation`: arguments from its request model, resolved via the layer."""
    row, stats = _row_type(operation), _stats_type(operation)
    answer_type = _answer_type(operation, row, stats)
    fields = operation.request.model_fields
    columns = [c.name for c in operation.columns]

    async def resolve(info: Info[GraphQLContext, None], **arguments: Any) -> Any:
        context = info.context
        try:
            try:
                request = operation.parse(arguments)
            except ValidationError as exc:
                first = exc.errors()[0]
                parameter = str(first["loc"][0]) if first["loc"] else None
                raise ApiError(
                    BAD_PARAMETER_STATUS, "invalid_parameter", f"{parameter}: {first['msg']}", parameter
                ) from None
            call = operation.call(
                context.store, context.settings, context.caller(), request, context.metadata()
            )
            answer = await asyncio.to_thread(call.answer, context.store)
        except ApiError as exc:
            raise from_api_error(exc) from None
        context.rows.charge(answer.table.num_rows)
        shown = [c for c in columns if c in answer.table.column_names]
        rows = [_complete(r, columns) for r in to_rows(_as_dict, answer.table, shown)]
        values: dict[str, Any] = {
            "rows": [row(**r) for r in rows],
            "simulated": bool(answer.head.get("simulated", False)),
            "unit": str(answer.head.get("unit", "")),
        }
        if stats is not None:
            found = answer.head.get("stats")
            values["stats"] = stats(**found) if found is not None else None
        return answer_type(**values)

    sign_resolver(resolve, fields, answer_type | None)
    resolve.__name__ = f"resolve_{operation.name}"
    return strawberry.field(resolver=resolve, description=operation.summary)


def _as_dict(**values: Any) -> dict[str, Any]:
    return values


def _complete(row: dict[str, Any], columns: list[str]) -> dict[str, Any]:
    """A row with every declared column (those the answer lacks, such as `coverage` unresampled, null)."""
    return {c: row.get(c) for c in columns}


def operation_fields() -> dict[str, Any]:
    """The GraphQL fields of every declared operation, by name, for the `Query` type."""
    return {operation.name: _field(operation) for operation in OPERATIONS}
