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
import tracemalloc
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from fnmatch import fnmatch
from typing import Any

import httpx

from api.app import create_app
from api.auth import mint_token
from api.bootstrap import bootstrap
from api.settings import Settings
from services import daily
from services.daily import DailyRun
from store import database
from store.adapter import CollectionAdapter, document_writes
from store.database import Store
from store.rollups import RollupRepository

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
    # ~15 round trips per page of pairs recomputed, the snapshot and platform passes after
    with small_pages(MEMORY_PAGE), WorkingMemory(15 * pairs // MEMORY_PAGE + 50,
                                                 stored_documents(store)) as memory:
        await DailyRun(services, "bench", lambda: now).run(now.date(), now)
    store.close()
    print(f"{pairs:,} pairs: the daily run's peak held " + ", ".join(
        f"{name.rsplit('/', 2)[-2]}/{name.rsplit('/', 1)[-1]} {size / 2**10:.0f} KiB"
        for name, size in memory.peak_by_file))
    return costs, pairs, memory.peak / 2**20, memory.samples


#: where the embedded database allocates (left out of the daily run's own memory)
EMBEDDED_DATABASE_CODE = ("*/mongomock/*", "*/mongomock_motor/*", "*/copy.py",
                          "*/packaging/*", "*/store/embedded.py", "*/tracemalloc.py")


class WorkingMemory:
    """The daily run's own peak memory on the embedded store, sampled (``tracemalloc``) at the
    start of about ``SAMPLES`` evenly spaced round trips (a snapshot is slow). What the
    embedded database holds is left out, as it lives on the server with MongoDB:

    - what it allocates (any allocation made in its code: mongomock, its motor wrapper, the
      deep copies it takes, the embedded adapter's indexes) — the documents it keeps, its
      scratch copies while it answers a query, the raw documents it hands back;
    - what the run allocated and the database now keeps: mongomock deep-copies a written
      document's containers but keeps its numbers and strings by reference, so a segment's
      scores stay traced to the line that computed them. Each sample walks the stored
      documents (``documents``) and subtracts those still-traced values.

    What the run builds and holds (segments, cells, pages) counts. One frame per allocation:
    with whole stacks the 10x world's run takes hours (220x slower than untraced, against 16x
    with one frame)."""

    SAMPLES = 25

    def __init__(self, expected_round_trips: int,
                 documents: Callable[[], Iterator[dict[str, Any]]]) -> None:
        self.documents = documents
        self.every = max(1, expected_round_trips // self.SAMPLES)
        self.peak = 0
        #: the files whose allocations the run held at its peak (the largest first)
        self.peak_by_file: list[tuple[str, int]] = []
        self.samples = 0
        self._calls = 0
        self._base: tracemalloc.Snapshot | None = None

    @staticmethod
    def _snapshot() -> tracemalloc.Snapshot:
        return tracemalloc.take_snapshot().filter_traces(
            [tracemalloc.Filter(False, pattern) for pattern in EMBEDDED_DATABASE_CODE])

    def _sample(self) -> None:
        snapshot = self._snapshot()
        assert self._base is not None
        held = Counter({stat.traceback[0].filename: stat.size_diff
                        for stat in snapshot.compare_to(self._base, "filename")})
        held.subtract(self._kept_by_database())
        if held.total() > self.peak:
            self.peak = held.total()
            self.peak_by_file = [(name, size) for name, size in held.most_common(6)]
        self.samples += 1

    def _kept_by_database(self) -> Counter[str]:
        """Bytes of the values the stored documents hold that the traced run allocated, by
        the file that allocated them."""
        seen: set[int] = set()
        kept: Counter[str] = Counter()
        pending: list[Any] = list(self.documents())
        while pending:
            value = pending.pop()
            if id(value) in seen:
                continue
            seen.add(id(value))
            if isinstance(value, dict):
                pending.extend(value.keys())
                pending.extend(value.values())
            elif isinstance(value, list | tuple):
                pending.extend(value)
            traceback = tracemalloc.get_object_traceback(value)
            if traceback is not None and not any(
                    fnmatch(traceback[0].filename, pattern)
                    for pattern in EMBEDDED_DATABASE_CODE):
                kept[traceback[0].filename] += sys.getsizeof(value)
        return kept

    def __enter__(self) -> WorkingMemory:
        tracemalloc.start(1)
        self._base = self._snapshot()
        self._original = CollectionAdapter.round_trip
        meter = self

        async def sampled(adapter: CollectionAdapter, operation: str) -> None:
            meter._calls += 1
            if meter._calls % meter.every == 0:
                meter._sample()
            await meter._original(adapter, operation)

        CollectionAdapter.round_trip = sampled  # type: ignore[method-assign,assignment]
        return self

    def __exit__(self, *exc: object) -> None:
        CollectionAdapter.round_trip = self._original  # type: ignore[method-assign]
        self._sample()
        tracemalloc.stop()


def stored_documents(store: Store) -> Callable[[], Iterator[dict[str, Any]]]:
    """Every document the embedded database keeps for ``store``, read anew at each call."""
    kept = store.db.delegate._store  # mongomock's own documents, behind the motor wrapper

    def documents() -> Iterator[dict[str, Any]]:
        for collection in kept._collections.values():
            yield from collection._documents.values()

    return documents


#: page size of every sweep while the daily run's memory is measured: both worlds then span
#: many pages (at the default 1,000 the small one fits in one), so a flat peak means memory
#: follows the page, not the number of pairs
MEMORY_PAGE = 100


@contextmanager
def small_pages(size: int) -> Iterator[None]:
    saved = (database.pages.__defaults__, RollupRepository.pair_pages.__defaults__,
             daily.DAILY_CHUNK)
    database.pages.__defaults__ = (None, size)
    RollupRepository.pair_pages.__defaults__ = (None, size)
    daily.DAILY_CHUNK = size
    try:
        yield
    finally:
        (database.pages.__defaults__, RollupRepository.pair_pages.__defaults__,
         daily.DAILY_CHUNK) = saved


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
        print(f"daily run's own peak memory (pages of {MEMORY_PAGE}, {small_samples} and "
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
