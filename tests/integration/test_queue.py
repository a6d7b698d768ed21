"""The segment computation queue on the store: coalescing, leases, retries, concurrent
workers, the daily run and its lock, and a worker killed mid-batch."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, time, timedelta

import pytest

from api.bootstrap import bootstrap
from domain.events import EventType
from domain.priorities import Cadence, Work, due_at
from domain.queue import JobStatus, QueuePolicy, RunStatus, daily_lock_id
from services.container import Services
from services.daily import DailyRun
from services.health import segment_health
from services.rebuild import rebuild_all
from services.worker import QueueWorker
from store.database import Collections, Store
from tests.queue_support import Clock, crash_on, derived_state, record, world, yielding

POLICY = QueuePolicy(lease=timedelta(seconds=60), max_attempts=3, batch_size=100)
V, C = "viewer-1", "creator-1"
PAIR = {"viewer_id": V, "creator_id": C}


@pytest.fixture
async def services(store: Store) -> Services:
    services = bootstrap(store, config_cache_seconds=0, queue_policy=POLICY)
    await services.start()
    return services


async def jobs(services: Services) -> list:
    return await services.queue.all()


# --- coalescing ------------------------------------------------------------------------------

async def test_repeated_events_coalesce_into_one_pending_job(services):
    for _ in range(3):
        await record(services, EventType.MEDIA_LIKED, media_id="m", **PAIR)
    [job] = await jobs(services)
    assert (job.key, job.status, job.events, job.priority) == (
        f"pair:{V}|{C}", JobStatus.PENDING, 3, 2)
    assert job.due_at == due_at(Cadence.BATCH_HOURLY, job.created_at)

    await record(services, EventType.CHAT_COMPLETED, chat_id="x", tokens=1, message_count=1,
                 **PAIR)
    [job] = await jobs(services)  # still one job: the higher priority and the earlier due win
    assert (job.events, job.priority) == (4, 5)
    assert job.due_at == due_at(Cadence.BATCH_5_MIN, job.created_at)


async def test_an_event_during_a_run_opens_a_new_job_instead_of_joining_the_running_one(
        services):
    await record(services, EventType.MEDIA_LIKED, media_id="m", **PAIR)
    now = datetime.now(UTC)
    [running] = await services.queue.claim("w", now, now + POLICY.lease, due_only=False)
    await record(services, EventType.MEDIA_LIKED, media_id="m2", **PAIR)
    statuses = sorted(j.status.value for j in await jobs(services))
    assert statuses == ["pending", "running"]  # the late event is not lost in the running job
    assert await services.queue.complete([running], "w") == 1
    [left] = await jobs(services)
    assert left.status is JobStatus.PENDING and left.events == 1


async def test_concurrent_enqueues_of_the_same_work_make_one_job(store):
    services = bootstrap(yielding(store), config_cache_seconds=0, queue_policy=POLICY)
    await services.start()
    now = datetime.now(UTC)
    await asyncio.gather(*(services.queue.enqueue(Work.viewer(V), 5, now, now)
                           for _ in range(20)))
    [job] = await jobs(services)
    assert job.events == 20


# --- leases ----------------------------------------------------------------------------------

async def test_an_expired_lease_lets_another_worker_take_the_job_over(services):
    await record(services, EventType.MEDIA_LIKED, media_id="m", **PAIR)
    clock = Clock()
    [dead] = await services.queue.claim("dead", clock(), clock() + POLICY.lease, due_only=False)
    other = QueueWorker(services, "other", clock=clock)

    clock.advance(seconds=59)
    assert (await other.run_once(drain=True)).claimed == 0  # the lease still holds
    assert await services.segments.segments.get_many([(V, C)]) == [None]

    clock.advance(seconds=2)
    run = await other.run_once(drain=True)
    assert (run.claimed, run.processed) == (1, 1)
    assert await jobs(services) == []
    [segment] = await services.segments.segments.get_many([(V, C)])
    assert segment is not None
    assert await services.queue.complete([dead], "dead") == 0  # a late finish changes nothing


async def test_a_long_batch_renews_its_leases(store):
    policy = QueuePolicy(lease=timedelta(seconds=0.15), max_attempts=3)
    services = bootstrap(store, config_cache_seconds=0, queue_policy=policy)
    await services.start()
    await record(services, EventType.MEDIA_LIKED, media_id="m", **PAIR)
    real = services.segments.recompute_many

    async def slow(keys, now=None):
        await asyncio.sleep(0.5)  # three leases long
        return await real(keys, now)

    services.segments.recompute_many = slow  # type: ignore[method-assign]
    worker = QueueWorker(services, "slow")
    run = asyncio.create_task(worker.run_once(drain=True))
    await asyncio.sleep(0.35)
    [job] = await jobs(services)
    assert job.status is JobStatus.RUNNING and job.lease_expires_at > datetime.now(UTC)
    assert (await QueueWorker(services, "thief").run_once(drain=True)).claimed == 0
    assert (await run).processed == 1


async def test_a_job_whose_workers_keep_dying_is_failed_after_its_attempts(services):
    await record(services, EventType.MEDIA_LIKED, media_id="m", **PAIR)
    clock = Clock()
    for n in range(POLICY.max_attempts):
        assert await services.queue.claim(f"dies-{n}", clock(), clock() + POLICY.lease,
                                          due_only=False)
        clock.advance(seconds=61)
    run = await QueueWorker(services, "survivor", clock=clock).run_once(drain=True)
    assert (run.processed, run.failed) == (0, 1)
    assert await jobs(services) == []  # moved to the dead letters
    [job] = await services.queue.recent_failures(10)
    assert job.status is JobStatus.FAILED and "lease expired 3 times" in job.last_error


# --- retries ---------------------------------------------------------------------------------

async def test_a_failing_job_is_retried_with_backoff_then_marked_failed(services):
    await record(services, EventType.MEDIA_LIKED, media_id="m", **PAIR)

    async def broken(keys, now=None):
        raise RuntimeError("store exploded")

    services.segments.recompute_many = broken  # type: ignore[method-assign]
    clock = Clock()
    worker = QueueWorker(services, "w", clock=clock)

    run = await worker.run_once(drain=True)
    assert (run.processed, run.retried, run.failed) == (0, 1, 0)
    [job] = await jobs(services)
    assert (job.status, job.attempts) == (JobStatus.PENDING, 1)
    assert job.last_error == "RuntimeError: store exploded"
    assert job.due_at == clock() + timedelta(seconds=5)
    assert (await worker.run_once()).claimed == 0  # not due before its backoff

    clock.advance(seconds=5)
    assert (await worker.run_once()).retried == 1
    [job] = await jobs(services)
    assert job.attempts == 2 and job.due_at == clock() + timedelta(seconds=10)

    clock.advance(seconds=10)
    assert (await worker.run_once()).failed == 1
    assert await jobs(services) == []
    [job] = await services.queue.recent_failures(10)
    assert (job.status, job.attempts, job.last_error) == (
        JobStatus.FAILED, 3, "RuntimeError: store exploded")

    health = await segment_health(services, clock())
    assert health.failed_last_24h == 1 and health.recent_failures[0].key == job.key
    # A failed job keeps its record (a dead letter) but never blocks new work for the pair.
    await record(services, EventType.MEDIA_LIKED, media_id="m2", **PAIR)
    assert [j.status.value for j in await jobs(services)] == ["pending"]
    assert await services.queue.count(JobStatus.FAILED) == 1


async def test_one_bad_job_does_not_hold_back_the_others_in_its_batch(services):
    for c in ("c1", "c2", "c3"):
        await record(services, EventType.MEDIA_LIKED, media_id="m", viewer_id=V, creator_id=c)
    real = services.segments.recompute_many

    async def fails_for_c2(keys, now=None):
        if (V, "c2") in keys:
            raise ValueError("bad pair")
        return await real(keys, now)

    services.segments.recompute_many = fails_for_c2  # type: ignore[method-assign]
    run = await QueueWorker(services, "w").run_once(drain=True)
    assert (run.processed, run.retried) == (2, 1)
    [left] = await jobs(services)
    assert left.key == f"pair:{V}|c2" and left.last_error == "ValueError: bad pair"


# --- concurrent workers ----------------------------------------------------------------------

async def test_two_concurrent_workers_process_each_job_exactly_once(store):
    services = bootstrap(yielding(store), config_cache_seconds=0, queue_policy=POLICY)
    await services.start()
    await world(services, viewers=20, creators=3)
    queued = {j.key for j in await jobs(services)}
    assert len(queued) > 40

    claims: list[tuple[str, str]] = []
    real_claim = services.queue.claim

    async def claim(owner, *args, **kwargs):
        taken = await real_claim(owner, *args, **kwargs)
        claims.extend((owner, job.key) for job in taken)
        return taken

    services.queue.claim = claim  # type: ignore[method-assign]
    first, second = QueueWorker(services, "first"), QueueWorker(services, "second")
    runs = await asyncio.gather(first.drain(batch_size=5), second.drain(batch_size=5))

    keys = [key for _, key in claims]
    assert sorted(keys) == sorted(queued)  # every job claimed, none twice
    assert {owner for owner, _ in claims} == {"first", "second"}  # both really worked
    assert sum(r.processed for r in runs) == len(queued)
    assert await jobs(services) == []
    state = await derived_state(services)
    await rebuild_all(services)
    assert await derived_state(services) == state


async def test_concurrent_writers_of_the_same_pairs_keep_aggregates_exact(store):
    services = bootstrap(yielding(store), config_cache_seconds=0, queue_policy=POLICY)
    await services.start()
    await world(services, viewers=6, creators=2)
    keys = list(await services.rollups.all_pairs())
    # Three recomputations of every pair race each other (each write is compare-and-set).
    await asyncio.gather(*(services.segments.recompute_many(keys) for _ in range(3)),
                         QueueWorker(services, "w").drain(batch_size=3))
    state = await derived_state(services)
    await rebuild_all(services)
    assert await derived_state(services) == state


# --- a worker killed mid-batch ---------------------------------------------------------------

CRASH_POINTS = {
    # between two batches of pairs: some segments written and delivered, the rest not
    "between batches": ("segments", "save_versioned_many", 2),
    # a batch's segments written, their changes not yet applied to the creators' aggregates
    "after the segment write": ("aggregates", "apply_many", 1),
    # every aggregate of the batch moved, no change confirmed yet (a redelivery must not
    # count any of them twice)
    "after the aggregates moved": ("segments", "confirm", 1),
}


@pytest.mark.parametrize("point", list(CRASH_POINTS))
async def test_a_worker_killed_mid_batch_loses_nothing(services, point):
    await world(services, viewers=12, creators=3)
    queued = len(await jobs(services))
    where, method, nth = CRASH_POINTS[point]
    target = services.segments.segments if where == "segments" else services.aggregates
    undo = crash_on(target, method, nth)
    clock = Clock()
    killed = asyncio.create_task(QueueWorker(services, "killed", clock=clock).run_once(
        drain=True))
    with pytest.raises(asyncio.CancelledError):
        await killed
    undo()
    held = [j for j in await jobs(services) if j.status is JobStatus.RUNNING]
    assert held and {j.lease_owner for j in held} == {"killed"}
    assert len(await jobs(services)) == queued  # nothing finished, nothing lost

    # Before the leases expire nobody may touch the dead worker's jobs...
    assert (await QueueWorker(services, "early", clock=clock).run_once()).claimed == 0
    # ...after, the next worker finishes every one and delivers the orphaned change.
    clock.advance(seconds=2 * POLICY.lease.total_seconds() + 1)
    rescue = await QueueWorker(services, "rescuer", clock=clock).drain()
    assert rescue.processed == queued and rescue.failed == 0
    if point != "between batches":
        assert rescue.redelivered >= 1
    assert await jobs(services) == []
    assert await services.store.db[Collections.SEGMENTS].count_documents(
        {"outbox.0": {"$exists": True}}) == 0
    assert await services.store.db[Collections.CREATOR_AGGREGATES].count_documents(
        {"applied": {"$nin": [{}, None]}}) == 0

    state = await derived_state(services)
    await rebuild_all(services)
    assert await derived_state(services) == state


# --- the daily run ---------------------------------------------------------------------------

async def test_the_daily_run_moves_a_viewer_whose_spend_left_the_window_to_a_lower_tier(
        services):
    now = datetime.now(UTC)
    await record(services, EventType.TRANSACTION_COMPLETED, now - timedelta(days=20),
                 tokens=25_000, kind="tip", **PAIR)
    await QueueWorker(services, "w").drain()
    [segment] = await services.segments.segments.get_many([(V, C)])
    assert segment.budget.value == "HIGH"
    assert (await services.aggregates.get(C)).count("budget", "HIGH") == 1

    later = now + timedelta(days=15)  # the purchase is 35 days old: out of the 30-day window
    result = await DailyRun(services, "w", lambda: later).run(later.date(), later)
    assert result is not None and result.pairs == 1
    [segment] = await services.segments.segments.get_many([(V, C)])
    assert segment.budget.value == "LOW"
    aggregate = await services.aggregates.get(C)
    assert (aggregate.count("budget", "HIGH"), aggregate.count("budget", "LOW")) == (0, 1)
    [run] = await services.locks.daily_runs(1)
    assert (run.day, run.status, run.owner, run.pairs) == (later.date(), RunStatus.FINISHED,
                                                           "w", 1)


async def test_the_daily_run_snapshots_aggregates_and_prunes_old_spend(services):
    now = datetime.now(UTC)
    await record(services, EventType.TRANSACTION_COMPLETED, now - timedelta(days=400),
                 tokens=5_000, kind="tip", **PAIR)
    await record(services, EventType.TRANSACTION_COMPLETED, now - timedelta(days=3),
                 tokens=7_000, kind="tip", **PAIR)
    await QueueWorker(services, "w").drain()
    result = await DailyRun(services, "w", lambda: now).run(now.date(), now)
    assert result is not None and result.pruned_viewers == 1
    [viewer] = await services.rollups.viewers([V])
    assert list(viewer.spend_days) == [(now - timedelta(days=3)).strftime("%Y%m%d")]
    assert viewer.spend_tokens == 12_000  # lifetime totals stay
    assert result.snapshots == 1  # one creator with an audience


async def test_the_lock_keeps_the_daily_run_single(store):
    services = bootstrap(yielding(store), config_cache_seconds=0, queue_policy=POLICY)
    await services.start()
    await record(services, EventType.FIRST_INTERACTION, **PAIR)
    passes = 0
    real = services.rollups.pair_pages

    def counted(*args, **kwargs):
        nonlocal passes
        passes += 1
        return real(*args, **kwargs)

    services.rollups.pair_pages = counted  # type: ignore[method-assign]
    now = datetime.now(UTC)
    day = now.date()
    results = await asyncio.gather(*(DailyRun(services, f"w{n}", lambda: now).run(day)
                                     for n in range(4)))
    assert sum(r is not None for r in results) == 1 and passes == 1
    # Finished is final: a worker looking later does not run the day again.
    assert await DailyRun(services, "late", lambda: now).run(day) is None and passes == 1


async def test_a_daily_run_whose_worker_died_is_taken_over_after_its_lease(services):
    await record(services, EventType.FIRST_INTERACTION, **PAIR)
    clock = Clock()
    day = date(2026, 11, 27)
    assert await services.locks.acquire(daily_lock_id(day), "dead", clock(),
                                        clock() + timedelta(minutes=10))
    assert await DailyRun(services, "next", clock).run(day) is None  # still held
    clock.advance(minutes=11)
    assert await DailyRun(services, "next", clock).run(day) is not None
    [run] = await services.locks.daily_runs(1)
    assert (run.owner, run.status, run.attempts) == ("next", RunStatus.FINISHED, 2)


async def test_a_daily_run_that_lost_its_lock_stops_without_finishing(services):
    await record(services, EventType.FIRST_INTERACTION, **PAIR)

    async def taken_over(*args, **kwargs):
        return False

    services.locks.renew = taken_over  # type: ignore[method-assign]
    day = datetime.now(UTC).date()
    assert await DailyRun(services, "slow", lambda: datetime.now(UTC)).run(day) is None
    [run] = await services.locks.daily_runs(1)
    assert run.status is RunStatus.RUNNING  # left for the worker that took it over


async def test_a_failed_daily_run_is_recorded_and_retried_later(services):
    await record(services, EventType.FIRST_INTERACTION, **PAIR)
    real = services.segments.recompute_many

    async def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    services.segments.recompute_many = broken  # type: ignore[method-assign]
    clock = Clock()
    day = clock().date()
    with pytest.raises(RuntimeError):
        await DailyRun(services, "w", clock).run(day)
    [run] = await services.locks.daily_runs(1)
    assert run.status is RunStatus.FAILED and run.error == "RuntimeError: disk full"
    services.segments.recompute_many = real  # type: ignore[method-assign]
    assert await DailyRun(services, "w", clock).run(day) is None  # not before its retry delay
    clock.advance(minutes=16)
    assert await DailyRun(services, "w", clock).run(day) is not None


async def test_a_worker_starts_the_daily_run_once_it_is_due(store):
    policy = QueuePolicy(daily_check_seconds=0)
    services = bootstrap(store, config_cache_seconds=0, queue_policy=policy)
    await services.start()
    await record(services, EventType.FIRST_INTERACTION, **PAIR)
    today = datetime.now(UTC).date()
    clock = Clock(datetime.combine(today, time(1, 59), tzinfo=UTC))
    worker = QueueWorker(services, "w", clock=clock)
    await worker.tick()
    await asyncio.sleep(0.05)
    assert await services.locks.daily_runs(5) == []  # a fresh store waits for 02:00

    clock.advance(minutes=2)
    await worker.tick()
    for _ in range(100):
        runs = await services.locks.daily_runs(5)
        if runs and runs[0].status is RunStatus.FINISHED:
            break
        await asyncio.sleep(0.01)
    [run] = await services.locks.daily_runs(5)
    assert (run.day, run.status, run.owner) == (today, RunStatus.FINISHED, "w")
    await worker.tick()
    await asyncio.sleep(0.05)
    assert len(await services.locks.daily_runs(5)) == 1 and (
        await services.locks.daily_runs(1))[0].attempts == 1  # finished is not run again
