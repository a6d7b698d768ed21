"""Segment recomputation cost: one pair, and one viewer with 1,000 creators.

Seeds one viewer who has interacted with 1,000 creators (profiles with locations and interests,
purchases, chats, views), then times ``SegmentService.recompute`` for single pairs and
``recompute_viewer`` for the whole viewer (what a budget change fans out to), on the embedded
store. Run: ``.venv/bin/python bench/segments.py``.
"""

from __future__ import annotations

import asyncio
import random
import statistics
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from api.bootstrap import bootstrap
from domain.events import EventType, parse_event
from services.container import Services
from store.database import Store

CREATORS = 1_000
VIEWER = "viewer-bench"
PAIR_SAMPLES = 500
VIEWER_SAMPLES = 5
TAGS = [f"tag{i}" for i in range(30)]


async def seed(services: Services, now: datetime) -> None:
    rng = random.Random(3)
    n = 0

    async def record(kind: EventType, fields: dict[str, Any], days_ago: float = 0) -> None:
        nonlocal n
        n += 1
        event = parse_event(kind, f"s{n}", now - timedelta(days=days_ago), fields, now=now)
        # ledger + rollups, as rebuild and the demo loader do; segments are timed below
        await services.ledger.append(event, now, applied=True)
        await services.ingestion.apply_rollups(event)

    await record(EventType.LOCATION_UPDATED, {"user_id": VIEWER, "latitude": 48.1,
                                              "longitude": 11.6})
    await record(EventType.PROFILE_INTERESTS_UPDATED, {"user_id": VIEWER,
                                                        "interests": rng.sample(TAGS, 8)})
    for i in range(CREATORS):
        creator = f"creator-{i:04d}"
        await record(EventType.LOCATION_UPDATED, {"user_id": creator,
                                                   "latitude": 48 + rng.uniform(-3, 3),
                                                   "longitude": 11 + rng.uniform(-3, 3)})
        await record(EventType.PROFILE_INTERESTS_UPDATED, {"user_id": creator,
                                                            "interests": rng.sample(TAGS, 6)})
        pair = {"viewer_id": VIEWER, "creator_id": creator}
        await record(EventType.CHAT_COMPLETED, {**pair, "chat_id": f"c{i}", "tokens": 20,
                                                "message_count": 4}, rng.uniform(0, 60))
        await record(EventType.PROFILE_VIEWED, {**pair, "dwell_seconds": 30.0},
                     rng.uniform(0, 60))
        if i % 10 == 0:
            await record(EventType.TRANSACTION_COMPLETED, {**pair, "tokens": 500,
                                                           "kind": "tip"}, rng.uniform(0, 40))


async def main() -> None:
    store = Store.open(None, "bench_segments")
    services = bootstrap(store, config_cache_seconds=60)
    await services.start()
    now = datetime.now(UTC)
    await seed(services, now)
    await services.segments.recompute_viewer(VIEWER)  # first write of every segment
    rng = random.Random(5)
    pair_times = []
    for _ in range(PAIR_SAMPLES):
        creator = f"creator-{rng.randrange(CREATORS):04d}"
        started = time.perf_counter()
        await services.segments.recompute(VIEWER, creator)
        pair_times.append(time.perf_counter() - started)
    viewer_times = []
    for _ in range(VIEWER_SAMPLES):
        started = time.perf_counter()
        pairs = await services.segments.recompute_viewer(VIEWER)
        viewer_times.append(time.perf_counter() - started)
    assert pairs == CREATORS
    per_pair = statistics.median(pair_times)
    per_viewer = statistics.median(viewer_times)
    print(f"segment recomputation, embedded store, one run ({CREATORS} creators for one viewer)")
    print(f"  one pair (recompute):            p50 {per_pair * 1e6:8.0f} µs "
          f"(p95 {sorted(pair_times)[int(0.95 * len(pair_times))] * 1e6:.0f} µs)")
    print(f"  one viewer, {CREATORS} pairs:        p50 {per_viewer * 1e3:8.1f} ms "
          f"= {per_viewer / CREATORS * 1e6:.0f} µs per pair (batched reads)")
    print(f"  batched / single per-pair cost:  {per_viewer / CREATORS / per_pair:.2f}x")


if __name__ == "__main__":
    asyncio.run(main())
