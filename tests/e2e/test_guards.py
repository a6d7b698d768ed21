"""Query guards over HTTP: each refuses an over-limit operation with its own code and lets the
same operation through when the limit allows it; every response reports its cost."""

from __future__ import annotations

import time

import pytest

from tests.conftest import codes, token

DEEP = "{ mySegments { edges { node { passion { sharedInterests } } } } }"  # depth 4
ALIASED = "{ a: me { userId } b: me { userId } c: me { userId } }"  # three aliases
ME = "{ me { userId roles } }"  # seven tokens, cost 3
PAGE = ("query($n: Int) { mySegments(first: $n) { edges { node { viewerId } } } }")
BATCH = ("mutation($events: [EventInput!]!) { recordEvents(events: $events) "
         "{ eventId accepted duplicate } }")


def first_interaction(event_id: str) -> dict[str, object]:
    return {"firstInteraction": {"eventId": event_id, "viewerId": "v1", "creatorId": "c1"}}


# (setting, refusing limit, admitting limit, operation, variables, roles, code)
GUARDS = [
    ("audience_max_depth", 3, 4, DEEP, None, ("viewer",), "QUERY_TOO_DEEP"),
    ("audience_max_aliases", 2, 3, ALIASED, None, ("viewer",), "TOO_MANY_ALIASES"),
    ("audience_max_tokens", 6, 7, ME, None, ("viewer",), "TOO_MANY_TOKENS"),
    # 1 + 10 × (edges 1 + node (1 + viewerId 1)) = 31
    ("audience_max_cost", 30, 31, PAGE, {"n": 10}, ("viewer",), "MAX_COST_EXCEEDED"),
    # 1 + 2 events × 3 fields = 7: the size of a list argument multiplies the selection
    ("audience_max_cost", 6, 7, BATCH, {"events": [first_interaction("e1"),
                                                  first_interaction("e2")]},
     ("service",), "MAX_COST_EXCEEDED"),
]


@pytest.mark.parametrize(("setting", "refusing", "admitting", "query", "variables", "roles",
                          "code"), GUARDS, ids=[f"{g[0]}-{g[6]}" for g in GUARDS])
async def test_guard_refuses_over_the_limit_and_admits_at_it(make_api, services, setting,
                                                             refusing, admitting, query,
                                                             variables, roles, code):
    async with make_api(**{setting: refusing}) as api:
        refused = await api.post(query, variables, sub="u1", roles=roles)
    assert codes(refused) == [code], refused
    assert refused["data"] is None
    assert await services.ledger.count() == 0  # nothing ran

    async with make_api(**{setting: admitting}) as api:
        admitted = await api.post(query, variables, sub="u1", roles=roles)
    assert "errors" not in admitted, admitted
    assert admitted["data"]


async def test_cost_is_reported_on_success_and_on_refusal(make_api):
    async with make_api(audience_max_cost=30) as api:
        ok = await api.post(PAGE, {"n": 3}, sub="u1", roles=("viewer",))
        refused = await api.post(PAGE, {"n": 100}, sub="u1", roles=("viewer",))
    assert ok["extensions"]["cost"]["requestedQueryCost"] == 1 + 3 * 3
    assert ok["extensions"]["cost"]["maximumQueryCost"] == 30
    throttle = ok["extensions"]["cost"]["throttleStatus"]
    assert set(throttle) == {"maximumAvailable", "currentlyAvailable", "restoreRate"}
    assert refused["extensions"]["cost"]["requestedQueryCost"] == 1 + 100 * 3
    assert refused["errors"][0]["extensions"]["maximumCost"] == 30


async def test_cost_uses_the_schema_default_page_size(api):
    # mySegments(first: Int = 20): 1 + 20 × 3
    body = await api.post("{ mySegments { edges { node { viewerId } } } }", sub="u1",
                          roles=("viewer",))
    assert body["extensions"]["cost"]["requestedQueryCost"] == 61


