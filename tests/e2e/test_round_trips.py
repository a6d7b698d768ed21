"""Round trips to the store per batch, counted from /metrics: the ledger stage costs the same
for 100 events as for 400 (one insert_many, one update_many marking them applied)."""

from __future__ import annotations

import random
from collections import Counter

from bench.roundtrips import BATCH, mixed_batch, round_trips


async def test_the_ledger_stage_costs_constant_round_trips_per_batch(api):
    rng = random.Random(3)
    moved: dict[int, Counter[str]] = {}
    for size in (100, 400):
        before = round_trips((await api.http.get("/metrics")).text)
        body = await api.as_service(BATCH, {"events": mixed_batch(size, rng, f"b{size}")})
        assert len(body["data"]["recordEvents"]) == size
        after = round_trips((await api.http.get("/metrics")).text)
        after.subtract(before)
        moved[size] = after
    # insert_many, update_many, and the $in read that compares reused ids' payloads
    assert moved[100]["events"] == moved[400]["events"] <= 4


async def test_a_batch_repeating_an_id_stores_it_once_and_answers_duplicate(api, services):
    batch = mixed_batch(3, random.Random(1), "r")
    body = await api.as_service(BATCH, {"events": [*batch, batch[0]]})
    assert [r["duplicate"] for r in body["data"]["recordEvents"]] == [False, False, False, True]
    assert await services.ledger.count() == 3
