"""Queue worker throughput: jobs/s for one worker and for two workers sharing one queue.

Every scenario starts from the same queue: a seeded mix of everyday events (views, likes,
chats, small purchases, location and interest changes — all batched work) recorded through
``Ingestion.record`` into a fresh embedded store, so the queue holds coalesced pair, viewer and
creator jobs exactly as traffic leaves them. Then the queue is drained, regardless of due time:

1. **one worker** — ``QueueWorker.drain`` (claims of 100 jobs, one batched recompute per pass);
2. **two workers** — two ``QueueWorker`` tasks with different ids on the same store;
3. **one / two workers with simulated round trips** — every store call first waits
   ``LATENCY_MS`` (default 0.5 ms) on the event loop, the way a call to a MongoDB server waits
   on the network. mongomock answers in-process and never yields, so on the plain embedded
   store two workers in one process run one after the other; with round trips they overlap,
   which is what two worker processes against a real server do;
4. **processSegmentQueue** — the same drain through the API (``create_app``, a real
   ``service`` token, batches of 100), for the cost GraphQL adds.

Each run checks that every job was processed exactly once and that the queue ends empty.
Run by hand: ``.venv/bin/python bench/worker.py`` (``EVENTS=6000`` for a bigger queue).
Nothing here asserts timings; it prints a table.
"""

from __future__ import annotations

import asyncio
import os
import random
import time
import uuid
from collections.abc import Awaitable, Callable
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
from services.worker import QueueWorker
from store.database import Store

SECRET = "bench-secret-bench-secret-bench-secret"
EVENTS = int(os.environ.get("EVENTS", "3000"))
VIEWERS, CREATORS = 150, 20
BATCH = 100
LATENCY = float(os.environ.get("LATENCY_MS", "0.5")) / 1000
SEED = 11


def events(now: datetime) -> list[Any]:
    """The same seeded stream of batched (non-immediate) events every time."""
    rng = random.Random(SEED)
    out = []
    for n in range(EVENTS):
        viewer, creator = f"v{rng.randrange(VIEWERS):03d}", f"c{rng.randrange(CREATORS):02d}"
        pair = {"viewer_id": viewer, "creator_id": creator}
        roll = rng.random()
        if roll < 0.35:
            kind, fields = EventType.PROFILE_VIEWED, {**pair, "dwell_seconds": 30.0}
        elif roll < 0.55:
            kind, fields = EventType.MEDIA_LIKED, {**pair, "media_id": "m"}
        elif roll < 0.80:
            kind, fields = EventType.CHAT_COMPLETED, {**pair, "chat_id": "x", "tokens": 20,
                                                     "message_count": 4}
        elif roll < 0.95:
            kind, fields = EventType.TRANSACTION_COMPLETED, {**pair, "tokens": 80,
                                                             "kind": "tip"}
        else:
            user = viewer if rng.random() < 0.8 else creator
            kind, fields = EventType.LOCATION_UPDATED, {"user_id": user,
                                                        "latitude": rng.uniform(47, 53),
                                                        "longitude": rng.uniform(6, 14)}
        when = now - timedelta(minutes=rng.randrange(60 * 24 * 20))
        out.append(parse_event(kind, f"b{n}", when, fields, now=now))
    return out


class _Latent:
    """A collection whose awaited calls first wait one simulated network round trip."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._inner, name)
        if name.startswith("_") or not callable(attr):
            return attr

        def call(*args: Any, **kwargs: Any) -> Any:
            result = attr(*args, **kwargs)
            if not hasattr(result, "__await__"):
                return result

            async def round_trip() -> Any:
                await asyncio.sleep(LATENCY)
                return await result

            return round_trip()

        return call


class LatentStore(Store):
    def collection(self, name: str) -> Any:
        return _Latent(super().collection(name))


@dataclass
class Result:
    name: str
    jobs: int
    seconds: float
    calls: int
    per_worker: list[int]

    def line(self) -> str:
        split = " + ".join(str(n) for n in self.per_worker)
        return (f"  {self.name:<46} {self.jobs / self.seconds:8,.0f} jobs/s   "
                f"{self.seconds:6.2f} s   {self.calls / self.jobs:5.1f} store calls/job   "
                f"[{split}]")


async def filled(latent: bool) -> tuple[Store, Services, int]:
    base = Store.open(None, f"bench_{uuid.uuid4().hex[:8]}")
    store = LatentStore(client=base.client, db=base.db, embedded=True) if latent else base
    services = bootstrap(store, config_cache_seconds=2.0)
    await services.start()
    for event in events(datetime.now(UTC)):
        await services.ingestion.record(event)
    jobs = len(await services.queue.all())
    return store, services, jobs


async def drained_by(workers: int, latent: bool) -> Result:
    store, services, jobs = await filled(latent)
    crew = [QueueWorker(services, f"w{n}") for n in range(workers)]
    calls, started = store.counter.calls, time.perf_counter()
    runs = await asyncio.gather(*(w.drain(BATCH) for w in crew))
    seconds = time.perf_counter() - started
    done = [r.processed for r in runs]
    assert sum(done) == jobs and not await services.queue.all(), "jobs lost or repeated"
    label = f"{workers} worker{'s' if workers > 1 else ''}" + (
        f", {LATENCY * 1000:g} ms round trips" if latent else ", embedded store")
    return Result(label, jobs, seconds, store.counter.calls - calls, done)


async def drained_through_graphql() -> Result:
    store, services, jobs = await filled(latent=False)
    settings = Settings(mongodb_url=None, audience_jwt_secret=SECRET, audience_demo=False,
                        audience_inline_worker=False, audience_max_cost=10**9,
                        audience_rate_limit_cost_per_minute=10**9)
    app = create_app(settings, store=store)
    token = mint_token(SECRET, "bench", ["service"])
    mutation = f"mutation {{ processSegmentQueue(batchSize: {BATCH}) {{ processed remaining }} }}"
    processed = 0
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as http:
            calls, started = store.counter.calls, time.perf_counter()
            while True:
                response = await http.post("/graphql", json={"query": mutation},
                                           headers={"Authorization": f"Bearer {token}"})
                run = response.json()["data"]["processSegmentQueue"]
                processed += run["processed"]
                if run["remaining"] == 0:
                    break
            seconds = time.perf_counter() - started
    assert processed == jobs
    return Result("processSegmentQueue over GraphQL", jobs, seconds,
                  store.counter.calls - calls, [processed])


async def main() -> None:
    scenarios: list[Callable[[], Awaitable[Result]]] = [
        lambda: drained_by(1, latent=False),
        lambda: drained_by(2, latent=False),
        lambda: drained_by(1, latent=True),
        lambda: drained_by(2, latent=True),
        drained_through_graphql,
    ]
    cpu = time.process_time()
    wall = time.perf_counter()
    results = []
    for scenario in scenarios:
        results.append(await scenario())
        print(results[-1].line(), flush=True)
    jobs = results[0].jobs
    print(f"\nworker bench: {EVENTS} events ({VIEWERS} viewers x {CREATORS} creators) -> "
          f"{jobs} coalesced jobs; {time.perf_counter() - wall:.0f} s wall, "
          f"{time.process_time() - cpu:.0f} s CPU")
    one, two, one_rt, two_rt = (r.jobs / r.seconds for r in results[:4])
    print(f"  two workers / one worker, embedded store:       {two / one:4.2f}x")
    print(f"  two workers / one worker, with round trips:     {two_rt / one_rt:4.2f}x")


if __name__ == "__main__":
    asyncio.run(main())
