"""Round trips to the store per batch, counted from /metrics: a batch costs a constant number
of round trips per collection it touches, whatever its size (contract 8's
``audience_store_operations_total``; issue targets: ≤ 40 for 100 mixed events, and a 400-event
batch at most 1.5× that)."""

from __future__ import annotations

import random
from collections import Counter

from bench.roundtrips import BATCH, mixed_batch, round_trips

TARGET_100 = 40


async def scrape(api) -> Counter[str]:
    return round_trips((await api.http.get("/metrics")).text)


async def moved_by_batch(api, size: int, rng: random.Random) -> Counter[str]:
    """Round trips one ``recordEvents`` batch of ``size`` made, by collection (the /metrics
    scrape's own reads taken out)."""
    first, second = await scrape(api), await scrape(api)
    body = await api.as_service(BATCH, {"events": mixed_batch(size, rng, f"b{size}")})
    assert len(body["data"]["recordEvents"]) == size
    after = await scrape(api)
    after.subtract(second)
    second.subtract(first)  # what a scrape costs by itself
    after.subtract(second)
    return +after


async def test_a_batch_costs_round_trips_per_collection_not_per_event(api):
    rng = random.Random(3)
    moved = {size: await moved_by_batch(api, size, rng) for size in (100, 400)}
    total = {size: sum(trips.values()) for size, trips in moved.items()}
    assert total[100] <= TARGET_100, moved[100]
    assert total[400] <= 1.5 * total[100], (moved[100], moved[400])
    # the ledger stage: insert_many, update_many marking them applied, and the $in read that
    # compares reused ids' payloads
    assert moved[100]["events"] == moved[400]["events"] <= 4
    # every collection the pipeline writes costs the same for 400 events as for 100, give or
    # take a retry after a lost race
    for collection in ("pair_rollups", "viewer_rollups", "segment_computation_queue",
                       "creator_aggregates", "segment_changes"):
        assert moved[400][collection] <= moved[100][collection] + 1, collection


async def test_a_single_event_goes_through_the_same_batch_code(api):
    before, again = await scrape(api), await scrape(api)
    body = await api.as_service(BATCH, {"events": mixed_batch(1, random.Random(5), "one")})
    assert body["data"]["recordEvents"][0]["duplicate"] is False
    after = await scrape(api)
    after.subtract(again)
    again.subtract(before)
    after.subtract(again)
    assert sum((+after).values()) <= TARGET_100


async def test_a_batch_repeating_an_id_stores_it_once_and_answers_duplicate(api, services):
    batch = mixed_batch(3, random.Random(1), "r")
    body = await api.as_service(BATCH, {"events": [*batch, batch[0]]})
    assert [r["duplicate"] for r in body["data"]["recordEvents"]] == [False, False, False, True]
    assert await services.ledger.count() == 3
