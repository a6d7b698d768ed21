"""The change log across crashes: written with its batch, once, whatever dies where.

A crash is one store write raising once (as a killed worker would stop there); the sweep that a
worker runs (``SegmentService.redeliver``) then finishes the batch. The log must hold each
change exactly once, at one position, with positions increasing in the order changes happened.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from domain.events import EventType
from services.history import SegmentHistory
from store.segment_changes import SegmentChangeLog
from store.segments import SegmentRepository
from tests.integration.test_ingest_recovery import Crash, crash_once
from tests.queue_support import record

LATER = datetime.now(UTC) + timedelta(hours=1)


async def spend(services, viewer: str, tokens: int, creator: str = "c") -> None:
    await record(services, EventType.TRANSACTION_COMPLETED, viewer_id=viewer, creator_id=creator,
                 tokens=tokens, kind="tip")


async def spend_now(services, viewer: str, tokens: int) -> None:
    await spend(services, viewer, tokens)
    await services.segments.recompute(viewer, "c")


async def everything(services) -> list:
    return await services.history.feed(0, 10_000)


async def test_one_batch_is_one_append(services):
    for v in range(5):
        await spend(services, f"v{v}", 100)
    calls = []
    original = services.history.log.append

    async def counted(changes, at):
        calls.append(len(changes))
        return await original(changes, at)

    services.history.log.append = counted
    await services.segments.recompute_many([(f"v{v}", "c") for v in range(5)])
    assert calls == [5 * 6]


async def test_crash_before_the_append_loses_nothing(services, monkeypatch):
    await spend(services, "v", 100)
    crashed = crash_once(monkeypatch, SegmentChangeLog, "append")
    with pytest.raises(Crash):
        await services.segments.recompute("v", "c")
    assert crashed and await everything(services) == []
    assert await services.segments.redeliver(timedelta(0), LATER) == 1
    changes = await everything(services)
    assert len(changes) == 6 and {c.before for c in changes} == {None}


async def test_crash_after_the_append_writes_nothing_twice(services, monkeypatch):
    await spend(services, "v", 100)
    await services.segments.recompute("v", "c")
    crashed = crash_once(monkeypatch, SegmentRepository, "confirm")
    # A purchase recomputes its pair at once; the crash leaves the change unconfirmed.
    await spend(services, "v", 6_000)
    assert crashed
    written = await everything(services)
    assert await services.segments.redeliver(timedelta(0), LATER) == 1
    again = await everything(services)
    assert [c.id for c in again] == [c.id for c in written]
    assert [(c.dimension.value, c.before, c.after) for c in again[6:]] == [
        ("BUDGET", "LOW", "MID")]
    positions = [c.position for c in again]
    assert positions == sorted(positions) and len(set(positions)) == len(positions)


async def test_a_second_process_redelivering_the_same_batch_keeps_one_copy(services):
    await spend(services, "v", 100)
    await services.segments.recompute("v", "c")
    [change] = [c for c in await everything(services) if c.dimension.value == "BUDGET"]
    other = SegmentHistory(SegmentChangeLog(services.store))
    assert await other.log.append([change], LATER) == 0
    assert len(await everything(services)) == 6


async def test_rebuild_adds_nothing_to_the_history(services):
    from services.rebuild import rebuild_all

    await spend(services, "v", 100)
    await services.segments.recompute("v", "c")
    before = await everything(services)
    await rebuild_all(services)
    assert await everything(services) == before
    await spend(services, "v", 6_000)
    await services.segments.recompute("v", "c")
    assert [(c.before, c.after) for c in (await everything(services))[6:]] == [("LOW", "MID")]


async def test_a_live_tail_follows_the_log_in_order(services):
    tail = services.history.follow(0, on_overflow=_never, poll_seconds=5)
    first = asyncio.ensure_future(anext(tail))
    await spend_now(services, "v", 100)
    got = [await asyncio.wait_for(first, 2)]
    got += [await asyncio.wait_for(anext(tail), 2) for _ in range(5)]
    assert [c.id for c in got] == [c.id for c in await everything(services)]
    await tail.aclose()


async def test_a_subscriber_that_stops_reading_is_cut_off_with_bounded_memory(services):
    overflowed: list[int] = []

    async def cut_off() -> None:
        overflowed.append(1)

    tail = services.history.follow(0, on_overflow=cut_off, queue_size=3, poll_seconds=0.05)
    first = asyncio.ensure_future(anext(tail))
    await spend_now(services, "v", 100)
    await asyncio.wait_for(first, 2)  # then the consumer stops reading
    for v in range(3):
        await spend_now(services, f"w{v}", 100)
    for _ in range(100):
        if overflowed:
            break
        await asyncio.sleep(0.01)
    assert overflowed == [1]
    with pytest.raises(StopAsyncIteration):  # the tail ends rather than keep buffering
        await asyncio.wait_for(anext(tail), 2)


async def _never() -> None:
    raise AssertionError("a reading consumer never overflows")
