"""GraphQL overhead: the same read through ``/graphql`` versus a plain Starlette JSON handler.

Both paths decode the same JWT and call the same store and domain code
(``SegmentRepository.page_for_viewer`` → ``AudienceSegment.from_domain`` fields) for a viewer
with 50 segments; the ratio of their mean latencies is GraphQL's cost (parsing, validation,
guards, field resolution, serialisation). Run: ``.venv/bin/python bench/overhead.py``.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import time
from datetime import UTC, datetime
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from api.app import create_app
from api.auth import mint_token, principal_from_header
from api.bootstrap import bootstrap
from api.settings import Settings
from domain.events import EventType, parse_event
from services.container import Services
from store.database import Store

SECRET = "bench-secret-bench-secret-bench-secret"
VIEWER = "viewer-bench"
SEGMENTS = 50
ROUNDS = int(os.environ.get("ROUNDS", "400"))
#: page sizes to compare (BENCH_SIZES=1 profiles only the one-node case)
SIZES = tuple(int(n) for n in os.environ.get("BENCH_SIZES", "1,10,50").split(","))

QUERY = """query($first: Int) { mySegments(first: $first) { edges { node {
  viewerId creatorId budget intent proximity lastUpdated
  passion { sharedInterests visualAttraction loyalFollower loyaltyScore } } } } }"""


def plain_app(services: Services) -> Starlette:
    """The same read without GraphQL: JWT → repository → the same fields as JSON."""

    async def my_segments(request: Request) -> JSONResponse:
        principal = principal_from_header(request.headers.get("authorization"), SECRET)
        first = int((await request.json()).get("first", 20))
        rows = await services.segments.segments.page_for_viewer(principal.sub, None, first)
        return JSONResponse({"edges": [{"node": {
            "viewerId": s.viewer_id, "creatorId": s.creator_id, "budget": s.budget.value,
            "intent": s.intent.value, "proximity": s.proximity.value,
            "lastUpdated": s.last_updated.isoformat(),
            "passion": {"sharedInterests": s.passion.shared_interests,
                        "visualAttraction": s.passion.visual_attraction,
                        "loyalFollower": s.passion.loyal_follower,
                        "loyaltyScore": s.passion.loyalty_score}}} for s in rows]})

    return Starlette(routes=[Route("/plain", my_segments, methods=["POST"])])


async def timed(client: httpx.AsyncClient, url: str, body: dict[str, Any],
                headers: dict[str, str]) -> list[float]:
    samples = []
    for _ in range(ROUNDS):
        started = time.perf_counter()
        response = await client.post(url, json=body, headers=headers)
        samples.append(time.perf_counter() - started)
        assert response.status_code == 200, response.text
    return samples


async def main() -> None:
    store = Store.open(None, "bench_overhead")
    settings = Settings(audience_jwt_secret=SECRET, audience_demo=False,
                        audience_inline_worker=False,
                        audience_rate_limit_cost_per_minute=10**9)  # measure, not throttle
    app = create_app(settings, store=store)
    services = bootstrap(store)
    now = datetime.now(UTC)
    async with app.router.lifespan_context(app):
        for i in range(SEGMENTS):
            await services.ingestion.record(parse_event(
                EventType.CHAT_COMPLETED, f"e{i}", now,
                {"chat_id": f"chat{i}", "viewer_id": VIEWER, "creator_id": f"creator-{i:03d}",
                 "tokens": 10, "message_count": 3}, now=now))
        headers = {"Authorization": f"Bearer {mint_token(SECRET, VIEWER, ['viewer'])}"}
        gql = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://b")
        plain = httpx.AsyncClient(transport=httpx.ASGITransport(app=plain_app(services)),
                                  base_url="http://b")
        async with gql, plain:
            lines = []
            for first in SIZES:
                body = {"query": QUERY, "variables": {"first": first}}
                check = (await gql.post("/graphql", json=body, headers=headers)).json()
                assert len(check["data"]["mySegments"]["edges"]) == first, check
                await timed(gql, "/graphql", body, headers)  # warm-up
                await timed(plain, "/plain", {"first": first}, headers)
                g = await timed(gql, "/graphql", body, headers)
                p = await timed(plain, "/plain", {"first": first}, headers)
                gm, pm = statistics.mean(g), statistics.mean(p)
                lines.append(f"{first:>6}{first * 11:>8}{gm * 1e3:>12.2f}{pm * 1e3:>12.2f}"
                             f"{gm / pm:>10.2f}x")
    print(f"mySegments(first: N), {ROUNDS} requests per path and size, one run")
    print(f"{'N':>6}{'fields':>8}{'graphql ms':>12}{'plain ms':>12}{'ratio':>11}")
    print("\n".join(lines))


if __name__ == "__main__":
    asyncio.run(main())
