"""Scenario files (YAML or JSON) checked against the JSON Schema, every problem reported with its line.

The YAML is composed into nodes first (PyYAML keeps each node's start
mark), the plain data is validated with `jsonschema` collecting all errors,
and each error's instance path is walked down the node tree to the line and
column (1-based) of the offending value. Problems the schema cannot express
(a shift with both absolute and percent, a sweep naming a missing step) come
from the Pydantic models and are located the same way. YAML timestamps are
kept as text, so dates are checked by the schema's `date` format.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import yaml
from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import ValidationError as SchemaError
from pydantic import ValidationError

from carbon254.scenarios.model import STEP_TYPES, Scenario, StepFieldError
from carbon254.scenarios.schema import scenario_schema

Path = tuple[str | int, ...]


class _Loader(yaml.SafeLoader):  # type: ignore[misc]  # PyYAML ships no type stubs
    """Safe YAML without implicit timestamps: a date stays a string for the schema to check."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


@dataclass(frozen=True, slots=True)
class ScenarioProblem:
    """One problem in a scenario file: 1-based line and column (None when unknown), field path, message."""

    line: int | None
    column: int | None
    path: str
    message: str

    def __str__(self) -> str:
        where = f"line {self.line}, " if self.line is not None else ""
        return f"{where}{self.path}: {self.message}"


class ScenarioFileError(ValueError):
    """A scenario file that does not parse or validate; `.errors` lists every problem found."""

    def __init__(self, errors: list[ScenarioProblem]) -> None:
        self.errors = errors
        super().__init__("invalid scenario:\n" + "\n".join(f"  {e}" for e in errors))


