"""A corpus of hostile GraphQL requests: each one small to send, and each refused (4xx) by the service.

Built for the default `graphql_max_*` limits. Families: fragment bombs
(spreads doubling per level, wide, empty, through introspection, spread by
many operations), fragment cycles, wide fan-outs, deep nesting (fields,
introspection, list values, syntax), alias floods, duplicated fields,
directive floods, huge strings and comments, many operations, variables
and arguments, JSON nested too deeply, batches. `HostileRequest.body()` is
the JSON body to POST to `/graphql`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

WINDOW = 'iso: "PJM", market: "DAM", start: "2024-03-01", end: "2024-03-02"'
QUOTED = '"x"'


@dataclass(frozen=True)
class HostileRequest:
    """One request of the corpus: its name, and the GraphQL document (or raw JSON body) it sends."""

    name: str
    query: str = ""
    raw: str | None = None  # a body sent as is instead of {"query": query}

    def body(self) -> str:
        """The JSON text to POST."""
        return self.raw if self.raw is not None else json.dumps({"query": self.query})


def fragment_bomb(levels: int, spreads: int = 2, on: str = "LmpRow", leaf: str = "lmp") -> str:
    """`fragment F<k> on <on> { ...F<k-1> (spreads times) }` for k < levels: spreads**(levels-1) leaves."""
    fragments = [f"fragment F0 on {on} {{ {leaf} }}"]
    for k in range(1, levels):
        fragments.append(f"fragment F{k} on {on} {{ {_times(f'...F{k - 1}', spreads)} }}")
    return f"{{ lmp({WINDOW}) {{ ...F{levels - 1} }} }}\n" + "\n".join(fragments)


def _times(text: str, count: int, separator: str = " ") -> str:
    return separator.join([text] * count)


def _numbered(template: str, count: int, separator: str = " ") -> str:
    return separator.join(template.format(i=i) for i in range(count))


def _bomb_of_empty_fragments(levels: int) -> str:
    fragments = ["fragment F0 on LmpRow { }"]
    fragments += [f"fragment F{k} on LmpRow {{ ...F{k - 1} ...F{k - 1} }}" for k in range(1, levels)]
    return f"{{ lmp({WINDOW}) {{ lmp ...F{levels - 1} }} }}\n" + "\n".join(fragments)


def _introspection_bomb(levels: int) -> str:
    fragments = ["fragment T0 on __Type { name }"]
    for k in range(1, levels):
        fragments.append(f"fragment T{k} on __Type {{ ...T{k - 1} ofType {{ ...T{k - 1} }} }}")
    return f'{{ __type(name: "LmpRow") {{ ...T{levels - 1} }} }}\n' + "\n".join(fragments)


def _operations_sharing_a_fragment(operations: int) -> str:
    # Each operation alone is within every limit; together they are not (cost is per document).
    queries = _numbered(f"query Q{{i}} {{{{ lmp({WINDOW}) {{{{ ...Row }}}} }}}}", operations, "\n")
    return queries + "\nfragment Row on LmpRow { lmp energy congestion loss location }"


def _nested(levels: int, opening: str, closing: str, inner: str) -> str:
    return opening * levels + inner + closing * levels


def _wrapped(body: str) -> str:
    return "{ " + body + " }"


def corpus() -> list[HostileRequest]:
    """Every hostile request, each refused at the default limits."""
    row = "intervalStart intervalEnd location lmp energy congestion loss"
    lmp = f"lmp({WINDOW})"
    fanout = "__schema { types { fields { type { fields { type { fields { name } } } } } } }"
    return [
        # Fragment bombs: 1.5 KB standing for 2^28 fields, and the like.
        HostileRequest("fragment_bomb_29_levels", fragment_bomb(29)),
        HostileRequest("fragment_bomb_wide", fragment_bomb(9, spreads=10)),
        HostileRequest("fragment_bomb_of_empty_fragments", _bomb_of_empty_fragments(40)),
        HostileRequest("fragment_bomb_through_introspection", _introspection_bomb(30)),
        HostileRequest("fragment_bomb_of_whole_rows", fragment_bomb(25, leaf=row)),
        HostileRequest("fragment_shared_by_many_operations", _operations_sharing_a_fragment(250)),
        HostileRequest(
            "fragment_cycle",
            f"{{ {lmp} {{ ...A }} }} fragment A on LmpRow {{ lmp ...B }} "
            "fragment B on LmpRow { loss ...A }",
        ),
        HostileRequest("fragment_spreads_itself", f"{{ {lmp} {{ ...A }} }} fragment A on LmpRow {{ ...A }}"),
        HostileRequest(
            "long_fragment_chain",
            "{ ...F0 } "
            + " ".join(f"fragment F{i} on Query {{ __typename ...F{i + 1} }}" for i in range(1000))
            + " fragment F1000 on Query { __typename }",
        ),
        # Wide fan-outs.
        HostileRequest("introspection_fanout", _wrapped(fanout)),
        HostileRequest(
            "introspection_fanout_aliased",
            _wrapped(_numbered("s{i}: __schema {{ types {{ fields {{ args {{ name }} }} }} }}", 30)),
        ),
        HostileRequest("wide_selection", _wrapped(_numbered("f{i}", 3000))),
        HostileRequest("wide_data_selection", _wrapped(f"{lmp} {{ {_times(row, 200)} }}")),
        HostileRequest("many_data_fields", _wrapped(_numbered(f"a{{i}}: {lmp} {{{{ lmp }}}}", 100))),
        # Deep nesting.
        HostileRequest(
            "deep_introspection",
            '{ __type(name: "LmpRow") { fields { type '
            + _nested(60, "{ ofType ", "} ", "{ name }")
            + "} } }",
        ),
        HostileRequest("deep_fields", _nested(3000, "{ a ", "} ", "{ b }")),
        HostileRequest(
            "deep_list_value", _wrapped(f"lmp({WINDOW}, locations: {_nested(3000, '[', ']', '1')})")
        ),
        HostileRequest(
            "deep_object_value", _wrapped(f"lmp({WINDOW}, locations: {_nested(2000, '{a: ', '}', '1')})")
        ),
        # Aliases.
        HostileRequest("alias_flood", _wrapped(_numbered("a{i}: __typename", 3000))),
        HostileRequest(
            "alias_flood_through_fragments",
            "{ ...A ...B } fragment A on Query { ...C ...C } fragment B on Query { ...C ...C } "
            "fragment C on Query { " + _numbered("c{i}: __typename", 8) + " }",
        ),
        # Duplicated fields: validation compares each with every other of its name.
        HostileRequest("duplicated_typename", _wrapped(_times("__typename", 900))),
        HostileRequest("duplicated_data_field", _wrapped(_times(f"{lmp} {{ lmp }}", 400))),
        HostileRequest(
            "duplicated_conflicting_fields",
            _wrapped(_numbered('lmp(iso: "X{i}", market: "M", start: "s", end: "e") {{ lmp }}', 400)),
        ),
        HostileRequest(
            "duplicates_nested_in_duplicates",
            _wrapped(
                "__schema { "
                + _times("types { " + _times("fields { " + _times("name", 6) + " }", 6) + " }", 6)
                + " }"
            ),
        ),
        # Directives.
        HostileRequest("directive_flood", _wrapped("__typename " + _times("@include(if: true)", 3000))),
        HostileRequest("unknown_directive_flood", _wrapped("__typename " + _numbered("@d{i}", 5000))),
        HostileRequest(
            "directives_on_spreads",
            _wrapped(_times("...F @skip(if: false) @include(if: true)", 1500))
            + " fragment F on Query { __typename }",
        ),
        # Sheer size.
        HostileRequest("huge_string_argument", _wrapped(f'lmp({WINDOW}, tz: "{"A" * 900_000}") {{ lmp }}')),
        HostileRequest("huge_block_string", _wrapped(f'lmp({WINDOW}, tz: """{"B" * 900_000}""") {{ lmp }}')),
        HostileRequest("huge_name", _wrapped("n" * 900_000)),
        HostileRequest("huge_comment", "#" + "c" * 900_000 + "\n{ __typename }"),
        HostileRequest("comment_flood", "#\n" * 60_000 + "{ __typename }"),
        HostileRequest(
            "string_flood", _wrapped(f"lmp({WINDOW}, locations: [{_times(QUOTED, 20_000, ', ')}])")
        ),
        # Many of everything else.
        HostileRequest("many_operations", _numbered("query Q{i} {{ __typename }}", 5000, "\n")),
        HostileRequest("many_variables", "query(" + _numbered("$v{i}: String", 4000) + ") { __typename }"),
        HostileRequest("many_arguments", _wrapped("__typename(" + _numbered("a{i}: 1", 5000) + ")")),
        # Not GraphQL requests a server should spend on.
        HostileRequest(
            "deeply_nested_json",
            raw='{"query": "{ __typename }", "variables": {"v": ' + _nested(200_000, "[", "]", "") + "}}",
        ),
        HostileRequest("batch", raw="[" + _times('{"query": "{ __typename }"}', 1000, ", ") + "]"),
    ]


CORPUS = corpus()
