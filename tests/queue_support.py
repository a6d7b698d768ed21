"""Support for queue and worker tests: a settable clock, a store whose calls yield to the
event loop like real I/O, events recorded through ingestion, and the derived state to compare
with a rebuild."""

from __future__ import annotations

import asyncio
import inspect
import itertools
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from domain.events import EventType, parse_event
from services.container import Services
from store.database import Store
from store.segments import segment_to_doc

_ids = itertools.count()


class Clock:
    """A clock tests move by hand (whole milliseconds: what the store keeps)."""

    def __init__(self, at: datetime | None = None) -> None:
        at = at or datetime.now(UTC)
        self.at = at.replace(microsecond=at.microsecond // 1000 * 1000)

    def __call__(self) -> datetime:
        return self.at

    def advance(self, **delta: float) -> None:
        self.at += timedelta(**delta)


class _Yielding:
    """Every awaited store call first yields to the event loop, as a network round trip does,
    so concurrent workers in one process really interleave (mongomock never yields)."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._inner, name)
        if name.startswith("_") or not callable(attr):
            return attr

        def call(*args: Any, **kwargs: Any) -> Any:
            result = attr(*args, **kwargs)
            if not inspect.isawaitable(result):
                return result

            async def after_a_round_trip() -> Any:
                await asyncio.sleep(0)
                return await result

            return after_a_round_trip()

        return call


class YieldingStore(Store):
    def collection(self, name: str) -> Any:
        return _Yielding(super().collection(name))


def yielding(store: Store) -> YieldingStore:
    return YieldingStore(client=store.client, db=store.db, embedded=store.embedded,
                         counter=store.counter)


async def record(services: Services, event_type: EventType,
                 occurred_at: datetime | None = None, **fields: Any) -> None:
    now = datetime.now(UTC)
    event = parse_event(event_type, f"q{next(_ids)}", occurred_at, fields, now=now)
    await services.ingestion.record(event)


async def derived_state(services: Services) -> tuple[list[dict[str, Any]], list[Any]]:
    """Every segment (labels and figures, not its computation time) and every aggregate."""
    segments = []
    async for segment in services.segments.segments.all():
        doc = segment_to_doc(segment)
        doc.pop("last_updated")
        segments.append(doc)
    segments.sort(key=lambda d: (d["viewer_id"], d["creator_id"]))
    return segments, await services.aggregates.snapshot()


def crash_on(target: Any, method: str, nth: int) -> Callable[[], None]:
    """Make the ``nth`` call of ``target.method`` kill the calling task right before it does
    its work (the way SIGKILL would stop a worker there). Returns the undo."""
    real = getattr(target, method)
    calls = 0

    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == nth:
            task = asyncio.current_task()
            assert task is not None
            task.cancel()
            await asyncio.sleep(0)  # the cancellation lands here
        return await real(*args, **kwargs)

    setattr(target, method, wrapper)
    return lambda: delattr(target, method)


async def world(services: Services, viewers: int = 12, creators: int = 3) -> None:
    """Batched work of every kind: pair, viewer and creator jobs over overlapping pairs."""
    for c in range(creators):
        await record(services, EventType.LOCATION_UPDATED, user_id=f"c{c}", latitude=48.0,
                     longitude=11.0 + c)
        await record(services, EventType.PROFILE_INTERESTS_UPDATED, user_id=f"c{c}",
                     interests=["a", "b", "c"])
    for v in range(viewers):
        await record(services, EventType.LOCATION_UPDATED, user_id=f"v{v}",
                     latitude=48.0 + v / 10, longitude=11.0)
        for c in range(creators):
            pair = {"viewer_id": f"v{v}", "creator_id": f"c{c}"}
            await record(services, EventType.PROFILE_VIEWED, dwell_seconds=30.0, **pair)
            await record(services, EventType.CHAT_COMPLETED, chat_id="x", tokens=5,
                         message_count=3, **pair)
            if (v + c) % 3 == 0:
                await record(services, EventType.TRANSACTION_COMPLETED, tokens=60 * (v + 1),
                             kind="tip", **pair)
