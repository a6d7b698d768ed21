"""The HTTP surface: health, readiness, metrics, GraphiQL and authentication."""

from __future__ import annotations

from datetime import timedelta

from api.auth import mint_token
from tests.conftest import SECRET, codes


async def test_health_and_readiness_answer_without_a_token(api):
    assert (await api.http.get("/healthz")).status_code == 200
    assert (await api.http.get("/readyz")).status_code == 200


async def test_metrics_are_prometheus_text(api):
    await api.http.get("/healthz")
    response = await api.http.get("/metrics")
    assert response.status_code == 200
    assert "audience_http_requests_total" in response.text


async def test_graphiql_is_served_to_browsers(api):
    response = await api.http.get("/graphql", headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert "graphiql" in response.text.lower()


async def test_missing_token_is_unauthenticated(api):
    body = await api.post("{ me { userId } }", sub=None)
    assert codes(body) == ["UNAUTHENTICATED"]


async def test_bad_signature_is_unauthenticated(api):
    forged = mint_token("not-the-secret-but-just-as-long-as-the-real-one", "u1", ["admin"])
    body = await api.post("{ me { userId } }", sub=None,
                          headers={"Authorization": f"Bearer {forged}"})
    assert codes(body) == ["UNAUTHENTICATED"]


async def test_expired_token_is_unauthenticated(api):
    expired = mint_token(SECRET, "u1", ["viewer"], ttl=timedelta(seconds=-5))
    body = await api.post("{ me { userId } }", sub=None,
                          headers={"Authorization": f"Bearer {expired}"})
    assert codes(body) == ["UNAUTHENTICATED"]
    assert "expired" in body["errors"][0]["message"].lower()


async def test_signed_in_user_sees_own_identity(api):
    body = await api.post("{ me { userId roles } }", sub="u1", roles=("viewer", "creator"))
    assert body["data"]["me"] == {"userId": "u1", "roles": ["creator", "viewer"]}


async def test_syntax_errors_have_a_code_and_no_trace(api):
    body = await api.post("{ me { ", sub="u1", roles=())
    assert codes(body) == ["GRAPHQL_PARSE_FAILED"]
    assert "Traceback" not in str(body)


async def test_every_response_carries_a_request_id(api):
    response = await api.http.post("/graphql", json={"query": "{ me { userId } }"})
    assert response.headers["x-request-id"]
    assert response.json()["errors"][0]["extensions"]["requestId"] == (
        response.headers["x-request-id"])
