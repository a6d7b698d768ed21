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

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.graphql import nodes

from tests.conftest import codes, token

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
    roles = data.draw(st.sampled_from([ROLES, ("viewer",), ()]), label="roles")
    response = await fuzz_api.http.post(
        "/graphql", json={"query": case.body},
        headers={"Authorization": f"Bearer {token('fuzzer', *roles)}"})
    assert response.status_code < 500, (case.body, response.text)
    body = response.json()
    assert all(codes(body)), (case.body, body)
    assert "INTERNAL_SERVER_ERROR" not in codes(body), (case.body, body)
