"""Transient network faults during a load: nothing lost, nothing counted twice.

A random 2 % of store calls fail the way a flaky network makes them fail with a real MongoDB:
``AutoReconnect`` before the request reached the server, or ``NetworkTimeout`` after a write
was applied and its reply lost. 5,000 events arrive in batches from clients that retry a failed
request (the ledger makes a retry idempotent), while two workers drain the queue. Afterwards —
faults over, the grace periods passed, the sweeps run once — every event is counted exactly
once (the derived state equals ``audience rebuild``), nothing is left in an outbox, unapplied
or dead-lettered.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pymongo.errors import AutoReconnect, NetworkTimeout, PyMongoError

from api.bootstrap import bootstrap
from domain.events import Event, EventType, parse_event
from domain.queue import QueuePolicy
from services.container import Services
from services.rebuild import rebuild_all
from services.worker import QueueWorker
from store import adapter as adapter_module
from store.database import Collections, Store
from tests.queue_support import Clock, derived_state, yielding

FAULT_RATE = 0.02
EVENTS = 5_000
BATCH = 50
CLIENT_ATTEMPTS = 20
WRITES = frozenset({"insert_one", "insert_many", "update_one", "update_many", "bulk_write",
                    "replace_one", "delete_one", "delete_many", "find_one_and_update",
                    "find_one_and_delete"})


class FlakyNetwork:
    """Makes store calls fail at random while ``on``: half the faults before the call (nothing
    happened), half, for writes, after it (it happened; the caller cannot know)."""

    def __init__(self, rate: float, seed: int) -> None:
        self.rate = rate
        self.rng = random.Random(seed)
        self.on = False
        self.before = self.after = 0

    def fail_before(self) -> None:
        if self.on and self.rng.random() < self.rate / 2:
            self.before += 1
            raise AutoReconnect("connection reset (injected)")

    def fail_after(self, operation: str) -> None:
        if self.on and operation in WRITES and self.rng.random() < self.rate / 2:
            self.after += 1
            raise NetworkTimeout("reply lost (injected)")


@pytest.fixture
def network(monkeypatch: pytest.MonkeyPatch) -> FlakyNetwork:
    flaky = FlakyNetwork(FAULT_RATE, seed=2026)
    call, open_cursor = adapter_module.CollectionAdapter._call, adapter_module._Cursor._open

    async def faulty_call(self: Any, operation: str, *args: Any, **kwargs: Any) -> Any:
        flaky.fail_before()
        result = await call(self, operation, *args, **kwargs)
        flaky.fail_after(operation)
        return result

    async def faulty_open(self: Any) -> None:
        if not self._opened:
            flaky.fail_before()
        await open_cursor(self)

    monkeypatch.setattr(adapter_module.CollectionAdapter, "_call", faulty_call)
    monkeypatch.setattr(adapter_module._Cursor, "_open", faulty_open)
    return flaky


@pytest.fixture
async def services(store: Store) -> Services:
    # Every call yields to the loop (as real I/O does), so ingestion and the two workers
    # really interleave; enough attempts that a job never runs out of them at this fault rate.
    services = bootstrap(yielding(store), config_cache_seconds=0,
                         queue_policy=QueuePolicy(max_attempts=50))
    await services.start()
    return services


def load(rng: random.Random, now: datetime) -> Iterator[Event]:
    """The everyday mix over 300 viewers and 15 creators, with profile facts among them.

    About 17 events per viewer: a rollup document recognises a re-applied event among its
    last ``APPLIED_EVENTS_WINDOW`` (store/rollups.py), and here recovery runs only after the
    whole load, so no document may take more events than that in between."""
    kinds = ("view", "view", "chat", "pay", "like", "call", "where")
    for i in range(EVENTS):
        viewer, creator = f"v{rng.randrange(300)}", f"c{rng.randrange(15)}"
        at = now - timedelta(minutes=rng.randrange(60 * 24 * 40))
        pair = {"viewer_id": viewer, "creator_id": creator}
        kind = rng.choice(kinds)
        if kind == "view":
            yield parse_event(EventType.PROFILE_VIEWED, f"f{i}", at,
                              {**pair, "dwell_seconds": 20.0}, now=now)
        elif kind == "chat":
            yield parse_event(EventType.CHAT_COMPLETED, f"f{i}", at,
                              {**pair, "chat_id": f"ch{i % 97}", "tokens": 15,
                               "message_count": 4}, now=now)
        elif kind == "pay":
            yield parse_event(EventType.TRANSACTION_COMPLETED, f"f{i}", at,
                              {**pair, "tokens": rng.choice((40, 300, 2_500)), "kind": "tip"},
                              now=now)
        elif kind == "like":
            yield parse_event(EventType.MEDIA_LIKED, f"f{i}", at,
                              {**pair, "media_id": f"m{i % 53}"}, now=now)
        elif kind == "call":
            yield parse_event(EventType.CALL_COMPLETED, f"f{i}", at,
                              {**pair, "call_id": f"k{i}", "duration_minutes": 6.0,
                               "tokens": 200, "call_type": "VIDEO"}, now=now)
        else:
            yield parse_event(EventType.LOCATION_UPDATED, f"f{i}", at,
                              {"user_id": viewer, "latitude": 48.0 + rng.random(),
                               "longitude": 11.0 + rng.random()}, now=now)


async def send(services: Services, batch: list[Event]) -> int:
    """A client's request with retries (a failed request may or may not have been stored:
    the retry is what makes it count, once); the failures it saw."""
    for attempt in range(CLIENT_ATTEMPTS):
        try:
            await services.ingestion.record_batch(batch)
            return attempt
        except PyMongoError:
            await asyncio.sleep(0)
    raise AssertionError("a batch kept failing")


async def work(services: Services, name: str, clock: Clock, stop: asyncio.Event) -> None:
    worker = QueueWorker(services, name, clock=clock)
    while not stop.is_set():
        try:
            await worker.run_once(drain=True)
        except PyMongoError:
            pass  # the worker's loop survives a failed pass (services/worker.py)
        await asyncio.sleep(0)


async def test_every_event_counts_once_through_random_network_faults(services, network):
    rng = random.Random(7)
    events = list(load(rng, datetime.now(UTC)))
    clock = Clock()
    stop = asyncio.Event()
    network.on = True
    workers = [asyncio.create_task(work(services, name, clock, stop)) for name in ("w1", "w2")]
    retries = 0
    for start in range(0, len(events), BATCH):
        retries += await send(services, events[start:start + BATCH])
    stop.set()
    await asyncio.gather(*workers)
    network.on = False
    assert network.before > 10 and network.after > 10 and retries > 0  # faults did happen

    # The sweeps a deployment runs anyway, once the grace periods have passed: stranded
    # events finished, expired leases taken over, orphaned changes redelivered.
    while await services.ingestion.recover(timedelta(0)):
        pass
    clock.advance(seconds=3 * services.queue_policy.lease.total_seconds())
    rescue = await QueueWorker(services, "rescuer", clock=clock).drain()
    assert rescue.failed == 0
    assert await services.segments.redeliver(timedelta(0), clock()) >= 0

    db = services.store.db
    assert await services.ledger.count() == EVENTS
    assert await services.ingestion.unapplied(timedelta(0)) == 0
    assert await services.queue.all() == []
    assert await db[Collections.SEGMENTS].count_documents({"outbox.0": {"$exists": True}}) == 0
    assert await db[Collections.DEAD_LETTERS].count_documents({}) == 0

    # Every event counted once: the rollups are what a replay of the ledger gives.
    rollups = await services.rollups.snapshot()
    # Aggregates moved once per change: after the daily full pass (segments read "now", and
    # a viewer-wide intent or a loyalty decay moves pairs no event of theirs touched), they
    # are what a rebuild from empty gives.
    # One frozen "now" for both: loyalty decays by the second, so two clocks a few seconds
    # apart round some scores differently.
    frozen = datetime.now(UTC)
    services.segments.clock = lambda: frozen
    await services.segments.recompute_all(frozen)
    state = await derived_state(services)
    await rebuild_all(services)
    assert await services.rollups.snapshot() == rollups
    assert await derived_state(services) == state
