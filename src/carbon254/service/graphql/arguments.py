"""GraphQL arguments from a request model: each field one argument, enums taken as text.

Strawberry reads a resolver's arguments from its signature, so a field whose
arguments are a Pydantic request's fields gets a signature built here from
the model: `info` first, then every field keyword-only with its default.
"""

from __future__ import annotations

import inspect
import types
import typing
from collections.abc import Callable, Mapping
from enum import StrEnum
from typing import Any

from pydantic.fields import FieldInfo
from strawberry.types import Info


def camel(name: str) -> str:
    """A request field's name as GraphQL spells it (`power_mw` is `powerMw`)."""
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)


def argument_type(annotation: Any) -> Any:
    """A request field's type as a GraphQL argument: enums are taken as text, like `resample` elsewhere."""
    if isinstance(annotation, type) and issubclass(annotation, StrEnum):
        return str
    options = typing.get_args(annotation) if typing.get_origin(annotation) is types.UnionType else ()
    if any(isinstance(o, type) and issubclass(o, StrEnum) for o in options):
        return str | None
    return annotation


def sign_resolver(resolver: Callable[..., Any], fields: Mapping[str, FieldInfo], returns: Any) -> None:
    """Give `resolver(info, **arguments)` the signature strawberry reads: `fields` as its arguments."""
    parameters = [inspect.Parameter("info", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=Info)]
    for name, field in fields.items():
        default = field.default.value if isinstance(field.default, StrEnum) else field.default
        parameters.append(
            inspect.Parameter(
                name,
                inspect.Parameter.KEYWORD_ONLY,
                default=inspect.Parameter.empty if field.is_required() else default,
                annotation=argument_type(field.annotation),
            )
        )
    resolver.__signature__ = inspect.Signature(parameters, return_annotation=returns)  # type: ignore[attr-defined]
    resolver.__annotations__ = {p.name: p.annotation for p in parameters} | {"return": returns}
