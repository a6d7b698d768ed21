"""The ``segmentChanged`` subscription: a real uvicorn server on a free port, a real
graphql-transport-ws client (gql's websockets transport), changes triggered by events."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import uvicorn
from gql import Client, GraphQLRequest, gql
from gql.transport.exceptions import TransportConnectionFailed, TransportQueryError
from gql.transport.websockets import WebsocketsTransport

from api.app import create_app
from tests.conftest import token

SUBSCRIPTION = ("subscription($a: String) { segmentChanged(after: $a) { id viewerId creatorId "
                "dimension from to cursor } }")
SUBSCRIBE = gql(SUBSCRIPTION)
FEED = "{ segmentChanges(first: 100) { pageInfo { endCursor } } }"
DRAIN = "mutation { processSegmentQueue(batchSize: 1000) { processed } }"
TX = ("mutation($input: TransactionCompletedInput!) { transactionCompleted(input: $input) "
      "{ accepted } }")


@dataclass
class LiveServer:
    port: int
    http: httpx.AsyncClient

    def transport(self, sub: str, *roles: str, payload: dict[str, Any] | None = None
                  ) -> WebsocketsTransport:
        init = payload if payload is not None else {
            "Authorization": f"Bearer {token(sub, *roles)}"}
        return WebsocketsTransport(url=f"ws://127.0.0.1:{self.port}/graphql",
                                   init_payload=init,
                                   subprotocols=[WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL])

    async def post(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        bearer = f"Bearer {token('svc', 'service')}"
        response = await self.http.post("/graphql", json={"query": query,
                                                          "variables": variables or {}},
                                        headers={"Authorization": bearer})
        body = response.json()
        assert not body.get("errors"), body
        return dict(body["data"])

    async def spend(self, event_id: str, viewer: str, tokens: int) -> None:
        """A purchase, then its queued recomputation run now (the worker batches it later)."""
        await self.post(TX, {"input": {"eventId": event_id, "viewerId": viewer,
                                       "creatorId": "c", "tokens": tokens, "kind": "tip"}})
        await self.post(DRAIN)

    async def end_cursor(self) -> str:
        return str((await self.post(FEED))["segmentChanges"]["pageInfo"]["endCursor"])


@pytest.fixture
async def live(settings, store) -> AsyncIterator[LiveServer]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))  # a free port, never a fixed one
    port = sock.getsockname()[1]
    # As deployed on the embedded store: the queue worker runs inside the server process.
    app = create_app(settings.model_copy(update={"audience_inline_worker": True}), store=store)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning",
                                           lifespan="on", ws="websockets-sansio"))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    for _ in range(1000):  # uvicorn offers no event for "listening"
        if server.started:
            break
        await asyncio.sleep(0.01)
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
            yield LiveServer(port, http)
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 10)
        sock.close()


async def test_a_subscriber_receives_the_change_an_event_triggers(live):
    await live.spend("e1", "v-before", 100)  # something in the log to resume after
    cursor = await live.end_cursor()
    async with Client(transport=live.transport("ops", "safety_team")) as session:
        stream = session.subscribe(GraphQLRequest(SUBSCRIPTION, variable_values={"a": cursor}))
        first = asyncio.ensure_future(anext(stream))
        await live.spend("e2", "v-live", 100)
        change = (await asyncio.wait_for(first, 10))["segmentChanged"]
        assert change["viewerId"] == "v-live" and change["creatorId"] == "c"
        assert change["dimension"] == "BUDGET" and change["from"] is None
        assert change["to"] == "LOW"
        rest = [(await asyncio.wait_for(anext(stream), 10))["segmentChanged"]["dimension"]
                for _ in range(5)]
        assert rest == ["INTENT", "PROXIMITY", "SHARED_INTERESTS", "VISUAL_ATTRACTION",
                        "LOYAL_FOLLOWER"]
        await live.spend("e3", "v-live", 6_000)
        moved = (await asyncio.wait_for(anext(stream), 10))["segmentChanged"]
        assert (moved["from"], moved["to"]) == ("LOW", "MID")
        await stream.aclose()


async def test_the_service_role_may_subscribe_from_now(live):
    async with Client(transport=live.transport("svc", "service")) as session:
        stream = session.subscribe(SUBSCRIBE)
        first = asyncio.ensure_future(anext(stream))
        # The subscription starts at the head of the log once the server has it; keep
        # sending until the first change arrives (each event is a new pair).
        for i in range(50):
            await live.spend(f"n{i}", f"v{i}", 100)
            done, _ = await asyncio.wait({first}, timeout=0.2)
            if done:
                break
        change = first.result()["segmentChanged"]
        assert change["viewerId"].startswith("v") and change["from"] is None
        await stream.aclose()


@pytest.mark.parametrize("roles", [("viewer",), ("creator",), ("admin",)])
async def test_roles_not_allowed_are_forbidden(live, roles):
    async with Client(transport=live.transport("u", *roles)) as session:
        with pytest.raises(TransportQueryError) as refused:
            async for _ in session.subscribe(SUBSCRIBE):
                pass
    assert refused.value.errors[0]["extensions"]["code"] == "FORBIDDEN"


@pytest.mark.parametrize("payload", [{}, {"Authorization": "Bearer not-a-jwt"},
                                     {"Authorization": 7}])
async def test_a_connection_without_a_valid_token_is_refused(live, payload):
    transport = live.transport("u", payload=payload)
    with pytest.raises(TransportConnectionFailed) as refused:
        async with Client(transport=transport) as session:
            async for _ in session.subscribe(SUBSCRIBE):
                pass
    assert close_code(refused.value) == 4403  # strawberry's "Forbidden" on connection_init


def close_code(error: BaseException | None) -> int | None:
    """The WebSocket close code the server sent, found along the exception's causes."""
    while error is not None:
        received = getattr(error, "rcvd", None)
        if received is not None:
            return int(received.code)
        error = error.__cause__ or error.__context__
    return None
