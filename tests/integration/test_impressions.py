"""The impression recorder: nothing is written in the request, batches are written by size,
time or an explicit flush, and a failed write keeps its batch."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from domain.discovery.impressions import Impression
from services.impressions import ImpressionRecorder
from store.database import Collections, Store
from store.impressions import ImpressionRepository
from store.risk import RiskRepository

LABELS = {"budget": "LOW", "intent": "CHAT", "proximity": "LOCAL"}


def impressions(n: int, viewer: str = "v") -> list[Impression]:
    now = datetime.now(UTC)
    return [Impression(viewer, f"c{i}", now, LABELS, "FEED") for i in range(n)]


def recorder(store: Store, **kw) -> ImpressionRecorder:
    return ImpressionRecorder(ImpressionRepository(store), RiskRepository(store), **kw)


async def stored(store: Store) -> int:
    return int(await store.db[Collections.IMPRESSIONS].count_documents({}))


async def settle() -> None:
    for _ in range(20):
        await asyncio.sleep(0)


async def test_recording_writes_nothing_until_a_flush(store):
    r = recorder(store, interval=60)
    r.record(impressions(3))
    await settle()
    assert (await stored(store), r.buffered) == (0, 3)
    assert await r.flush() == 3
    assert (await stored(store), r.buffered, r.written) == (3, 0, 3)
    await r.close()


async def test_a_full_batch_is_written_at_once(store):
    r = recorder(store, batch=4, interval=60)
    r.record(impressions(5))
    await settle()
    assert await stored(store) == 5 and r.buffered == 0
    await r.close()


async def test_a_partial_batch_is_written_after_the_interval(store):
    r = recorder(store, interval=0.05)
    r.record(impressions(2))
    await asyncio.sleep(0.3)
    assert await stored(store) == 2
    await r.close()


async def test_one_flush_counts_each_performance_document_once(store):
    r = recorder(store, interval=60)
    r.record(impressions(2) + impressions(2))  # the same two creators twice
    await r.flush()
    docs = await r.repository.performance(["c0", "c1"])
    assert len(docs) == 6 and {d["impressions"] for d in docs} == {2}
    [pair] = [d async for d in store.db[Collections.IMPRESSIONS].find({"_id": "v|c0"})]
    assert pair["impressions"] == 2


async def test_a_failed_write_keeps_the_batch_for_the_next_flush(store):
    r = recorder(store, interval=60)
    real = r.repository.record

    async def broken(batch):
        raise ConnectionError("store unreachable")

    r.repository.record = broken  # type: ignore[method-assign]
    r.record(impressions(3))
    try:
        await r.flush()
    except ConnectionError:
        pass
    assert r.buffered == 3 and await stored(store) == 0
    r.repository.record = real  # type: ignore[method-assign]
    assert await r.flush() == 3
    await r.close()
