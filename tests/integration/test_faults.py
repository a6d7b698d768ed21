"""Faults a sweep must survive: a poison outbox record or queue job is retried, then set aside in
``dead_letters`` while everything behind it goes on; the outbox sweep reads its oldest records
first; and a profile fact is never lost to two racing first writes."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pymongo.errors import BulkWriteError

from api.bootstrap import bootstrap
from domain.events import EventType
from domain.queue import DeadLetterSource, QueuePolicy
from domain.rollups import ProfileFact, RollupUpdate
from services.container import Services
from services.segments import MAX_DELIVERY_ATTEMPTS, SegmentTransition, TransitionHandler
from services.worker import QueueWorker
from store.database import Collections, Store
from store.rollups import RollupRepository
from tests.queue_support import Clock, record

GRACE = timedelta(seconds=60)


@pytest.fixture
async def services(store: Store) -> Services:
    services = bootstrap(store, config_cache_seconds=0,
                              queue_policy=QueuePolicy(max_attempts=2))
    await services.start()
    return services


def poison_listener(services: Services, creator: str) -> list[str]:
    """A listener that rejects every change of ``creator``; returns the ids it accepted."""
    accepted: list[str] = []

    async def listen(changes: Sequence[SegmentTransition]) -> None:
        if any(change.after.creator_id == creator for change in changes):
            raise RuntimeError("listener rejects this change")
        accepted.extend(change.id for change in changes)

    # one more transition stage, after those the composition root hands in
    services.segments.handlers += (TransitionHandler(listen),)
    return accepted


async def outbox_sizes(store: Store) -> dict[str, int]:
    return {d["_id"]: len(d.get("outbox") or [])
            async for d in store.db[Collections.SEGMENTS].find({})}


# --- the outbox sweep -----------------------------------------------------------------------

async def test_a_poison_outbox_record_is_dead_lettered_and_does_not_stall_the_others(
        services, store):
    for creator in ("good", "poison"):
        await record(services, EventType.MEDIA_LIKED, media_id="m", viewer_id="v",
                     creator_id=creator)
    accepted = poison_listener(services, "poison")
    clock = Clock()
    # The batch writes both pairs; the poison delivery raises before the batch confirms, so
    # both changes are left in their outboxes, as if the writer had died.
    with pytest.raises(RuntimeError):
        await services.segments.recompute_many([("v", "good"), ("v", "poison")], clock())
    assert await outbox_sizes(store) == {"v|good": 1, "v|poison": 1}

    clock.advance(seconds=61)
    assert await services.segments.redeliver(GRACE, clock()) == 1  # the good one
    assert await outbox_sizes(store) == {"v|good": 0, "v|poison": 1}
    # the live batch was refused whole; the sweep delivered the good one on its own
    assert len(accepted) == 1

    for _ in range(MAX_DELIVERY_ATTEMPTS - 2):  # the first attempt was the sweep above
        clock.advance(seconds=61)
        assert await services.segments.redeliver(GRACE, clock()) == 0
        assert await outbox_sizes(store) == {"v|good": 0, "v|poison": 1}
    clock.advance(seconds=61)
    assert await services.segments.redeliver(GRACE, clock()) == 0
    assert await outbox_sizes(store) == {"v|good": 0, "v|poison": 0}
    [letter] = await services.dead_letters.recent(DeadLetterSource.OUTBOX, 10)
    assert letter.key == "v|poison" and letter.attempts == MAX_DELIVERY_ATTEMPTS
    assert letter.error == "RuntimeError: listener rejects this change"
    assert letter.payload["after"]["creator_id"] == "poison"


async def test_a_failed_redelivery_waits_a_grace_before_its_next_attempt(services, store):
    await record(services, EventType.MEDIA_LIKED, media_id="m", viewer_id="v",
                 creator_id="poison")
    poison_listener(services, "poison")
    clock = Clock()
    with pytest.raises(RuntimeError):
        await services.segments.recompute_many([("v", "poison")], clock())
    clock.advance(seconds=61)
    await services.segments.redeliver(GRACE, clock())
    [doc] = [d async for d in store.db[Collections.SEGMENTS].find({})]
    assert doc["outbox"][0]["attempts"] == 1
    assert doc["outbox"][0]["last_error"] == "RuntimeError: listener rejects this change"
    clock.advance(seconds=30)  # within the grace of the failed attempt: not tried again
    await services.segments.redeliver(GRACE, clock())
    [doc] = [d async for d in store.db[Collections.SEGMENTS].find({})]
    assert doc["outbox"][0]["attempts"] == 1


async def test_an_unreadable_outbox_record_is_dead_lettered_on_sight(services, store):
    await record(services, EventType.MEDIA_LIKED, media_id="m", viewer_id="v", creator_id="c")
    await QueueWorker(services, "w").drain()
    old = datetime.now(UTC) - timedelta(hours=1)
    await store.db[Collections.SEGMENTS].update_one(
        {"_id": "v|c"}, {"$push": {"outbox": {"id": "garbage", "at": old, "after": {"x": 1}}}})
    assert await services.segments.redeliver(GRACE) == 0
    assert await outbox_sizes(store) == {"v|c": 0}
    [letter] = await services.dead_letters.recent(DeadLetterSource.OUTBOX, 10)
    assert letter.key == "v|c" and letter.error.startswith("unreadable: KeyError")


async def test_the_sweep_reads_the_oldest_records_first_whatever_the_limit(services, store):
    for n in range(6):
        await record(services, EventType.MEDIA_LIKED, media_id="m", viewer_id=f"v{n}",
                     creator_id="c")
    await QueueWorker(services, "w").drain()
    base = datetime.now(UTC) - timedelta(hours=1)
    segments = store.db[Collections.SEGMENTS]
    # Outbox ages in the reverse of insertion (natural) order: a limit applied before the
    # sort would return the newest ones.
    for n in range(6):
        doc = await segments.find_one({"_id": f"v{n}|c"}, {"outbox": 0, "_id": 0})
        await segments.update_one({"_id": f"v{n}|c"}, {"$push": {"outbox": {
            "id": f"x{n}", "at": base - timedelta(minutes=n), "before": None, "after": doc}}})
    records = await services.segments.segments.undelivered(datetime.now(UTC), limit=2)
    assert [r.id for r in records] == ["x5", "x4"]


# --- the queue ------------------------------------------------------------------------------

async def test_an_unreadable_job_is_dead_lettered_and_the_claim_goes_on(services, store):
    await record(services, EventType.MEDIA_LIKED, media_id="m", viewer_id="v", creator_id="c")
    now = datetime.now(UTC)
    await store.db[Collections.QUEUE].insert_one(
        {"key": "bogus", "kind": "NOT-A-KIND", "status": "pending", "priority": 9,
         "due_at": now, "created_at": now, "attempts": 0, "pending_key": "bogus"})
    claimed = await services.queue.claim("w", now, now + GRACE, 10, due_only=False)
    assert [j.key for j in claimed] == ["pair:v|c"]
    [letter] = await services.dead_letters.recent(DeadLetterSource.QUEUE, 10)
    assert letter.key == "bogus" and "unreadable job" in letter.error
    assert await store.db[Collections.QUEUE].count_documents({"key": "bogus"}) == 0


async def test_a_job_out_of_attempts_moves_to_the_dead_letters(services, store):
    await record(services, EventType.MEDIA_LIKED, media_id="m", viewer_id="v", creator_id="c")

    async def broken(keys: Any, now: Any = None) -> Any:
        raise RuntimeError("boom")

    services.segments.recompute_many = broken  # type: ignore[method-assign]
    clock = Clock()
    worker = QueueWorker(services, "w", clock=clock)
    assert (await worker.run_once(drain=True)).retried == 1
    clock.advance(seconds=5)
    assert (await worker.run_once(drain=True)).failed == 1
    assert await services.queue.all() == []
    [letter] = await services.dead_letters.recent(DeadLetterSource.QUEUE, 10)
    assert (letter.key, letter.attempts, letter.error) == ("pair:v|c", 2, "RuntimeError: boom")


# --- racing first writes of a profile fact -------------------------------------------------

class _RacedProfiles:
    """The profiles collection as a racing writer makes it look: between our upsert's match
    and its insert, another writer inserts the document (an older fact), so the server answers
    our upsert with DuplicateKeyError — once."""

    def __init__(self, inner: Any, older: ProfileFact) -> None:
        self._inner, self._older, self._raced = inner, older, False

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    async def bulk_write(self, requests: list[Any], ordered: bool = True) -> Any:
        if not self._raced and all(r._upsert for r in requests):
            self._raced = True
            [request] = requests
            await self._inner.insert_one({"_id": request._filter["_id"], self._older.name:
                                          self._older.value,
                                          f"{self._older.name}_key": self._older.order_key})
            raise BulkWriteError({"writeErrors": [{"index": 0, "code": 11000,
                                                   "errmsg": "E11000 duplicate key error"}]})
        return await self._inner.bulk_write(requests, ordered=ordered)


async def test_a_newer_fact_survives_a_racing_first_write_of_an_older_one(store):
    rollups = RollupRepository(store)
    older = ProfileFact("interests", ["old"], "2026-01-01|a")
    newer = ProfileFact("interests", ["new"], "2026-02-01|b")
    rollups._profiles = _RacedProfiles(rollups._profiles, older)  # type: ignore[assignment]
    await rollups.apply(RollupUpdate(profile_fact=newer), None, None, "u", event_id="e")
    [doc] = [d async for d in store.db[Collections.PROFILES].find({})]
    assert doc["interests"] == ["new"] and doc["interests_key"] == newer.order_key


async def test_racing_writers_leave_the_newest_fact(store):
    rollups = RollupRepository(store)
    facts = [ProfileFact("interests", [f"i{n}"], f"2026-01-{n:02d}|e{n}") for n in range(1, 29)]
    # Every order of arrival, concurrently (on a real server these upserts truly race).
    def fact_of(user: str, fact: ProfileFact) -> Any:
        return rollups.apply(RollupUpdate(profile_fact=fact), None, None, user, event_id="e")

    await asyncio.gather(*(fact_of("u", f) for f in reversed(facts)),
                         *(fact_of("w", f) for f in facts))
    for user in ("u", "w"):
        doc = await store.db[Collections.PROFILES].find_one({"_id": user})
        assert doc["interests"] == ["i28"]
