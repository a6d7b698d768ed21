"""Scale bench (issue: ready for a sharded cluster): what grows when the platform grows.

1. **Round trips per request** on a demo world and on one with 10× the creators and viewers
   (≈ 10× the pairs): every dashboard, discovery and viewer query through ``/graphql`` with the
   token a real client sends, counted at the store adapter. Flat means the request's cost does
   not depend on the audience size.
2. **Daily run peak memory** (``tracemalloc``) on both worlds: the pass pages pairs, releases and
   segments, so its peak should not follow the number of pairs (target ratio ≤ 1.2).
3. **Hottest document** while a creator gains ``FANS`` fans (default 100,000) through
   ``recordEvents`` batches of 500: the share of all document writes the most written document
   takes, and which one it is.

Run by hand: ``.venv/bin/python bench/scale.py`` (``FANS=20000`` for a quicker third part,
``PARTS=1,2`` to pick parts). The third part also sends ``SINGLES`` fans one mutation each.
The embedded store is slow per document; the figures that matter
are the counts and ratios, which do not depend on the machine.
"""

from __future__ import annotations

import asyncio
import gc
import os
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from unittest.mock import patch

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # bench.memory, run as a script

from api.app import create_app  # noqa: E402
from api.auth import mint_token  # noqa: E402
from api.bootstrap import bootstrap  # noqa: E402
from api.settings import Settings  # noqa: E402
from bench.memory import WorkingMemory  # noqa: E402
from services import daily  # noqa: E402
from services.daily import DailyRun  # noqa: E402
from store import aggregates, database, releases  # noqa: E402
from store.adapter import document_writes  # noqa: E402
from store.database import Store  # noqa: E402
from store.rollups import RollupRepository  # noqa: E402

SECRET = "bench-secret-bench-secret-bench-secret"
SMALL = (30, 300)
LARGE = (300, 3000)
FANS = int(os.environ.get("FANS", "100000"))
#: fans sent one mutation each (the slow path: a few thousand tell the share)
SINGLES = int(os.environ.get("SINGLES", "2000"))
PARTS = {int(p) for p in os.environ.get("PARTS", "1,2,3").split(",")}

#: (name, query, variables, sub, roles): what clients ask, each answered by one request
REQUESTS: tuple[tuple[str, str, dict[str, Any], str, tuple[str, ...]], ...] = (
    ("creatorAudience (dashboard)",
     """query($id: ID!) { creatorAudience(creatorId: $id) { withheld overview { totalAudience }
        breakdown { budget { key count } intent { key count } proximity { key count }
                    passion { key count } }
        topSegments { key count } recommendations { primaryStrategy tips }
        growth { last7Days { available } last30Days { available } }
        messaging { dimension themes }
        segmentPerformance(segmentType: BUDGET, segmentValue: "LOW", days: 30) {
          withheld baseline { impressions } } } }""",
     {"id": "creator-001"}, "creator-001", ("creator",)),
    ("mySegments", "{ mySegments(first: 20) { edges { node { creatorId budget } } } }",
     {}, "viewer-0001", ("viewer",)),
    ("segmentRecommendations", "{ segmentRecommendations(limit: 20) { creatorId matchScore } }",
     {}, "viewer-0001", ("viewer",)),
    ("filterDiscoveryFeed",
     """{ filterDiscoveryFeed(candidates: ["creator-001", "creator-002", "creator-003"])
          { creatorId rank } }""", {}, "viewer-0001", ("viewer",)),
    ("platformInsights", "{ platformInsights { withheld creators overview { totalAudience } } }",
     {}, "boss", ("admin",)),
    ("me", "{ me { userId } }", {}, "viewer-0001", ("viewer",)),
)


async def _ready(http: httpx.AsyncClient) -> None:
    for _ in range(6000):  # the demo world loads in the background
        if (await http.get("/readyz")).status_code == 200:
            return
        await asyncio.sleep(0.2)
    raise TimeoutError("the demo world did not load")


async def world_costs(creators: int, viewers: int
                      ) -> tuple[dict[str, int], int, float, int]:
    """Round trips per request, the pairs, the daily run's own peak memory (MiB) and how many
    samples it was taken from."""
    settings = Settings(audience_jwt_secret=SECRET, audience_demo=True,
                        audience_demo_creators=creators, audience_demo_viewers=viewers,
                        audience_inline_worker=False)
    store = Store.open(None, f"scale_{creators}")
    app = create_app(settings, store=store)
    costs: dict[str, int] = {}
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as http:
            await _ready(http)
            for name, query, variables, sub, roles in REQUESTS:
                headers = {"Authorization": f"Bearer {mint_token(SECRET, sub, list(roles))}"}
                await http.post("/graphql", json={"query": query, "variables": variables},
                                headers=headers)  # warm caches (pools, thresholds)
                before = store.counter.calls
                body = (await http.post("/graphql", json={"query": query,
                                                          "variables": variables},
                                        headers=headers)).json()
                assert not body.get("errors"), (name, body)
                costs[name] = store.counter.calls - before
    services = bootstrap(store)
    pairs = await services.rollups.count_pairs()
    now = datetime.now(UTC)
    gc.collect()
    with small_pages(MEMORY_PAGE, MEMORY_CREATOR_PAGE), WorkingMemory() as memory:
        await DailyRun(services, "bench", lambda: now).run(now.date(), now)
    store.close()
    print(f"{pairs:,} pairs: the daily run's peak held " + ", ".join(
        f"{name.rsplit('/', 2)[-2]}/{name.rsplit('/', 1)[-1]} {size / 2**10:.0f} KiB"
        for name, size in memory.peak_by_file))
    return costs, pairs, memory.peak / 2**20, memory.samples


