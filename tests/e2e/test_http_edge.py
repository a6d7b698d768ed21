"""GraphQL over HTTP as clients speak it: GET queries, media types, batches, CORS, headers."""

from __future__ import annotations

import json
import logging

import httpx
import pytest
from gql import Client, GraphQLRequest, gql
from gql.transport.exceptions import TransportQueryError
from gql.transport.httpx import HTTPXAsyncTransport

from api.edge import hashed_sub
from api.persisted_queries import sha256_of
from api.schema_export import ROOT
from tests.conftest import codes, token

GRAPHQL_RESPONSE = "application/graphql-response+json"
RECORD = ('mutation Record($id: ID!) { firstInteraction(input: {eventId: $id, '
          'viewerId: "v1", creatorId: "c1"}) { eventId accepted duplicate } }')


def bearer(sub: str = "u1", *roles: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token(sub, *roles)}"}


def gql_client(app, headers: dict[str, str]) -> Client:
    transport = HTTPXAsyncTransport(url="http://test/graphql",
                                    transport=httpx.ASGITransport(app=app), headers=headers)
    return Client(transport=transport)


# --- GET ---------------------------------------------------------------------------------------

async def test_a_query_runs_over_get_with_variables_and_operation_name(api):
    response = await api.http.get("/graphql", headers=bearer("u1", "viewer"), params={
        "query": "query A($skip: Boolean!) { me { userId roles @skip(if: $skip) } } "
                 "query B { __typename }",
        "operationName": "A", "variables": json.dumps({"skip": True})})
    assert response.status_code == 200, response.text
    assert response.json()["data"] == {"me": {"userId": "u1"}}


async def test_a_mutation_over_get_is_405_allowing_post_only(api, services):
    response = await api.http.get("/graphql", headers=bearer("svc", "service"),
                                  params={"query": RECORD, "variables": '{"id": "g1"}'})
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert codes(response.json()) == ["METHOD_NOT_ALLOWED"]
    assert await services.ledger.count() == 0


async def test_apollo_hashed_persisted_query_over_get(api):
    query = "query Me { me { userId } }"
    extensions = json.dumps({"persistedQuery": {"version": 1, "sha256Hash": sha256_of(query)}})
    first = await api.http.get("/graphql", headers=bearer(),
                               params={"extensions": extensions, "operationName": "Me"})
    assert first.status_code == 200
    assert codes(first.json()) == ["PERSISTED_QUERY_NOT_FOUND"]
    # Apollo then registers the text with POST and later sends the hash alone over GET
    registered = await api.http.post("/graphql", headers=bearer(), json={
        "query": query, "extensions": json.loads(extensions)})
    assert registered.json()["data"] == {"me": {"userId": "u1"}}
    again = await api.http.get("/graphql", headers=bearer("u2"),
                               params={"extensions": extensions, "operationName": "Me"})
    assert again.json()["data"] == {"me": {"userId": "u2"}}


async def test_browsers_get_graphiql_with_every_asset_served_here(api):
    page = await api.http.get("/graphql", headers={"Accept": "text/html,*/*;q=0.8"})
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    sources = [part.split('"')[0] for part in page.text.split('src="')[1:]]
    sources += [part.split('"')[0] for part in page.text.split('href="')[1:]
                if not part.startswith("data:")]
    assert sources and all(src.startswith("/static/") for src in sources), sources
    for src in sources:
        asset = await api.http.get(src)
        assert asset.status_code == 200, src
        assert asset.headers["x-content-type-options"] == "nosniff"


# --- media types -------------------------------------------------------------------------------

@pytest.mark.parametrize("query", ["{ me { ", "{ nope }", "query A { me { userId } } "
                                   "query B { me { userId } }"])
async def test_request_errors_are_400_for_graphql_response_json_and_200_for_json(api, query):
    strict = await api.http.post("/graphql", json={"query": query},
                                 headers={**bearer(), "Accept": GRAPHQL_RESPONSE})
    assert strict.status_code == 400, strict.text
    assert strict.headers["content-type"] == GRAPHQL_RESPONSE
    assert strict.json()["errors"]
    legacy = await api.http.post("/graphql", json={"query": query},
                                 headers={**bearer(), "Accept": "application/json"})
    assert legacy.status_code == 200
    assert legacy.headers["content-type"] == "application/json"
    assert legacy.json()["errors"]


async def test_field_errors_stay_200_under_graphql_response_json(api):
    response = await api.http.post("/graphql", json={"query": "{ me { userId } }"},
                                   headers={"Accept": GRAPHQL_RESPONSE})
    assert response.status_code == 200  # executed: the field refused, the request was fine
    assert codes(response.json()) == ["UNAUTHENTICATED"]


@pytest.mark.parametrize(("accept", "media"), [
    (None, "application/json"), ("*/*", "application/json"),
    ("application/json", "application/json"), (GRAPHQL_RESPONSE, GRAPHQL_RESPONSE),
    (f"{GRAPHQL_RESPONSE}, application/json;q=0.9", GRAPHQL_RESPONSE),
    (f"{GRAPHQL_RESPONSE};q=0.5, application/json", "application/json"),
])
async def test_the_response_media_type_follows_accept(api, accept, media):
    headers = {"Accept": accept} if accept else {}
    response = await api.http.post("/graphql", json={"query": "{ __typename }"},
                                   headers=headers)
    assert response.status_code == 200
    assert response.headers["content-type"] == media


