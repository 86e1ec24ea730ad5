"""What one GraphQL document may cost, measured before anything expands its fragments.

A fragment spread is a macro: `fragment F2 on LmpRow { ...F1 ...F1 }` doubles
F1, so 29 such lines (1.5 KB) stand for 2^29 fields, and any validator that
walks spreads one by one (a depth or alias counter, say) runs for minutes.
Here every fragment is measured once, in dependency order (`graphlib`
refuses a cycle), and a spread adds its fragment's already-known `Cost`,
so measuring takes time linear in the document whatever it expands to.

The limits (`QueryLimits`, from the `graphql_max_*` settings), all refused
with a 400 before the standard GraphQL validation runs:

* size and tokens: checked by the parser itself (graphql-core's
  `max_source_length`, `max_lexical_tokens`, `max_comments`), which stops
  reading at the limit;
* fragment spreads and field selections, counted as if every spread were
  expanded, over all the document's operations;
* aliases, counted the same way;
* depth: fields with sub-selections nested in one another, separately for
  the data fields and for introspection (`__schema`, `__type`), whose
  standard schema query (GraphiQL's) nests a dozen `ofType` levels;
* repeats: how often one field (one response path, such as `lmp.energy`)
  is selected. Validation compares every two selections of a field, and
  their sub-selections pairwise, so repeats nested in repeats cost their
  product squared. Counted on the expanded document, which the limits
  above have already bounded.

The standard validation then refuses introspection that nests lists of
types in one another (graphql-core's `MaxIntrospectionDepthRule`: the
fan-out of `types { fields { type { fields ... } } }`). Rows returned are
limited separately, as they are read (`context.RowBudget`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from graphlib import CycleError, TopologicalSorter
from typing import Any, cast

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    get_named_type,
    is_introspection_type,
)
from graphql.type import SchemaMetaFieldDef, TypeMetaFieldDef, TypeNameMetaFieldDef
from strawberry.extensions import SchemaExtension

from carbon254.config import Settings
from carbon254.excerpt import excerpt


@dataclass(frozen=True, slots=True)
class QueryLimits:
    """The most one GraphQL document may hold or expand to; see the module docstring."""

    max_chars: int
    max_tokens: int
    max_fragment_spreads: int
    max_fields: int
    max_aliases: int
    max_depth: int
    max_introspection_depth: int
    max_field_repeats: int

    @classmethod
    def of(cls, settings: Settings) -> QueryLimits:
        """The limits `settings` configure (`graphql_max_*`)."""
        return cls(
            max_chars=settings.graphql_max_query_chars,
            max_tokens=settings.graphql_max_tokens,
            max_fragment_spreads=settings.graphql_max_fragment_spreads,
            max_fields=settings.graphql_max_fields,
            max_aliases=settings.graphql_max_aliases,
            max_depth=settings.graphql_max_depth,
            max_introspection_depth=settings.graphql_max_introspection_depth,
            max_field_repeats=settings.graphql_max_field_repeats,
        )


@dataclass(frozen=True, slots=True)
class Cost:
    """What a selection set amounts to once its fragment spreads are expanded.

    Counts add up over sibling selections; depths are the deepest branch.
    `depth` counts fields with sub-selections outside introspection,
    `introspection_depth` those of branches through `__schema`/`__type`.
    """

    fields: int = 0
    aliases: int = 0
    spreads: int = 0
    depth: int = 0
    introspection_depth: int = 0

    def __add__(self, other: Cost) -> Cost:
        return Cost(
            fields=self.fields + other.fields,
            aliases=self.aliases + other.aliases,
            spreads=self.spreads + other.spreads,
            depth=max(self.depth, other.depth),
            introspection_depth=max(self.introspection_depth, other.introspection_depth),
        )


class QueryRefused(GraphQLError):
    """A document over one of the `QueryLimits`: answered 400 with `data: null`, and never run."""


def _spreads(selection_set: SelectionSetNode) -> Iterator[str]:
    """Names of the fragments spread anywhere inside `selection_set` (nested fields included)."""
    pending = [selection_set]
    while pending:
        for selection in pending.pop().selections:
            if isinstance(selection, FragmentSpreadNode):
                yield selection.name.value
            elif isinstance(selection, FieldNode | InlineFragmentNode) and selection.selection_set:
                pending.append(selection.selection_set)


def _field(schema: GraphQLSchema, parent: GraphQLNamedType | None, name: str) -> GraphQLField | None:
    """The definition of field `name` on `parent`, the introspection meta-fields included; None if unknown."""
    if name == "__typename":
        return TypeNameMetaFieldDef
    if parent is not None and parent is schema.query_type:
        meta = {"__schema": SchemaMetaFieldDef, "__type": TypeMetaFieldDef}.get(name)
        if meta is not None:
            return meta
    if isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
        found: GraphQLField | None = parent.fields.get(name)
        return found
    return None


class _Measure:
    """Costs of selection sets of one document, with each fragment's cost computed once."""

    def __init__(self, schema: GraphQLSchema, fragments: Mapping[str, Cost]) -> None:
        self.schema = schema
        self.fragments = fragments

    def selections(self, selection_set: SelectionSetNode | None, parent: GraphQLNamedType | None) -> Cost:
        total = Cost()
        if selection_set is None:
            return total
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                total += self.field(selection, parent)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                kind = self.schema.get_type(condition.name.value) if condition is not None else parent
                total += self.selections(selection.selection_set, kind)
            elif isinstance(selection, FragmentSpreadNode):
                # An undefined fragment costs its spread only; validation names it.
                total += Cost(spreads=1) + self.fragments.get(selection.name.value, Cost())
        return total

    def field(self, node: FieldNode, parent: GraphQLNamedType | None) -> Cost:
        definition = _field(self.schema, parent, node.name.value)
        of_type = definition.type if definition is not None else None
        named = get_named_type(of_type) if of_type is not None else None
        inner = self.selections(node.selection_set, named)
        depth, introspection_depth = 0, 0
        if node.selection_set is not None:
            if named is not None and is_introspection_type(named):
                introspection_depth = 1 + max(inner.depth, inner.introspection_depth)
            else:
                depth = 1 + inner.depth
                introspection_depth = 1 + inner.introspection_depth if inner.introspection_depth else 0
        return Cost(
            fields=1 + inner.fields,
            aliases=(node.alias is not None) + inner.aliases,
            spreads=inner.spreads,
            depth=depth,
            introspection_depth=introspection_depth,
        )


