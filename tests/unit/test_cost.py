"""The static query cost model (schema/cost.py), on a small schema of its own."""

from __future__ import annotations

import pytest
from graphql import build_schema, parse

from schema.cost import DEFAULT_LIST_SIZE, query_cost

SCHEMA = build_schema("""
    type Query {
      me: User!
      users: [User!]!
      page(first: Int = 20, after: String): UserConnection!
      top(limit: Int): [User!]!
      feed(candidates: [ID!]!): [User!]!
      reorder(creatorIds: [ID!]!): [ID!]!
      node(id: ID!): Node
    }
    type Mutation { record(events: [String!]!): [Receipt!]! }
    type Receipt { id: ID! ok: Boolean! }
    interface Node { id: ID! }
    type User implements Node { id: ID! name: String! tags: [String!]! friends: [User!]! }
    type UserConnection { edges: [UserEdge!]! nodes: [User!]! pageInfo: PageInfo! }
    type UserEdge { cursor: String! node: User! }
    type PageInfo { hasNextPage: Boolean! }
""")


def cost(query: str, variables: dict | None = None, operation: str | None = None) -> int:
    return query_cost(SCHEMA, parse(query), operation, variables).cost


@pytest.mark.parametrize(("query", "expected"), [
    ("{ me { id name } }", 3),
    ("{ me { tags } }", 2),  # a leaf list with no size argument is one field
    ("{ __typename me { __typename id } }", 2),  # meta fields are free
    ("{ users { id } }", 1 + DEFAULT_LIST_SIZE * 1),
    ("{ users { friends { id } } }", 1 + DEFAULT_LIST_SIZE * (1 + DEFAULT_LIST_SIZE)),
    ("{ top(limit: 3) { id name } }", 1 + 3 * 2),
    ("{ top { id } }", 1 + DEFAULT_LIST_SIZE),  # no limit and no default: the default size
    ('{ feed(candidates: ["a", "b"]) { id } }', 1 + 2 * 1),
    ('{ feed(candidates: "a") { id } }', 1 + 1),  # a single value is a one-element list
    ('{ reorder(creatorIds: ["a", "b", "c"]) }', 1 + 3),  # a sized leaf list: one per item
    # a connection passes its size to its edges instead of multiplying twice
    ("{ page(first: 5) { edges { node { id } } pageInfo { hasNextPage } } }",
     1 + 5 * ((1 + (1 + 1)) + (1 + 1))),
    ("{ page { nodes { id } } }", 1 + 20 * (1 + 1)),  # the schema default of first
    ("{ node(id: 1) { id ... on User { name } } }", 3),
])
def test_cost_of(query, expected):
    assert cost(query) == expected


def test_variables_size_lists_and_pages():
    assert cost("query($n: Int) { top(limit: $n) { id } }", {"n": 7}) == 1 + 7
    assert cost("query($n: Int = 4) { top(limit: $n) { id } }") == 1 + 4
    assert cost("mutation($e: [String!]!) { record(events: $e) { id ok } }",
                {"e": ["x"] * 50}) == 1 + 50 * 2


def test_fragments_count_every_time_they_are_spread():
    query = """
      { a: me { ...F } b: me { ...F } top(limit: 2) { ...F } }
      fragment F on User { id name }
    """
    assert cost(query) == (1 + 2) + (1 + 2) + (1 + 2 * 2)


def test_skipped_and_excluded_selections_are_free():
    query = "query($s: Boolean!) { me { id name @skip(if: $s) tags @include(if: false) } }"
    assert cost(query, {"s": True}) == 2
    assert cost(query, {"s": False}) == 3


def test_the_named_operation_is_measured():
    query = "query A { me { id } } query B { top(limit: 9) { id } }"
    assert cost(query, operation="A") == 2
    assert cost(query, operation="B") == 10
    assert cost(query) == 0  # ambiguous: execution refuses it, nothing to charge


def test_fragment_bombs_are_measured_in_linear_time():
    fragments = "".join(f"fragment F{i} on Query {{ ...F{i + 1} ...F{i + 1} }}\n"
                        for i in range(60))
    measured = query_cost(SCHEMA, parse("{ ...F0 }\n" + fragments
                                        + "fragment F60 on Query { me { id } }"))
    assert measured.fields == 2 * 2**60
    assert measured.cost == 2 * 2**60


def test_invalid_documents_do_not_raise():
    # unknown fields, unknown and cyclic fragments: validation reports them, cost must not fail
    query = """
      { nope { deeper } me { ...Missing ...Loop } top(limit: "many") { id } }
      fragment Loop on User { id ...Loop }
    """
    assert cost(query) > 0
