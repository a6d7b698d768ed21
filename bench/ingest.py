"""Ingestion: events per second over GraphQL, and whether a long history makes events dearer.

Builds the app with ``create_app`` on the embedded store, runs its lifespan and talks to it over
``httpx.ASGITransport`` with a real ``service`` token, so every figure includes JWT checks,
GraphQL parsing, validation, the ledger write, the rollup ``$inc``s and the scheduler.

1. **Throughput**: events/s through ``recordEvents`` (batches of 100) and through one
   mutation per event, over a population of viewers and creators.
2. **History**: the per-event cost for one viewer with 100 prior events versus 100,000 prior
   events. Rollups are counters, so the ratio should stay close to 1. The history is preloaded
   on the same store without HTTP, the way ``audience rebuild`` replays: the ledger append and
   the rollup ``$inc``s of ``Ingestion.record`` without its listeners (each past event would
   otherwise recompute the pair on the embedded store, ~400 events/s: four minutes for the
   history alone; ``PRELOAD=record`` does exactly that). The viewer's segments are recomputed
   once afterwards, so the timed mutations meet the state full ingestion would have left.

Run by hand: ``.venv/bin/python bench/ingest.py`` (about two to three minutes). Set
``HISTORY=20000`` for a quicker look. Nothing here asserts timings; it prints a table.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import random
import statistics
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from api.app import create_app
from api.auth import mint_token
from api.bootstrap import bootstrap
from api.settings import Settings
from domain.events import EventType, parse_event
from services.container import Services
from store.database import Store

SECRET = "bench-secret-bench-secret-bench-secret"
BATCH = int(os.environ.get("BATCH", "500"))
#: clients sending single mutations at once
CLIENTS = int(os.environ.get("CLIENTS", "8"))
BATCHES = int(os.environ.get("BATCHES", "10"))
SINGLES = int(os.environ.get("SINGLES", "500"))
HISTORY_SMALL = 100
HISTORY_LARGE = int(os.environ.get("HISTORY", "100000"))
TIMED = int(os.environ.get("TIMED", "500"))
FULL_PRELOAD = os.environ.get("PRELOAD") == "record"
VIEWERS, CREATORS = 200, 20
HISTORY_VIEWER, HISTORY_CREATORS = "viewer-history", 5

RECEIPT = "{ eventId duplicate }"
BATCH_MUTATION = f"mutation($events: [EventInput!]!) {{ recordEvents(events: $events) {RECEIPT} }}"
INPUT_TYPE = {t.value: t.value[0].upper() + t.value[1:] + "Input" for t in EventType}

_serial = itertools.count()


def _input(kind: str, viewer: str, creator: str, rng: random.Random,
           when: datetime) -> dict[str, Any]:
    """A valid GraphQL input of ``kind`` (one of the pair events the mix uses)."""
    base = {"eventId": f"bench-{next(_serial)}", "occurredAt": when.isoformat(),
            "viewerId": viewer, "creatorId": creator}
    if kind == "profileViewed":
        return base | {"dwellSeconds": rng.randint(5, 300)}
    if kind == "chatCompleted":
        return base | {"chatId": f"chat-{rng.randrange(10**6)}", "tokens": rng.randint(10, 300),
                       "messageCount": rng.randint(2, 40)}
    if kind == "transactionCompleted":
        return base | {"tokens": rng.randint(50, 3000), "kind": "tip"}
    if kind == "mediaLiked":
        return base | {"mediaId": f"media-{rng.randrange(10**6)}"}
    return base | {"callId": f"call-{rng.randrange(10**6)}", "durationMinutes": 5,
                   "tokens": 200, "callType": "VIDEO"}


#: the everyday mix: mostly views and chats, some payments, likes and calls
MIX = ("profileViewed", "profileViewed", "chatCompleted", "transactionCompleted", "mediaLiked",
       "callCompleted")


def _mixed_inputs(rng: random.Random, now: datetime, viewer: str | None = None,
                  creators: int = CREATORS) -> Iterator[tuple[str, dict[str, Any]]]:
    while True:
        kind = rng.choice(MIX)
        who = viewer or f"viewer-{rng.randrange(VIEWERS):04d}"
        when = now - timedelta(seconds=rng.randrange(90 * 86400))
        yield kind, _input(kind, who, f"creator-{rng.randrange(creators):03d}", rng, when)


class Client:
    """Posts GraphQL as a service would and checks every receipt."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http
        self.headers = {"Authorization": f"Bearer {mint_token(SECRET, 'bench', ['service'])}"}

    async def post(self, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        response = await self.http.post("/graphql", json={"query": query, "variables": variables},
                                        headers=self.headers)
        body = response.json()
        assert response.status_code == 200 and not body.get("errors"), body
        return body["data"]

    async def single(self, kind: str, value: dict[str, Any]) -> None:
        mutation = f"mutation($input: {INPUT_TYPE[kind]}!) {{ {kind}(input: $input) {RECEIPT} }}"
        data = await self.post(mutation, {"input": value})
        assert data[kind]["duplicate"] is False

    async def batch(self, members: list[tuple[str, dict[str, Any]]]) -> None:
        data = await self.post(BATCH_MUTATION, {"events": [{k: v} for k, v in members]})
        assert len(data["recordEvents"]) == len(members)


@dataclass
class Rate:
    """Events per second by the wall clock and by this process's CPU time.

    The CPU figure is the one to compare across runs: everything here is CPU-bound in one
    thread, and on a shared machine the wall clock also counts other processes' turns.
    """

    events: int
    wall: float
    cpu: float

    def __str__(self) -> str:
        return (f"{self.events / self.wall:8,.0f} events/s wall, "
                f"{self.events / self.cpu:8,.0f} events/s CPU")


class Stopwatch:
    def __enter__(self) -> Stopwatch:
        self.wall, self.cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall = time.perf_counter() - self.wall
        self.cpu = time.process_time() - self.cpu


async def throughput(client: Client, now: datetime) -> tuple[Rate, Rate]:
    """Events/s through ``recordEvents`` batches and through single mutations."""
    rng = random.Random(1)
    stream = _mixed_inputs(rng, now)
    await client.batch([next(stream) for _ in range(BATCH)])  # warm-up: schema, caches
    with Stopwatch() as batches:
        for _ in range(BATCHES):
            await client.batch([next(stream) for _ in range(BATCH)])
    async def one_client(count: int) -> None:
        for _ in range(count):
            await client.single(*next(stream))

    with Stopwatch() as singles:
        await asyncio.gather(*(one_client(SINGLES // CLIENTS) for _ in range(CLIENTS)))
    return (Rate(BATCHES * BATCH, batches.wall, batches.cpu),
            Rate(SINGLES // CLIENTS * CLIENTS, singles.wall, singles.cpu))


async def preload(services: Services, events: int, rng: random.Random, now: datetime) -> None:
    """Give the history viewer ``events`` more past events: ledger and rollups, no HTTP."""
    kinds = {"profileViewed": EventType.PROFILE_VIEWED, "chatCompleted": EventType.CHAT_COMPLETED,
             "transactionCompleted": EventType.TRANSACTION_COMPLETED,
             "mediaLiked": EventType.MEDIA_LIKED, "callCompleted": EventType.CALL_COMPLETED}
    stream = _mixed_inputs(rng, now, HISTORY_VIEWER, HISTORY_CREATORS)
    for _ in range(events):
        kind, value = next(stream)
        fields = {_snake(k): v for k, v in value.items() if k not in ("eventId", "occurredAt")}
        event = parse_event(kinds[kind], value["eventId"],
                            datetime.fromisoformat(value["occurredAt"]), fields, now=now)
        if FULL_PRELOAD:
            await services.ingestion.record(event)
        elif await services.ledger.append(event, now, applied=True):
            await services.ingestion.apply_rollups_many([event], first_time=True)
    await services.segments.recompute_viewer(HISTORY_VIEWER)


def _snake(name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name)


@dataclass
class Cost:
    """Per-request latencies (wall) and the mean CPU time per event of one timed run."""

    latencies: list[float]
    cpu_per_event: float

    def __str__(self) -> str:
        q = statistics.quantiles(self.latencies, n=100)
        return (f"CPU {self.cpu_per_event * 1e3:6.2f} ms/event; wall p50 {q[49] * 1e3:6.2f} ms, "
                f"p95 {q[94] * 1e3:6.2f} ms")


async def per_event_cost(client: Client, rng: random.Random, now: datetime,
                         viewer: str = HISTORY_VIEWER, count: int = TIMED) -> Cost:
    """Cost of ``count`` single mutations for ``viewer`` (one request at a time)."""
    stream = _mixed_inputs(rng, now, viewer, HISTORY_CREATORS)
    samples = []
    cpu = time.process_time()
    for _ in range(count):
        kind, value = next(stream)
        started = time.perf_counter()
        await client.single(kind, value)
        samples.append(time.perf_counter() - started)
    return Cost(samples, (time.process_time() - cpu) / count)


async def main() -> None:
    settings = Settings(audience_jwt_secret=SECRET, audience_demo=False,
                        # ingestion alone: no background worker competing for the CPU
                        audience_inline_worker=False,
                        audience_rate_limit_cost_per_minute=10**9)  # measure, not throttle
    now = datetime.now(UTC)
    rows: list[tuple[str, str]] = []
    began = time.perf_counter()

    store = Store.open(None, "bench")
    app = create_app(settings, store=store)
    async with app.router.lifespan_context(app), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://bench") as http:
        client = Client(http)
        batched, single = await throughput(client, now)
        rows += [(f"recordEvents, batches of {BATCH} ({BATCHES} batches)", str(batched)),
                 (f"single mutations ({SINGLES})", str(single))]

    # A store of its own, so the population above does not weigh on the history figures.
    store = Store.open(None, "bench_history")
    app = create_app(settings, store=store)
    services = bootstrap(store)
    rng = random.Random(2)
    async with app.router.lifespan_context(app), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://bench") as http:
        client = Client(http)
        # Warm up (schema, caches) on another viewer, so the history viewer's past is exact.
        await per_event_cost(client, random.Random(3), now, "viewer-warm-up", TIMED // 5)
        await preload(services, HISTORY_SMALL, rng, now)
        small = await per_event_cost(client, random.Random(4), now)
        # The timed run added TIMED events to the history; preload the rest.
        more = HISTORY_LARGE - HISTORY_SMALL - TIMED
        with Stopwatch() as loading:
            await preload(services, more, rng, now)
        preload_rate = Rate(more, loading.wall, loading.cpu)
        large = await per_event_cost(client, random.Random(4), now)
        history = HISTORY_LARGE

    cpu_ratio = large.cpu_per_event / small.cpu_per_event
    wall_ratio = statistics.median(large.latencies) / statistics.median(small.latencies)
    rows += [(f"one viewer, {HISTORY_SMALL} prior events ({TIMED} mutations)", str(small)),
             (f"one viewer, {history:,} prior events ({TIMED} mutations)", str(large)),
             ("per-event cost ratio (large / small history)",
              f"{cpu_ratio:.2f}x CPU, {wall_ratio:.2f}x wall p50"),
             ("history preload, " + ("Ingestion.record" if FULL_PRELOAD else "ledger + rollups")
              + " (no HTTP)", str(preload_rate))]
    width = max(len(name) for name, _ in rows)
    print(f"ingest bench, embedded store (mongomock-motor), {VIEWERS} viewers x {CREATORS} "
          f"creators for throughput, one run, {time.perf_counter() - began:.0f} s wall, "
          f"{time.process_time():.0f} s CPU")
    for name, value in rows:
        print(f"  {name:<{width}}  {value}")


if __name__ == "__main__":
    asyncio.run(main())