async def test_every_graphql_response_carries_its_cost(api):
    for query in (ME, "{ me { ", "{ nope }"):
        body = await api.post(query, sub="u1", roles=("viewer",))
        assert "cost" in body["extensions"], (query, body)
    response = await api.http.post("/graphql", content=b"{oops",
                                   headers={"content-type": "application/json"})
    assert response.status_code == 400
    assert "cost" in response.json()["extensions"]


async def test_fragment_bomb_is_refused_before_validation_walks_it(api):
    # every fragment spreads the next one twice: 2^30 fields once expanded; strawberry's
    # depth and alias validators alone would take hours over it
    fragments = "".join(f"fragment F{i} on Query {{ ...F{i + 1} ...F{i + 1} }}\n"
                        for i in range(30))
    query = "{ ...F0 }\n" + fragments + "fragment F30 on Query { me { userId } }"
    started = time.perf_counter()
    body = await api.post(query, sub="u1", roles=("viewer",))
    assert codes(body) == ["MAX_COST_EXCEEDED"]
    assert time.perf_counter() - started < 2


async def test_nesting_beyond_the_parser_is_too_deep_not_a_crash(make_api):
    async with make_api(audience_max_tokens=100_000) as api:
        body = await api.post("{" + "a{" * 5000 + "b" + "}" * 5001, sub="u1", roles=())
    assert codes(body) == ["QUERY_TOO_DEEP"]


async def test_rate_limit_refuses_with_429_retry_after_and_keeps_principals_apart(make_api):
    async with make_api(audience_rate_limit_cost_per_minute=10) as api:
        # ME costs 3: three fit in a budget of 10, the fourth does not
        for _ in range(3):
            assert "errors" not in await api.post(ME, sub="u1", roles=("viewer",))
        response = await api.http.post("/graphql", json={"query": ME},
                                       headers={"Authorization": f"Bearer {token('u1')}"})
        assert response.status_code == 429
        body = response.json()
        assert codes(body) == ["RATE_LIMITED"]
        retry_after = body["errors"][0]["extensions"]["retryAfter"]
        assert isinstance(retry_after, int) and retry_after >= 1
        assert response.headers["retry-after"] == str(retry_after)
        assert body["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"] < 3
        # another user has a budget of their own
        assert "errors" not in await api.post(ME, sub="u2", roles=("viewer",))


async def test_unauthenticated_callers_spend_their_address_budget(make_api):
    async with make_api(audience_rate_limit_cost_per_minute=3) as api:
        first = await api.post(ME, sub=None)
        assert codes(first) == ["UNAUTHENTICATED"]  # charged all the same
        response = await api.http.post("/graphql", json={"query": ME})
        assert response.status_code == 429
        assert codes(response.json()) == ["RATE_LIMITED"]
        # a signed-in user on the same address is not affected
        assert "errors" not in await api.post(ME, sub="u1", roles=("viewer",))


async def test_introspection_can_be_switched_off(make_api):
    query = "{ __schema { queryType { name } } }"
    async with make_api(audience_introspection=False) as api:
        refused = await api.post(query, sub="u1", roles=())
        typename = await api.post("{ __typename }", sub="u1", roles=())
    assert set(codes(refused)) == {"INTROSPECTION_DISABLED"}
    assert typename["data"] == {"__typename": "Query"}
    async with make_api(audience_introspection=True) as api:
        admitted = await api.post(query, sub="u1", roles=())
    assert admitted["data"]["__schema"]["queryType"]["name"] == "Query"


async def test_zero_disables_a_limit(make_api):
    async with make_api(audience_max_cost=300) as api:
        refused = await api.post(PAGE, {"n": 100}, sub="u1", roles=("viewer",))
    assert codes(refused) == ["MAX_COST_EXCEEDED"]
    async with make_api(audience_max_cost=0, audience_rate_limit_cost_per_minute=0) as api:
        body = await api.post(PAGE, {"n": 100}, sub="u1", roles=("viewer",))
    assert "errors" not in body
    assert body["extensions"]["cost"]["maximumQueryCost"] is None
    assert body["extensions"]["cost"]["throttleStatus"] is None
