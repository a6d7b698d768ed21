"""Bounded work: a fan-out job pages through its pairs and resumes where a crash stopped it; the
daily run resumes from the lock's record; every collection has a declared placement."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

import services.jobs as jobs_module
from api.bootstrap import bootstrap
from domain.events import EventType
from domain.priorities import Work
from domain.queue import QueuePolicy, daily_lock_id
from domain.segments.risk import RiskLevel
from services.container import Services
from services.daily import DailyRun
from services.worker import QueueWorker
from store.database import Store
from tests.queue_support import Clock, record

FANS = [f"fan-{n:02d}" for n in range(7)]


@pytest.fixture
async def services(store: Store) -> Services:
    services = bootstrap(store, config_cache_seconds=0, queue_policy=QueuePolicy())
    await services.start()
    for fan in FANS:
        await record(services, EventType.MEDIA_LIKED, media_id="m", viewer_id=fan,
                     creator_id="star")
    await QueueWorker(services, "w").drain()
    return services


async def test_a_creator_job_pages_and_resumes_after_a_crash(services, monkeypatch):
    monkeypatch.setattr(jobs_module, "FAN_OUT_PAGE", 3)
    seen: list[list[Any]] = []
    real = services.segments.recompute_many

    async def crash_on_the_second_page(keys: Any, now: Any = None) -> Any:
        seen.append(list(keys))
        if len(seen) == 3:  # the empty pair batch, page one, then page two
            raise RuntimeError("worker died")
        return await real(keys, now)

    services.segments.recompute_many = crash_on_the_second_page  # type: ignore[method-assign]
    clock = Clock()
    await services.queue.enqueue(Work.creator("star"), 5, clock(), clock())
    worker = QueueWorker(services, "w", clock=clock)
    assert (await worker.run_once(drain=True)).retried == 1
    [job] = await services.queue.all()
    assert job.progress == "fan-02"  # page one (fan-00..02) done and recorded
    clock.advance(minutes=1)
    assert (await worker.run_once(drain=True)).processed == 1
    pages = [[v for v, _ in page] for page in seen if page]
    assert pages == [FANS[0:3], FANS[3:6], FANS[3:6], FANS[6:7]]


async def test_the_daily_run_resumes_from_the_last_page_its_lock_records(services):
    now = datetime.now(UTC)
    day = now.date()
    expired = now - timedelta(seconds=1)  # its holder died: the lease is over
    assert await services.locks.acquire(daily_lock_id(day), "dead", expired, expired)
    await services.locks.renew(daily_lock_id(day), "dead", expired, progress="fan-04|star")
    result = await DailyRun(services, "next", lambda: now).run(day)
    assert result is not None and result.pairs == 2  # fan-05 and fan-06 only




async def test_a_viewer_wide_recompute_pages_through_every_pair_however_many(services):
    """set_risk reaches every pair of the viewer, a page at a time (it used to stop at a cap)."""
    for c in range(7):
        await record(services, EventType.FIRST_INTERACTION, viewer_id="wide",
                           creator_id=f"c{c}")
    await services.segments.recompute_all()
    assert await services.segments.recompute_viewer("wide", page=3) == 7
    await services.segments.set_risk("wide", RiskLevel.WATCH, "test", "safety")
    segments = await services.segments.segments.page_for_viewer("wide", None, 100)
    assert len(segments) == 7 and {s.risk for s in segments} == {RiskLevel.WATCH}
