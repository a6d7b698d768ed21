"""Abuse is bounded (contract §2, §7, §8; issue 11 item 6): persisted-query registration,
introspection cost without a token, and date ranges, each through /graphql with real tokens."""

from __future__ import annotations

import hashlib
import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from graphql import get_introspection_query

from tests.conftest import codes, token
from tests.helpers import INPUT_TYPES

QUERY = "query Me { me { userId } }"
_ids = itertools.count()


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def apq(query: str | None, sha: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"extensions": {"persistedQuery": {
        "version": 1, "sha256Hash": sha or sha256(query or "")}}}
    if query is not None:
        body["query"] = query
    return body


def bearer(sub: str, *roles: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token(sub, *roles)}"}


# --- persisted queries -------------------------------------------------------------------------

async def test_a_caller_without_a_token_registers_nothing(api, store):
    text = "{ __typename }"
    ran = await api.http.post("/graphql", json=apq(text))
    assert ran.json()["data"] == {"__typename": "Query"}  # it runs...
    again = await api.http.post("/graphql", json=apq(None, sha256(text)))
    assert codes(again.json()) == ["PERSISTED_QUERY_NOT_FOUND"]  # ...but is not kept
    assert await store.db["persisted_queries"].count_documents({}) == 0


async def test_a_bad_token_registers_nothing(api, store):
    text = "{ __typename }"
    await api.http.post("/graphql", json=apq(text), headers={"Authorization": "Bearer junk"})
    assert await store.db["persisted_queries"].count_documents({}) == 0


async def test_a_hash_registered_by_one_caller_runs_for_another(api):
    await api.http.post("/graphql", json=apq(QUERY), headers=bearer("u1", "viewer"))
    other = await api.http.post("/graphql", json=apq(None, sha256(QUERY)),
                                headers=bearer("u2", "viewer"))
    assert other.json()["data"] == {"me": {"userId": "u2"}}
    # and a caller the query's fields refuse is refused as if it had sent the text
    anonymous = await api.http.post("/graphql", json=apq(None, sha256(QUERY)))
    assert codes(anonymous.json()) == ["UNAUTHENTICATED"]


async def test_registrations_are_capped_per_caller(make_api, store):
    async with make_api(audience_persisted_queries_per_caller=3) as api:
        for n in range(3):
            text = f"query Q{n} {{ me {{ userId }} }}"
            kept = await api.http.post("/graphql", json=apq(text), headers=bearer("u1"))
            assert kept.json()["data"] == {"me": {"userId": "u1"}}
        fourth = "query Q3 { me { userId } }"
        refused = await api.http.post("/graphql", json=apq(fourth), headers=bearer("u1"))
        assert codes(refused.json()) == ["PERSISTED_QUERY_LIMIT_EXCEEDED"]
        assert refused.json()["data"] is None  # refused before it ran
        # the same text as a plain request still runs; another caller still registers
        plain = await api.post(fourth, sub="u1", roles=())
        assert plain["data"] == {"me": {"userId": "u1"}}
        other = await api.http.post("/graphql", json=apq(fourth), headers=bearer("u2"))
        assert other.json()["data"] == {"me": {"userId": "u2"}}
        # re-sending a text already known costs nothing against the cap
        known = await api.http.post("/graphql", json=apq("query Q0 { me { userId } }"),
                                    headers=bearer("u1"))
        assert known.json()["data"] == {"me": {"userId": "u1"}}
    assert await store.db["persisted_queries"].count_documents({"owner": "u1"}) == 3
    assert await store.db["persisted_queries"].count_documents({"owner": "u2"}) == 1


# --- introspection -----------------------------------------------------------------------------

def aliased_schemas(n: int, selection: str = "queryType { name }") -> str:
    return "{ " + " ".join(f"s{i}: __schema {{ {selection} }}" for i in range(n)) + " }"


async def test_thirty_aliased_schema_selections_without_a_token_are_refused(api):
    response = await api.http.post("/graphql", json={"query": aliased_schemas(30)})
    body = response.json()
    assert codes(body) == ["UNAUTHENTICATED"]
    assert body["data"] is None  # refused before execution
    assert body["extensions"]["cost"]["requestedQueryCost"] > 300
    assert len(response.content) < 2_000


async def test_thirty_aliased_full_introspections_are_refused_even_with_a_token(api):
    standard = get_introspection_query()
    fragments = standard[standard.index("fragment"):]
    query = aliased_schemas(30, "types { ...FullType }") + "\n" + fragments
    for headers, code in (({}, "UNAUTHENTICATED"), (bearer("u1", "viewer"), "MAX_COST_EXCEEDED")):
        body = (await api.http.post("/graphql", json={"query": query}, headers=headers)).json()
        assert body["data"] is None
        assert codes(body) == [code], body
        assert body["extensions"]["cost"]["requestedQueryCost"] > 5000


