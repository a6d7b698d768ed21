"""The daily full run (02:00 UTC): what the event-driven updates cannot see by themselves.

Time passes without events: spend leaves the budget window, so tiers must decay; a pair whose
creator moved is fixed by its creator job, but a full pass is the safety net for anything a job
missed. The run also snapshots every creator's aggregates (growth compares snapshots), sums the
releases into the platform release (``platformInsights``) and keeps
storage bounded (old spend buckets, stale delivery marks, long-failed jobs).

A lock document per day (``daily:YYYYMMDD``) makes the run single: creating it is the claim, so
however many workers look at 02:00, one runs it. The holder renews its lease between batches; if
it dies, another worker takes the lock over once the lease expires and runs the day again from
the start (every step is idempotent).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from domain.queue import (
    DAILY_LOCK_LEASE,
    FAILED_RETENTION,
    SPEND_RETENTION_DAYS,
    daily_lock_id,
    error_text,
)
from domain.rollups import day_key

if TYPE_CHECKING:  # the container builds the services this run walks
    from services.container import Services

log = logging.getLogger("audience.daily")
Clock = Callable[[], datetime]

#: pairs recomputed between two lock renewals
DAILY_CHUNK = 1000
#: a run that raised may be retried by any worker after this long
DAILY_RETRY_AFTER = timedelta(minutes=15)


class LockLost(RuntimeError):
    """Another worker took the daily lock over (this one was presumed dead)."""


@dataclass(frozen=True)
class DailyResult:
    day: date
    pairs: int
    snapshots: int
    pruned_viewers: int


class DailyRun:
    def __init__(self, services: Services, owner: str, clock: Clock,
                 lease: timedelta = DAILY_LOCK_LEASE) -> None:
        self.services = services
        self.owner = owner
        self.clock = clock
        self.lease = lease

    async def run(self, day: date, now: datetime | None = None) -> DailyResult | None:
        """Run ``day``'s full pass unless another worker runs or ran it; ``None`` if not ours.

        ``now`` is the instant segments are classified at (the run's start by default).
        """
        now = now or self.clock()
        lock_id = daily_lock_id(day)
        locks = self.services.locks
        if not await locks.acquire(lock_id, self.owner, self.clock(),
                                   self.clock() + self.lease):
            return None
        log.info("daily run started", extra={"day": day.isoformat(), "owner": self.owner})
        try:
            result = await self._steps(lock_id, day, now)
        except LockLost:
            log.warning("daily run lost its lock; the new holder finishes it",
                        extra={"day": day.isoformat()})
            return None
        except Exception as exc:
            log.exception("daily run failed", extra={"day": day.isoformat()})
            await locks.fail(lock_id, self.owner, self.clock(), error_text(exc),
                             self.clock() + DAILY_RETRY_AFTER)
            raise
        await locks.finish(lock_id, self.owner, self.clock(), {
            "pairs": result.pairs, "snapshots": result.snapshots,
            "pruned_viewers": result.pruned_viewers})
        log.info("daily run finished", extra={"day": day.isoformat(), "pairs": result.pairs})
        return result

    async def _steps(self, lock_id: str, day: date, now: datetime) -> DailyResult:
        services = self.services
        # Page by page from where an earlier attempt of the day stopped (the lock records the
        # last pair done): memory holds one page whatever the number of pairs.
        recomputed = 0
        async for last, keys in services.rollups.pair_pages(
                after=await services.locks.progress(lock_id), size=DAILY_CHUNK):
            await services.segments.recompute_many(keys, now)
            recomputed += len(keys)
            await self._renew(lock_id, progress=last)
        snapshots = await self._snapshot(day)
        await self._renew(lock_id)
        # after the snapshots: every release the night's pass cut is summed in
        await services.platform.refresh()
        pruned = await services.rollups.prune_spend_days(
            day_key(now - timedelta(days=SPEND_RETENTION_DAYS)))
        await services.aggregates.forget_stale(now - timedelta(days=1))
        await services.queue.prune_failed(now - FAILED_RETENTION)
        return DailyResult(day, recomputed, snapshots, pruned)

    async def _snapshot(self, day: date) -> int:
        """Store the day's aggregate snapshot (services/insights.py owns what it holds)."""
        return await self.services.insights.snapshot_all(day)

    async def _renew(self, lock_id: str, progress: str | None = None) -> None:
        if not await self.services.locks.renew(lock_id, self.owner, self.clock() + self.lease,
                                               progress):
            raise LockLost(lock_id)