def format_path(path: Path) -> str:
    """A field path as a scenario author writes it: `steps[1].percent` (`scenario` for the whole file)."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text or "scenario"


def _mapping_value(node: yaml.MappingNode, key: str) -> tuple[yaml.Node, yaml.Node] | None:
    for key_node, value_node in node.value:
        if isinstance(key_node, yaml.ScalarNode) and key_node.value == key:
            return key_node, value_node
    return None


def _locate(root: yaml.Node | None, path: Path, *, key: bool = False) -> yaml.Node | None:
    """The node at `path` (its key node when `key`), or the deepest node on the way there."""
    node = root
    for i, part in enumerate(path):
        if isinstance(node, yaml.MappingNode) and isinstance(part, str):
            found = _mapping_value(node, part)
            if found is None:
                return node
            node = found[0] if key and i == len(path) - 1 else found[1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
            node = node.value[part]
        else:
            return node
    return node


def _problem(root: yaml.Node | None, path: Path, message: str, *, key: bool = False) -> ScenarioProblem:
    node = _locate(root, path, key=key)
    if node is None:
        return ScenarioProblem(None, None, format_path(path), message)
    mark = node.start_mark
    return ScenarioProblem(mark.line + 1, mark.column + 1, format_path(path), message)


def _duplicates(node: yaml.Node | None, path: Path = ()) -> Iterator[tuple[Path, yaml.Node]]:
    """Keys given twice in one mapping, which PyYAML would otherwise resolve silently to the last."""
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            name = str(key_node.value)
            if name in seen:
                yield (*path, name), key_node
            seen.add(name)
            yield from _duplicates(value_node, (*path, name))
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            yield from _duplicates(item, (*path, i))


def _branch_tag(schema: dict[str, Any], definitions: dict[str, Any]) -> str | None:
    if "$ref" in schema:
        schema = definitions.get(schema["$ref"].rsplit("/", 1)[-1], {})
    const = schema.get("properties", {}).get("type", {}).get("const")
    return const if isinstance(const, str) else None


def _leaves(error: SchemaError, definitions: dict[str, Any]) -> list[SchemaError]:
    """The errors worth showing for `error`: inside a union, those of the branch the value meant."""
    if error.validator not in ("oneOf", "anyOf") or not error.context:
        return [error]
    branches: list[dict[str, Any]] = list(error.validator_value)
    by_branch: dict[int, list[SchemaError]] = {}
    for sub in error.context:
        by_branch.setdefault(int(sub.relative_schema_path[0]), []).append(sub)
    tags = {i: _branch_tag(b, definitions) for i, b in enumerate(branches)}
    if any(tags.values()) and isinstance(error.instance, dict):
        wanted = error.instance.get("type")
        chosen = [i for i, tag in tags.items() if tag == wanted]
        if not chosen:
            names = ", ".join(repr(t) for t in tags.values() if t)
            if "type" not in error.instance:
                message = f"'type' is a required property (one of {names})"
                return [SchemaError(message, path=error.absolute_path)]
            bad = SchemaError(f"{wanted!r} is not one of {names}", path=[*error.absolute_path, "type"])
            return [bad]
    else:
        # An optional field's union with null: the non-null branch is what the author meant.
        chosen = [i for i, b in enumerate(branches) if b.get("type") != "null"]
    if len(chosen) != 1 or chosen[0] not in by_branch:
        return [error]
    return [leaf for sub in by_branch[chosen[0]] for leaf in _leaves(sub, definitions)]


def _schema_problems(root: yaml.Node | None, data: object) -> list[ScenarioProblem]:
    schema = scenario_schema()
    validator = Draft202012Validator(schema, format_checker=FormatChecker())
    definitions: dict[str, Any] = schema.get("$defs", {})
    problems: list[ScenarioProblem] = []
    for error in validator.iter_errors(data):
        for leaf in _leaves(error, definitions):
            path: Path = tuple(leaf.absolute_path)
            if leaf.validator == "additionalProperties" and isinstance(leaf.instance, dict):
                allowed = sorted(leaf.schema.get("properties", {}))
                for name in sorted(set(leaf.instance) - set(allowed)):
                    problems.append(
                        _problem(
                            root,
                            (*path, str(name)),
                            f"unknown field {name!r} (allowed: {', '.join(allowed)})",
                            key=True,
                        )
                    )
            else:
                problems.append(_problem(root, path, leaf.message))
    return problems


def _model_path(loc: Sequence[str | int]) -> Path:
    """A Pydantic error location without the discriminator tags it inserts after each step index."""
    out: list[str | int] = []
    for part in loc:
        if isinstance(part, str) and part in STEP_TYPES and len(out) >= 2 and out[-2] == "steps":
            continue
        out.append(part)
    return tuple(out)


def _validated(root: yaml.Node | None, data: object) -> Scenario:
    problems = [
        ScenarioProblem(n.start_mark.line + 1, n.start_mark.column + 1, format_path(path), "given twice")
        for path, n in _duplicates(root)
    ]
    problems += _schema_problems(root, data)
    if problems:
        raise ScenarioFileError(sorted(problems, key=lambda p: (p.line or 0, p.column or 0)))
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        found: list[ScenarioProblem] = []
        for err in exc.errors():
            path = _model_path(err["loc"])
            cause = (err.get("ctx") or {}).get("error")
            message = str(err["msg"]).removeprefix("Value error, ")
            if isinstance(cause, StepFieldError):
                path, message = (*path, *cause.path), str(cause)
            found.append(_problem(root, path, message))
        raise ScenarioFileError(found) from None


def load_scenario(text: str) -> Scenario:
    """A scenario from YAML (or JSON) text, validated against the scenario JSON Schema.

    Raises ScenarioFileError listing every problem with its 1-based line:
    YAML syntax errors, wrong types, unknown or repeated keys, missing
    fields and inconsistent steps or sweeps.
    """
    loader = _Loader(text)
    try:
        root = loader.get_single_node()
        data = loader.construct_document(root) if root is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        column = mark.column + 1 if mark is not None else None
        reason = " ".join(str(p) for p in (exc.context, exc.problem) if p)
        problem = ScenarioProblem(line, column, "scenario", f"YAML syntax: {reason}")
        raise ScenarioFileError([problem]) from None
    except yaml.YAMLError as exc:
        raise ScenarioFileError([ScenarioProblem(None, None, "scenario", f"YAML: {exc}")]) from None
    finally:
        loader.dispose()
    if root is None:
        raise ScenarioFileError([ScenarioProblem(1, 1, "scenario", "the file holds no scenario")])
    return _validated(root, data)


def scenario_from_json(text: str) -> Scenario:
    """A scenario from JSON text, validated as `load_scenario` does (with lines where the JSON is YAML-clean).

    Raises ScenarioFileError with the line of a JSON syntax error, or of each
    validation problem.
    """
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ScenarioFileError([ScenarioProblem(exc.lineno, exc.colno, "scenario", exc.msg)]) from None
    try:
        root: yaml.Node | None = yaml.compose(text, Loader=_Loader)
    except yaml.YAMLError:
        root = None  # JSON that PyYAML's YAML 1.1 reads differently: problems then come without lines
    return _validated(root, data)
