"""Error discipline: every error has a code, internal errors are masked and logged with the
request id the response carries, and no request, however malformed, gets a 500."""

from __future__ import annotations

import logging

import pytest

from schema.me import Me
from tests.conftest import codes, token

JSON = {"content-type": "application/json"}


async def test_a_failing_resolver_is_masked_and_logged_with_the_request_id(api, monkeypatch,
                                                                           caplog):
    def explode(cls, principal):
        raise RuntimeError("connection string mongodb://admin:hunter2@db")

    monkeypatch.setattr(Me, "from_domain", classmethod(explode))
    caplog.set_level(logging.ERROR, logger="audience.errors")
    response = await api.http.post("/graphql", json={"query": "{ me { userId } }"},
                                   headers={"Authorization": f"Bearer {token('u1')}"})
    assert response.status_code == 200
    body = response.json()
    [error] = body["errors"]
    assert error["message"] == "Internal server error"
    assert error["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    assert "hunter2" not in response.text and "Traceback" not in response.text
    request_id = response.headers["x-request-id"]
    assert error["extensions"]["requestId"] == request_id
    logged = [r for r in caplog.records if r.name == "audience.errors"]
    assert [r.request_id for r in logged] == [request_id]  # type: ignore[attr-defined]
    assert "hunter2" in str(logged[0].exc_info[1])  # the log keeps what the client may not see


# (what, method, body, headers, status)
MALFORMED = [
    ("not JSON", "POST", b"{query", JSON, 400),
    ("not UTF-8", "POST", b'{"query": "\xff\xfe"}', JSON, 400),
    ("JSON nested past the recursion limit", "POST", b"[" * 200_000, JSON, 400),
    ("an integer longer than Python parses", "POST",
     b'{"query": "{ me { userId } }", "variables": {"n": ' + b"9" * 10_000 + b"}}", JSON, 400),
    ("a JSON string", "POST", b'"{ me { userId } }"', JSON, 400),
    ("a JSON number", "POST", b"42", JSON, 400),
    ("JSON null", "POST", b"null", JSON, 400),
    ("an empty batch", "POST", b"[]", JSON, 400),
    ("a batch of numbers", "POST", b"[1, 2]", JSON, 400),
    ("a batch over the limit", "POST",
     b"[" + b",".join([b'{"query": "{ __typename }"}'] * 11) + b"]", JSON, 400),
    ("an empty body", "POST", b"", JSON, 400),
    ("no query", "POST", b'{"variables": {}}', JSON, 400),
    ("an empty query", "POST", b'{"query": ""}', JSON, 400),
    ("a query that is not a string", "POST", b'{"query": 5}', JSON, 400),
    ("variables that are not an object", "POST", b'{"query": "{ me { userId } }", '
                                                 b'"variables": [1]}', JSON, 400),
    ("an operation name that is not a string", "POST",
     b'{"query": "{ me { userId } }", "operationName": ["x"]}', JSON, 400),
    ("an operation name that names nothing", "POST",
     b'{"query": "{ me { userId } }", "operationName": "Other"}', JSON, 400),
    ("extensions that are not an object", "POST",
     b'{"query": "{ me { userId } }", "extensions": "x"}', JSON, 400),
    ("a form body", "POST", b"query=%7B+me+%7B+userId+%7D+%7D",
     {"content-type": "application/x-www-form-urlencoded"}, 415),
    ("a text body", "POST", b"{ me { userId } }", {"content-type": "text/plain"}, 415),
    ("no content type", "POST", b'{"query": "{ me { userId } }"}', {}, 415),
    ("a multipart upload", "POST", b"--x--", {"content-type": "multipart/form-data; boundary=x"},
     415),
    ("a GET with a mutation", "GET", None, {"accept": "application/json"}, 405),
]


@pytest.mark.parametrize(("method", "content", "headers", "status"),
                         [m[1:] for m in MALFORMED], ids=[m[0] for m in MALFORMED])
async def test_malformed_requests_get_a_json_error_with_a_code(api, method, content, headers,
                                                               status):
    if method == "GET":
        response = await api.http.get("/graphql", params={"query": "mutation { x }"},
                                      headers=headers)
    else:
        response = await api.http.post("/graphql", content=content, headers=headers)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert codes(body) and "INTERNAL_SERVER_ERROR" not in codes(body)
    assert body["errors"][0]["extensions"]["requestId"] == response.headers["x-request-id"]


async def test_a_declared_oversized_body_is_refused_unread(api):
    response = await api.http.post("/graphql", content=b" " * ((1 << 20) + 1), headers=JSON)
    assert response.status_code == 413
    assert codes(response.json()) == ["PAYLOAD_TOO_LARGE"]


async def test_a_streamed_oversized_body_is_cut_off(api):
    async def chunks():  # no Content-Length: the limit must count what arrives
        yield b'{"query": "'
        for _ in range(80):
            yield b" " * 16_384
        yield b'{ me { userId } }"}'

    response = await api.http.post("/graphql", content=chunks(), headers=JSON)
    assert response.status_code == 413
    assert codes(response.json()) == ["PAYLOAD_TOO_LARGE"]


async def test_a_body_under_the_limit_is_fine(api):
    padded = '{"query": "' + " " * 500_000 + '{ me { userId } }"}'
    response = await api.http.post("/graphql", content=padded.encode(), headers={
        **JSON, "Authorization": f"Bearer {token('u1')}"})
    assert response.status_code == 200
    assert response.json()["data"] == {"me": {"userId": "u1"}}


async def test_mutations_over_get_are_refused_too(api):
    response = await api.http.get("/graphql", params={
        "query": 'mutation { firstInteraction(input: {eventId: "e", viewerId: "v", '
                 'creatorId: "c"}) { eventId } }'})
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"


async def test_errors_from_the_schema_all_carry_codes(api):
    for query in ("{ me { ", "{ nope }", "query($x: Int!) { me { userId } }",
                  "query A { me { userId } } query A { me { userId } }", "subscription { x }"):
        body = await api.post(query, sub="u1", roles=())
        assert body["errors"] and all(codes(body)), (query, body)
        assert "INTERNAL_SERVER_ERROR" not in codes(body), (query, body)