def measure(document: DocumentNode, schema: GraphQLSchema) -> Cost:
    """The cost of every operation of `document` together, fragments expanded; never expands one.

    Raises `QueryRefused` for fragments that spread themselves, directly or
    through others (which no expansion could finish).
    """
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    graph = {name: set(_spreads(fragment.selection_set)) for name, fragment in fragments.items()}
    try:
        order = list(TopologicalSorter(graph).static_order())
    except CycleError as exc:
        cycle: list[str] = exc.args[1]
        path = " -> ".join(excerpt(name) for name in reversed(cycle))
        raise QueryRefused(f"fragments spread themselves in a cycle ({path}); a cycle never ends") from None
    costs: dict[str, Cost] = {}
    measuring = _Measure(schema, costs)
    for name in order:
        fragment = fragments.get(name)
        if fragment is not None:
            kind = schema.get_type(fragment.type_condition.name.value)
            costs[name] = measuring.selections(fragment.selection_set, kind)
    total = Cost()
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode):
            root = schema.get_root_type(definition.operation)
            total += measuring.selections(definition.selection_set, root)
    return total


def _count(n: int) -> str:
    # A fragment bomb's counts run to hundreds of digits: show their size instead.
    return f"{n:,}" if n < 2**63 else f"about 2^{n.bit_length() - 1}"


def check(cost: Cost, limits: QueryLimits) -> None:
    """Raise `QueryRefused` naming the first of `limits` that `cost` exceeds."""
    over = [
        (cost.spreads, limits.max_fragment_spreads, "fragment spreads, with each fragment expanded"),
        (cost.fields, limits.max_fields, "field selections, with every fragment expanded"),
        (cost.aliases, limits.max_aliases, "aliases, with every fragment expanded"),
    ]
    for found, allowed, what in over:
        if found > allowed:
            raise QueryRefused(f"the query has {_count(found)} {what}; at most {allowed:,} are allowed")
    if cost.depth > limits.max_depth:
        raise QueryRefused(
            f"the query exceeds maximum operation depth of {limits.max_depth}: "
            f"its fields nest {cost.depth} deep"
        )
    if cost.introspection_depth > limits.max_introspection_depth:
        raise QueryRefused(
            f"the query exceeds maximum introspection depth of {limits.max_introspection_depth}: "
            f"its introspection fields nest {cost.introspection_depth} deep"
        )


def most_repeated(document: DocumentNode) -> tuple[int, str]:
    """How often the most repeated response path of `document` is selected, and that path.

    Walks the document with every fragment expanded: call it only once
    `check` has bounded the expansion (and `measure` refused cycles).
    """
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    counts: Counter[tuple[int, str]] = Counter()
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    for index, operation in enumerate(operations):
        pending: list[tuple[SelectionSetNode, str]] = [(operation.selection_set, "")]
        while pending:
            selection_set, prefix = pending.pop()
            for selection in selection_set.selections:
                if isinstance(selection, FieldNode):
                    path = prefix + (selection.alias or selection.name).value
                    counts[index, path] += 1
                    if selection.selection_set is not None:
                        pending.append((selection.selection_set, path + "."))
                elif isinstance(selection, InlineFragmentNode):
                    pending.append((selection.selection_set, prefix))
                elif isinstance(selection, FragmentSpreadNode) and selection.name.value in fragments:
                    pending.append((fragments[selection.name.value].selection_set, prefix))
    if not counts:
        return 0, ""
    (_, path), repeats = counts.most_common(1)[0]
    return repeats, path


def check_document(document: DocumentNode, schema: GraphQLSchema, limits: QueryLimits) -> None:
    """Raise `QueryRefused` naming the first of `limits` that `document` exceeds; see the module docstring."""
    check(measure(document, schema), limits)
    repeats, path = most_repeated(document)
    if repeats > limits.max_field_repeats:
        raise QueryRefused(
            f"the query selects {excerpt(path)} {repeats:,} times, with every fragment expanded; "
            f"at most {limits.max_field_repeats:,} are allowed (each is compared with every other)"
        )


class QueryLimiter(SchemaExtension):
    """Applies `QueryLimits` to every operation: while parsing, then before validation.

    A refused document skips the standard validation altogether (Strawberry
    runs it only while `pre_execution_errors` is unset) and is answered with
    the refusal alone.
    """

    def __init__(self, limits: QueryLimits) -> None:
        self.limits = limits

    def on_operation(self) -> Iterator[None]:
        # Strawberry hands these to graphql-core's `parse`, which stops reading
        # at the first character or token over the limit.
        options = cast(dict[str, Any], self.execution_context.parse_options)
        options["max_source_length"] = self.limits.max_chars
        options["max_lexical_tokens"] = self.limits.max_tokens
        options["max_comments"] = self.limits.max_tokens
        yield

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        if context.graphql_document is not None and context.pre_execution_errors is None:
            try:
                check_document(context.graphql_document, context.schema._schema, self.limits)
            except QueryRefused as refused:
                context.pre_execution_errors = [refused]
        yield
