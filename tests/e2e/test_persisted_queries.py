"""Automatic persisted queries, in Apollo's protocol, over HTTP and through a real client."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import httpx
from gql import Client, GraphQLRequest
from gql.transport.exceptions import TransportQueryError
from gql.transport.httpx import HTTPXAsyncTransport

from tests.conftest import codes, token

QUERY = "query Me { me { userId } }"


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def persisted(sha: str, version: int = 1) -> dict[str, Any]:
    return {"persistedQuery": {"version": version, "sha256Hash": sha}}


async def send(http: httpx.AsyncClient, body: dict[str, Any]) -> httpx.Response:
    return await http.post("/graphql", json=body,
                           headers={"Authorization": f"Bearer {token('u1', 'viewer')}"})


async def test_unknown_hash_is_answered_the_way_apollo_clients_expect(api):
    response = await send(api.http, {"extensions": persisted(sha256(QUERY))})
    assert response.status_code == 200
    [error] = response.json()["errors"]
    assert error["message"] == "PersistedQueryNotFound"
    assert error["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"


async def test_registered_query_runs_from_its_hash_alone(api):
    sha = sha256(QUERY)
    registered = await send(api.http, {"query": QUERY, "extensions": persisted(sha)})
    assert registered.json()["data"] == {"me": {"userId": "u1"}}
    again = await send(api.http, {"extensions": persisted(sha), "operationName": "Me"})
    assert again.json()["data"] == {"me": {"userId": "u1"}}


async def test_hash_that_does_not_match_the_text_is_bad_user_input(api):
    response = await send(api.http, {"query": QUERY, "extensions": persisted("0" * 64)})
    assert codes(response.json()) == ["BAD_USER_INPUT"]
    assert "does not match" in response.json()["errors"][0]["message"]


async def test_malformed_persisted_query_extensions_are_bad_user_input(api):
    for extension in (persisted(sha256(QUERY), version=2), persisted("not-a-hash"),
                      {"persistedQuery": "yes"}):
        response = await send(api.http, {"extensions": extension})
        assert response.status_code == 200
        assert codes(response.json()) == ["BAD_USER_INPUT"], extension


async def test_text_that_does_not_validate_is_not_kept(api):
    bad = "{ me { nope } }"
    response = await send(api.http, {"query": bad, "extensions": persisted(sha256(bad))})
    assert codes(response.json()) == ["GRAPHQL_VALIDATION_FAILED"]
    response = await send(api.http, {"extensions": persisted(sha256(bad))})
    assert codes(response.json()) == ["PERSISTED_QUERY_NOT_FOUND"]


async def test_processes_share_registered_queries_through_the_store(make_api, store):
    sha = sha256(QUERY)
    async with make_api() as first:
        await send(first.http, {"query": QUERY, "extensions": persisted(sha)})
    assert await store.db["persisted_queries"].count_documents({"_id": sha}) == 1
    async with make_api() as second:  # a fresh in-process cache
        response = await send(second.http, {"extensions": persisted(sha)})
    assert response.json()["data"] == {"me": {"userId": "u1"}}


class HashOnlyRequest(GraphQLRequest):
    """gql always sends the text; Apollo's first attempt sends only the hash."""

    @property
    def payload(self) -> dict[str, Any]:
        payload = dict(super().payload)
        payload.pop("query", None)
        return payload


async def execute_persisted(session: Any, query: str,
                            variables: dict[str, Any] | None = None) -> dict[str, Any]:
    """What Apollo's persisted-query link does: hash first, the text only when asked for."""
    full = GraphQLRequest(query, variable_values=variables)
    # the hash is of the text as sent, which gql prints from its parsed document
    extensions = persisted(sha256(full.payload["query"]))
    try:
        return await session.execute(HashOnlyRequest(full, extensions=extensions))
    except TransportQueryError as exc:
        if exc.errors is None or exc.errors[0].get("message") != "PersistedQueryNotFound":
            raise
    return await session.execute(GraphQLRequest(full, extensions=extensions))


async def test_round_trip_with_the_gql_client(app):
    sent: list[dict[str, Any]] = []

    async def record(request: httpx.Request) -> None:
        sent.append(json.loads(request.content))

    def client() -> Client:
        transport = HTTPXAsyncTransport(
            url="http://test/graphql", transport=httpx.ASGITransport(app=app),
            headers={"Authorization": f"Bearer {token('u1', 'viewer')}"},
            event_hooks={"request": [record]})
        return Client(transport=transport)

    async with client() as session:
        assert await execute_persisted(session, QUERY) == {"me": {"userId": "u1"}}
    assert ["query" in body for body in sent] == [False, True]  # miss, then registration

    sent.clear()
    async with client() as session:
        assert await execute_persisted(session, QUERY) == {"me": {"userId": "u1"}}
    assert ["query" in body for body in sent] == [False]  # the hash alone was enough
