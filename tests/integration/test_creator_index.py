"""The creator index kept incrementally equals the one rebuilt from aggregates and profiles,
and its candidate pools stay small and ordered."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from domain.events import EventType, parse_event
from domain.locations import DEFAULT_GRID
from services.container import Services
from services.creator_index import POOL_SIZES

NOW = datetime.now(UTC)


async def record(services: Services, n: int, event_type: EventType, **fields: Any) -> None:
    # later events are later in time, so "latest location wins" follows the order here
    at = NOW - timedelta(seconds=10_000 - n)
    event = parse_event(event_type, f"ix-{n}", at, fields, now=NOW)
    await services.ingestion.record(event)


async def world(services: Services) -> None:
    n = 0
    for c in range(6):
        n += 1
        await record(services, n, EventType.LOCATION_UPDATED, user_id=f"c{c}",
                     latitude=48.0 + c * 0.3, longitude=11.0)
        n += 1
        await record(services, n, EventType.PROFILE_INTERESTS_UPDATED, user_id=f"c{c}",
                     interests=["a", "b", f"t{c}"])
        for v in range(4 + 3 * c):
            n += 1
            await record(services, n, EventType.TRANSACTION_COMPLETED, viewer_id=f"v{v}",
                         creator_id=f"c{c}", tokens=7_000 * (1 + v % 4), kind="x")
            n += 1
            await record(services, n, EventType.MEETING_BOOKED if v % 2 else
                         EventType.CALL_COMPLETED, viewer_id=f"v{v}", creator_id=f"c{c}",
                         **({"booking_id": "b", "tokens": 5, "meeting_date": NOW} if v % 2 else
                            {"call_id": "k", "tokens": 5, "duration_minutes": 2.0,
                             "call_type": "VOICE"}))
    for v in range(0, 20, 3):
        n += 1
        await record(services, n, EventType.LOCATION_UPDATED, user_id=f"v{v}",
                     latitude=48.1, longitude=11.0 + v * 0.05)
    # a creator moves after having an audience
    n += 1
    await record(services, n, EventType.LOCATION_UPDATED, user_id="c2", latitude=52.5,
                 longitude=13.4)
    # work left queued (when recomputation is queued) runs now; inline work is repeated
    await services.segments.recompute_all()


async def test_incremental_index_equals_the_rebuilt_one(services):
    await world(services)
    incremental = await services.discovery.index.snapshot()
    assert [d["_id"] for d in incremental] == [f"c{c}" for c in range(6)]  # no viewer cards
    assert await services.discovery.indexer.rebuild() == 6
    assert await services.discovery.index.snapshot() == incremental


async def test_cards_follow_audience_and_location(services):
    await world(services)
    cards = {c.creator_id: c for c in await services.discovery.index.get_many(
        [f"c{c}" for c in range(6)]) if c}
    assert cards["c2"].location == DEFAULT_GRID.snap(52.5, 13.4)  # Berlin
    assert cards["c2"].cell == DEFAULT_GRID.snap(52.5, 13.4).parent(4)
    # cards read releases: 19 viewers released c5's audience; c1's 7 are still held back
    assert cards["c5"].popularity == 19 and cards["c5"].audience is not None
    assert cards["c1"].popularity == 0 and cards["c1"].audience is None
    assert cards["c5"].audience.dominant["budget"] in {"MID", "HIGH"}


async def test_pools_are_small_and_ordered_by_popularity(services):
    await world(services)
    pools = await services.discovery.pools.get_many([("all", "")])
    ranked = pools[("all", "")]
    assert len(ranked) <= POOL_SIZES["all"]
    assert [c.popularity for c in ranked] == sorted((c.popularity for c in ranked),
                                                    reverse=True)
    assert ranked[0].creator_id == "c5"