async def test_one_standard_introspection_runs_without_a_token(api):
    body = (await api.http.post("/graphql", json={"query": get_introspection_query()})).json()
    assert not body.get("errors"), body
    assert body["data"]["__schema"]["queryType"]["name"] == "Query"
    assert body["extensions"]["cost"]["requestedQueryCost"] <= 300


async def test_introspection_is_counted_by_the_cost_guard(api):
    body = (await api.http.post("/graphql", json={"query": aliased_schemas(2)},
                                headers=bearer("u1"))).json()
    one = (await api.http.post("/graphql", json={"query": aliased_schemas(1)},
                               headers=bearer("u1"))).json()
    assert body["extensions"]["cost"]["requestedQueryCost"] == (
        2 * one["extensions"]["cost"]["requestedQueryCost"]) > 0


# --- date ranges -------------------------------------------------------------------------------

def _transaction(occurred_at: str) -> dict[str, Any]:
    return {"eventId": f"tx-{next(_ids)}", "viewerId": "v1", "creatorId": "c1", "tokens": 5,
            "kind": "chat_payment", "occurredAt": occurred_at}


def _meeting(meeting_date: str) -> dict[str, Any]:
    return {"eventId": f"mb-{next(_ids)}", "bookingId": f"b{next(_ids)}", "viewerId": "v1",
            "creatorId": "c1", "tokens": 100, "meetingDate": meeting_date}


async def _record(api: Any, name: str, value: dict[str, Any]) -> dict[str, Any]:
    query = (f"mutation($input: {INPUT_TYPES[name]}!) {{ {name}(input: $input) "
             "{ eventId accepted } }")
    return await api.as_service(query, {"input": value})


def _iso(delta: timedelta) -> str:
    return (datetime.now(UTC) + delta).isoformat()


@pytest.mark.parametrize("occurred_at", [
    "0001-01-01T00:00:00Z", "0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59Z",
    "9999-12-31T23:59:59-01:00", "1999-12-31T23:59:59Z", "2000-01-01T00:30:00+01:00"])
async def test_occurred_at_outside_the_range_is_bad_user_input(api, occurred_at):
    body = await _record(api, "transactionCompleted", _transaction(occurred_at))
    assert codes(body) == ["BAD_USER_INPUT"], body
    assert "eventId" not in body["errors"][0]["message"]


async def test_occurred_at_in_the_future_is_bad_user_input(api):
    for delta in (timedelta(days=366), timedelta(days=3650)):
        body = await _record(api, "transactionCompleted", _transaction(_iso(delta)))
        assert codes(body) == ["BAD_USER_INPUT"], body
    assert "eventId" not in body["errors"][0]["message"]


async def test_occurred_at_in_range_is_accepted(api):
    for when in ("2000-01-01T00:00:00Z", _iso(-timedelta(days=3)), _iso(timedelta(hours=1)),
                 _iso(timedelta(days=364))):
        body = await _record(api, "transactionCompleted", _transaction(when))
        assert not body.get("errors"), body
        assert body["data"]["transactionCompleted"]["accepted"] is True, body


@pytest.mark.parametrize("meeting_date", [
    "0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00", "1999-06-01T00:00:00Z"])
async def test_meeting_date_outside_the_range_is_bad_user_input(api, meeting_date):
    body = await _record(api, "meetingBooked", _meeting(meeting_date))
    assert codes(body) == ["BAD_USER_INPUT"], body
    assert "eventId" not in body["errors"][0]["message"]


async def test_meeting_dates_run_two_years_ahead(api):
    near = await _record(api, "meetingBooked", _meeting(_iso(timedelta(days=700))))
    assert not near.get("errors"), near
    assert near["data"]["meetingBooked"]["accepted"] is True, near
    far = await _record(api, "meetingBooked", _meeting(_iso(timedelta(days=740))))
    assert codes(far) == ["BAD_USER_INPUT"], far


async def test_batched_events_with_out_of_range_dates_are_bad_user_input(api):
    query = ("mutation($events: [EventInput!]!) { recordEvents(events: $events) "
             "{ eventId accepted } }")
    body = await api.as_service(query, {"events": [
        {"transactionCompleted": _transaction("9999-12-31T23:59:59-01:00")}]})
    assert codes(body) == ["BAD_USER_INPUT"], body
    assert "eventId" not in body["errors"][0]["message"]
