"""Schemathesis fuzzing of the whole GraphQL schema: no generated operation, from any root
field, may make the server fail (a 5xx, or an error coded INTERNAL_SERVER_ERROR).

Schemathesis loads the schema from the running app's introspection and generates the
operations; they are sent with httpx on the test's own event loop. (Schemathesis' own ASGI
transport runs the app in a thread of its own with a second lifespan that lasts until the
interpreter exits, which would not share this test's store.) The run is bounded by
``max_examples`` and takes a few seconds.
"""

from __future__ import annotations

from typing import Any

import jwt
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.graphql import nodes

from tests.conftest import SECRET, codes, token

ROLES = ("service", "admin", "safety_team", "creator", "viewer")
#: scalars schemathesis generates itself (GraphQL's, and its extra ones)
KNOWN_SCALARS = {"String", "Int", "Float", "Boolean", "ID", "Date", "Time", "DateTime", "IP",
                 "IPv4", "IPv6", "BigInt", "Long", "UUID"}


@pytest.fixture
async def fuzz_api(make_api):
    # a budget no fuzz run can spend: rate limiting would only hide what lies behind it
    async with make_api(audience_rate_limit_cost_per_minute=1_000_000_000) as api:
        yield api


@pytest.fixture
async def operations(fuzz_api) -> list[tuple[str, Any]]:
    """(label, case strategy) for every root field, from the app's own introspection."""
    response = await fuzz_api.http.post(
        "/graphql", json={"query": schemathesis.graphql.loaders.get_introspection_query()},
        headers={"Authorization": f"Bearer {token('fuzzer', *ROLES)}"})
    introspection = response.json()
    for type_ in introspection["data"]["__schema"]["types"]:
        # a scalar another part of the schema adds later gets strings rather than a crash
        if type_["kind"] == "SCALAR" and type_["name"] not in KNOWN_SCALARS:
            schemathesis.graphql.scalar(type_["name"], st.text(max_size=20).map(nodes.String))
    schema = schemathesis.graphql.from_dict(introspection)
    found = [result.ok() for result in schema.get_all_operations()]
    assert len(found) >= 10
    return [(operation.label, operation.as_strategy()) for operation in found]


@settings(max_examples=150, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
async def test_generated_operations_never_fail_on_the_server(fuzz_api, operations, data):
    label, strategy = data.draw(st.sampled_from(operations), label="operation")
    case = data.draw(strategy, label=label)
    roles = data.draw(st.sampled_from([ROLES, ("viewer",), (), None]), label="roles")
    # None: no token at all, the anonymous path (cost-capped introspection only)
    headers = {} if roles is None else {"Authorization": f"Bearer {token('fuzzer', *roles)}"}
    response = await fuzz_api.http.post("/graphql", json={"query": case.body}, headers=headers)
    assert response.status_code < 500, (case.body, response.text)
    body = response.json()
    assert all(codes(body)), (case.body, body)
    assert "INTERNAL_SERVER_ERROR" not in codes(body), (case.body, body)
    if roles is None:  # nothing but introspection runs without a token
        assert not any(value is not None for value in (body.get("data") or {}).values()), body


@settings(max_examples=60, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(claims=st.fixed_dictionaries({}, optional={
    "sub": st.one_of(st.text(max_size=12), st.integers(), st.none(), st.lists(st.text())),
    "roles": st.one_of(st.lists(st.sampled_from([*ROLES, "root", ""])), st.text(max_size=8),
                       st.lists(st.lists(st.sampled_from(ROLES), max_size=2), max_size=2)),
    "exp": st.one_of(st.integers(min_value=-(2**40), max_value=2**40), st.text(max_size=4)),
}))
async def test_any_signed_claims_never_fail_on_the_server(fuzz_api, claims):
    signed = jwt.encode(claims, SECRET, algorithm="HS256")
    response = await fuzz_api.http.post("/graphql", json={"query": "{ me { userId roles } }"},
                                        headers={"Authorization": f"Bearer {signed}"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert codes(body) in ([], ["UNAUTHENTICATED"]), (claims, body)