async def test_several_operations_without_a_name_are_a_bad_request(api):
    body = await api.post("query A { me { userId } } query B { __typename }", sub="u1")
    assert codes(body) == ["BAD_REQUEST"]
    assert body["data"] is None


# --- real clients: gql -------------------------------------------------------------------------

async def test_gql_runs_queries_and_mutations(app):
    async with gql_client(app, bearer("svc", "service")) as session:
        result = await session.execute(GraphQLRequest(RECORD, variable_values={"id": "gql-1"}))
        assert result["firstInteraction"] == {"eventId": "gql-1", "accepted": True,
                                              "duplicate": False}
        assert (await session.execute(gql("{ me { userId } }")))["me"] == {"userId": "svc"}


async def test_gql_batch_runs_in_order_under_the_same_guards(app):
    async with gql_client(app, bearer("svc", "service")) as session:
        results = await session.execute_batch([
            GraphQLRequest(RECORD, variable_values={"id": "b-1"}),
            GraphQLRequest(RECORD, variable_values={"id": "b-1"}),  # sees the first: in order
            GraphQLRequest("{ me { userId } }"),
        ])
    assert [r["firstInteraction"]["duplicate"] for r in results[:2]] == [False, True]
    assert results[2] == {"me": {"userId": "svc"}}


async def test_each_batch_element_is_guarded_on_its_own(app):
    async with gql_client(app, {}) as session:  # no token: introspection only
        with pytest.raises(TransportQueryError) as refused:
            await session.execute_batch([GraphQLRequest("{ __typename }"),
                                         GraphQLRequest("{ me { userId } }")])
    assert refused.value.errors[0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_a_batch_reports_cost_per_operation(api):
    response = await api.http.post("/graphql", headers=bearer(), json=[
        {"query": "{ me { userId } }"}, {"query": "{ nope }"}])
    first, second = response.json()
    assert first["data"] == {"me": {"userId": "u1"}}
    assert first["extensions"]["cost"]["requestedQueryCost"] > 0
    assert codes(second) == ["GRAPHQL_VALIDATION_FAILED"]


# --- CORS and headers --------------------------------------------------------------------------

async def test_cors_preflight_and_request_from_an_allowed_origin(make_api):
    origin = "https://app.example"
    async with make_api(audience_cors_origins=f"{origin}, https://other.example") as api:
        preflight = await api.http.options("/graphql", headers={
            "Origin": origin, "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type"})
        assert preflight.status_code == 200
        assert preflight.headers["access-control-allow-origin"] == origin
        assert "authorization" in preflight.headers["access-control-allow-headers"].lower()
        assert "access-control-allow-credentials" not in preflight.headers
        response = await api.http.post("/graphql", json={"query": "{ __typename }"},
                                       headers={"Origin": origin})
        assert response.headers["access-control-allow-origin"] == origin
        stranger = await api.http.options("/graphql", headers={
            "Origin": "https://evil.example", "Access-Control-Request-Method": "POST"})
        assert "access-control-allow-origin" not in stranger.headers


async def test_no_cors_by_default(api):
    response = await api.http.post("/graphql", json={"query": "{ __typename }"},
                                   headers={"Origin": "https://app.example"})
    assert "access-control-allow-origin" not in response.headers


@pytest.mark.parametrize("path", ["/graphql", "/healthz", "/metrics", "/schema.graphql",
                                  "/nowhere", "/static/graphiql/init.js"])
async def test_security_headers_on_every_response(api, path):
    response = await api.http.get(path, headers={"Accept": "text/html"})
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "unsafe-eval" not in policy


# --- introspection off -------------------------------------------------------------------------

@pytest.mark.parametrize("query", [
    "{ mee { userId } }", "{ me { userid } }",
    '{ creatorAudience(creatorId: "c", bogus: 1) { withheld } }',
    "query($d: SegmentTyp) { me { userId } }",
])
async def test_with_introspection_off_no_error_suggests_names(make_api, query):
    async with make_api(audience_introspection=False) as api:
        body = await api.post(query, sub="u1", roles=("viewer",))
    messages = " ".join(e["message"] for e in body["errors"])
    assert body["errors"] and "Did you mean" not in messages, messages


async def test_with_introspection_on_suggestions_help(api):
    body = await api.post("{ mee { userId } }", sub="u1", roles=("viewer",))
    assert "Did you mean 'me'?" in body["errors"][0]["message"]


# --- access log --------------------------------------------------------------------------------

async def test_one_access_log_line_per_request(api, caplog):
    caplog.set_level(logging.INFO, logger="audience.access")
    await api.http.post("/graphql", json={"query": "query Mine { me { userId } }"},
                        headers=bearer("viewer-7", "viewer"))
    lines = [r for r in caplog.records if r.name == "audience.access"]
    assert len(lines) == 1
    line = lines[0]
    assert (line.method, line.path, line.status, line.operation) == (  # type: ignore[attr-defined]
        "POST", "/graphql", 200, "Mine")
    assert line.caller == hashed_sub("viewer-7")  # type: ignore[attr-defined]
    assert "viewer-7" not in line.getMessage() and line.duration_ms >= 0  # type: ignore[attr-defined]


# --- the schema as a file ----------------------------------------------------------------------

async def test_schema_graphql_is_served_as_committed(api):
    response = await api.http.get("/schema.graphql")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert response.text == (ROOT / "schema.graphql").read_text(encoding="utf-8")
    assert "type Query" in response.text
