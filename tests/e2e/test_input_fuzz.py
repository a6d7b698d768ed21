"""Property tests over every event mutation's input: whatever JSON a client puts in any field,
the answer is a receipt or a GraphQL error with a code, never a server failure.

The inputs are read from the schema, so an event added later is fuzzed without a change here.
Each field gets a value of roughly its declared type (often valid, reaching the domain's
checks) or arbitrary JSON (reaching GraphQL's coercion); fields may also go missing and
unknown ones appear.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLScalarType,
    get_named_type,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from resolvers.root import build_schema
from tests.conftest import codes, token

_SCHEMA = build_schema()._schema
#: event mutation name → its input type, for every ``name(input: XInput!): EventReceipt!``
EVENT_INPUTS: dict[str, GraphQLInputObjectType] = {
    name: get_named_type(field.args["input"].type)  # type: ignore[misc]
    for name, field in (_SCHEMA.mutation_type.fields.items() if _SCHEMA.mutation_type else ())
    if list(field.args) == ["input"] and get_named_type(field.type).name == "EventReceipt"
}

JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                max_size=4),
    max_leaves=8)

def mostly(good: st.SearchStrategy[Any], *wild: st.SearchStrategy[Any]
           ) -> st.SearchStrategy[Any]:
    """``good`` three times in four, so most examples get past the domain's checks too."""
    return st.one_of(good, good, good, *wild)


_NOW = datetime.now(UTC).replace(tzinfo=None)
#: per scalar: mostly values the domain accepts, sometimes anything of the type
_SCALARS: dict[str, st.SearchStrategy[Any]] = {
    "ID": mostly(st.from_regex(r"[a-z0-9_-]{1,24}", fullmatch=True),
                 st.text(max_size=140) | st.integers()),
    "String": mostly(st.from_regex(r"[a-z_]{1,16}", fullmatch=True), st.text(max_size=80)),
    "Int": mostly(st.integers(min_value=1, max_value=100_000), st.integers()),
    "Float": mostly(st.floats(min_value=0, max_value=50),
                    st.floats(allow_nan=False, allow_infinity=False) | st.integers()),
    "Boolean": st.booleans(),
    "DateTime": mostly(
        st.datetimes(min_value=_NOW - timedelta(days=20), max_value=_NOW - timedelta(minutes=5),
                     timezones=st.just(UTC)).map(lambda d: d.isoformat()),
        st.datetimes(timezones=st.timezones()).map(lambda d: d.isoformat())
        | st.text(max_size=30)),
}


def typed(type_: GraphQLInputType, depth: int = 0) -> st.SearchStrategy[Any]:
    """Values of roughly the declared type (may still break the domain's rules)."""
    if isinstance(type_, GraphQLNonNull):
        return typed(type_.of_type, depth)
    if isinstance(type_, GraphQLList):
        return st.lists(typed(type_.of_type, depth), max_size=6)
    if isinstance(type_, GraphQLEnumType):
        return st.sampled_from(list(type_.values)) | st.text(max_size=10)
    if isinstance(type_, GraphQLInputObjectType):
        return input_object(type_, depth + 1) if depth < 2 else JSONISH
    if isinstance(type_, GraphQLScalarType):
        return _SCALARS.get(type_.name, JSONISH)
    return JSONISH


@st.composite
def input_object(draw: st.DrawFn, type_: GraphQLInputObjectType, depth: int = 0
                 ) -> dict[str, Any]:
    """Required fields and some optional ones with typed values, then up to three
    corruptions: a field's value replaced by arbitrary JSON, a field dropped, a stranger."""
    value: dict[str, Any] = {}
    for name, field in type_.fields.items():
        if isinstance(field.type, GraphQLNonNull) or draw(st.booleans()):
            value[name] = draw(typed(field.type, depth))
    for _ in range(draw(st.sampled_from([0, 0, 1, 2, 3]))):
        kind = draw(st.sampled_from(["junk", "drop", "stranger"]))
        if kind == "stranger":
            value[draw(st.text(min_size=1, max_size=12))] = draw(JSONISH)
        elif value:
            name = draw(st.sampled_from(sorted(value)))
            if kind == "junk":
                value[name] = draw(JSONISH)
            else:
                del value[name]
    return value


def answered_cleanly(body: dict[str, Any], name: str) -> bool:
    if body.get("errors"):
        return all(codes(body)) and "INTERNAL_SERVER_ERROR" not in codes(body)
    receipt = body["data"][name]
    return isinstance(receipt["eventId"], str) and receipt["accepted"] is True


def test_every_event_mutation_is_fuzzed():
    assert len(EVENT_INPUTS) >= 13


FUZZ = settings(max_examples=25, deadline=None, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])


@pytest.mark.parametrize("name", sorted(EVENT_INPUTS))
@FUZZ
@given(data=st.data())
async def test_any_input_gets_a_receipt_or_a_coded_error(api, name, data):
    input_type = EVENT_INPUTS[name]
    value = data.draw(input_object(input_type), label="input")
    query = (f"mutation($input: {input_type.name}!) {{ {name}(input: $input) "
             "{ eventId accepted duplicate } }")
    body = await api.as_service(query, {"input": value})
    assert answered_cleanly(body, name), (value, body)


@FUZZ
@given(data=st.data())
async def test_any_batch_gets_receipts_or_a_coded_error(api, data):
    member = st.sampled_from(sorted(EVENT_INPUTS)).flatmap(
        lambda n: st.fixed_dictionaries({n: input_object(EVENT_INPUTS[n])}))
    events = data.draw(st.lists(member | JSONISH, max_size=4), label="events")
    body = await api.as_service("mutation($events: [EventInput!]!) { recordEvents("
                                "events: $events) { eventId accepted duplicate } }",
                                {"events": events})
    if body.get("errors"):
        assert all(codes(body)) and "INTERNAL_SERVER_ERROR" not in codes(body), (events, body)
    else:
        assert len(body["data"]["recordEvents"]) == len(events)


async def test_non_finite_numbers_are_bad_user_input(api):
    # Python's JSON reader takes NaN and Infinity, which JSON itself does not have (and which
    # httpx will not send, hence the hand-written body)
    query = ("mutation($input: LocationUpdatedInput!) { locationUpdated(input: $input) "
             "{ eventId } }")
    for literal in ("NaN", "Infinity", "-Infinity", "1e999"):
        content = (json.dumps({"query": query})[:-1] + ', "variables": {"input": {"eventId": '
                   f'"n", "userId": "u", "latitude": {literal}, "longitude": 0}}}}}}')
        response = await api.http.post("/graphql", content=content, headers={
            "content-type": "application/json",
            "Authorization": f"Bearer {token('svc', 'service')}"})
        assert response.status_code == 200, response.text
        assert codes(response.json()) == ["BAD_USER_INPUT"], (literal, response.text)