#: page sizes of the sweeps while the daily run's memory is measured, so that both worlds
#: span several pages of every sweep (at the default 1,000 the small one fits in one) and a
#: flat peak means memory follows the page, not the number of pairs: pairs, viewers and
#: segments by 100; creators (releases, aggregates: a page of 100 holds ~1 MiB, and the small
#: world has only 30) by 10
MEMORY_PAGE = 100
MEMORY_CREATOR_PAGE = 10
#: the modules whose sweeps walk one document per creator
CREATOR_SWEEPS = (releases, aggregates)


@contextmanager
def small_pages(size: int, creator_size: int) -> Iterator[None]:
    original = database.pages

    def creator_pages(collection: Any, query: dict[str, Any],
                      projection: dict[str, Any] | None = None, page_size: int = creator_size,
                      *, after: Any = None) -> AsyncIterator[list[dict[str, Any]]]:
        return original(collection, query, projection, page_size, after=after)

    with ExitStack() as patches:
        patches.enter_context(patch.object(database.pages, "__defaults__", (None, size)))
        patches.enter_context(patch.object(RollupRepository.pair_pages, "__defaults__",
                                           (None, size)))
        patches.enter_context(patch.object(daily, "DAILY_CHUNK", size))
        for module in CREATOR_SWEEPS:
            patches.enter_context(patch.object(module, "pages", creator_pages))
        yield


async def hottest_document(fans: int, batch: int = 500
                           ) -> tuple[tuple[str, str], int, tuple[str, str], int, int, float]:
    """The most written document while ``fans`` new fans call one creator, sent in
    ``recordEvents`` batches of ``batch`` (1: one mutation each, 8 clients at once)."""
    settings = Settings(audience_jwt_secret=SECRET, audience_demo=False,
                        audience_inline_worker=False)
    store = Store.open(None, "scale_hot")
    app = create_app(settings, store=store)
    headers = {"Authorization": f"Bearer {mint_token(SECRET, 'svc', ['service'])}"}
    mutation = ("mutation($events: [EventInput!]!) { recordEvents(events: $events) "
                "{ accepted } }")
    started = time.perf_counter()
    with document_writes() as writes:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://bench",
                                         timeout=None) as http:
                async def send(start: int) -> None:
                    # a long paid call: immediate work, the pair recomputed in the request
                    events = [{"callCompleted": {
                        "eventId": f"hot-{n}", "viewerId": f"fan-{n}", "creatorId": "star",
                        "callId": f"call-{n}", "durationMinutes": 10.0, "tokens": 200,
                        "callType": "VIDEO"}}
                        for n in range(start, min(fans, start + batch))]
                    body = (await http.post("/graphql", headers=headers, json={
                        "query": mutation, "variables": {"events": events}})).json()
                    assert not body.get("errors"), body

                starts = list(range(0, fans, batch))
                clients = 1 if batch > 1 else 8
                for first in range(0, len(starts), clients):
                    await asyncio.gather(*(send(s) for s in starts[first:first + clients]))
    seconds = time.perf_counter() - started
    (doc, count), = writes.most_common(1)
    mine = Counter({d: n for d, n in writes.items() if d[1].startswith("star")})
    (own, own_count), = mine.most_common(1)
    return doc, count, own, own_count, sum(writes.values()), seconds


async def main() -> None:
    if PARTS & {1, 2}:
        small, small_pairs, small_peak, small_samples = await world_costs(*SMALL)
        large, large_pairs, large_peak, large_samples = await world_costs(*LARGE)
        print(f"pairs: {small_pairs:,} → {large_pairs:,} ({large_pairs / small_pairs:.1f}×)")
        print(f"{'request':<30}{'round trips':>12}{'at 10×':>10}")
        for name in small:
            print(f"{name:<30}{small[name]:>12}{large[name]:>10}")
        print(f"daily run's own peak memory (pages of {MEMORY_PAGE}, creators by "
              f"{MEMORY_CREATOR_PAGE}; {small_samples} and "
              f"{large_samples} samples): {small_peak:.2f} MiB → {large_peak:.2f} MiB "
              f"(ratio {large_peak / small_peak:.2f})")
    if 3 in PARTS:
        for fans, batch in ((FANS, 500), (SINGLES, 1)):
            doc, count, own, own_count, total, seconds = await hottest_document(fans, batch)
            how = f"batches of {batch}" if batch > 1 else "single mutations (8 clients)"
            print(f"{fans:,} fans of one creator in {how}: {total:,} document writes in "
                  f"{seconds:.0f} s; hottest {doc[0]}/{doc[1]}: {count:,} writes "
                  f"({100 * count / total:.2f} %); hottest of the creator's own "
                  f"{own[0]}/{own[1]}: {own_count:,} ({100 * own_count / total:.2f} %)")


if __name__ == "__main__":
    asyncio.run(main())
