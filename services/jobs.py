"""Running claimed jobs: what pairs a job covers, recomputing them, and settling each job
(done, retried after its backoff, or failed with its error) — shared by workers and readers."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime

from domain.priorities import WorkKind
from domain.queue import Job, QueuePolicy, backoff, error_text
from services.segments import MAX_VIEWER_PAIRS, SegmentService
from store.queue import QueueRepository
from store.rollups import PairKey, RollupRepository

log = logging.getLogger("audience.queue")
Clock = Callable[[], datetime]


def covers(job: Job, key: PairKey) -> bool:
    """Whether running ``job`` recomputes the pair ``key``."""
    viewer, creator = key
    if job.kind is WorkKind.PAIR:
        return job.viewer_id == viewer and job.creator_id == creator
    if job.kind is WorkKind.VIEWER:
        return job.viewer_id == viewer
    return job.creator_id == creator


class JobRunner:
    """Executes jobs a caller holds the lease of, and records each outcome."""

    def __init__(self, queue: QueueRepository, rollups: RollupRepository,
                 segments: SegmentService, policy: QueuePolicy) -> None:
        self.queue = queue
        self.rollups = rollups
        self.segments = segments
        self.policy = policy

    async def pairs_for(self, job: Job) -> list[PairKey]:
        """The pairs ``job`` recomputes (read now, so a pair created since is included)."""
        if job.kind is WorkKind.PAIR:
            assert job.viewer_id is not None and job.creator_id is not None
            return [(job.viewer_id, job.creator_id)]
        if job.kind is WorkKind.VIEWER:
            assert job.viewer_id is not None
            creators = await self.rollups.creators_of(job.viewer_id, MAX_VIEWER_PAIRS)
            return [(job.viewer_id, c) for c in creators]
        assert job.creator_id is not None
        return [(v, job.creator_id) for v in await self.rollups.viewers_of(job.creator_id)]

    async def run(self, jobs: Sequence[Job], owner: str, clock: Clock,
                  extra_pairs: Iterable[PairKey] = ()) -> tuple[int, int, int]:
        """Recompute every pair the jobs cover (plus ``extra_pairs``) and settle the jobs.

        All jobs go through one batched recomputation; if it fails, each job is retried alone
        so one bad job cannot hold the others back. Returns (done, retried, failed).
        """
        renewal = asyncio.create_task(self._renew(jobs, owner, clock)) if jobs else None
        try:
            try:
                pairs: dict[PairKey, None] = dict.fromkeys(extra_pairs)
                for job in jobs:
                    pairs.update(dict.fromkeys(await self.pairs_for(job)))
                await self.segments.recompute_many(list(pairs), clock())
            except Exception as exc:
                if not jobs:
                    log.warning("recompute failed", extra={"error": error_text(exc)})
                if len(jobs) <= 1:
                    return await self._settle_failure(jobs, owner, exc, clock)
                log.warning("batch failed, running its jobs one by one",
                            extra={"jobs": len(jobs), "error": error_text(exc)})
                return await self._one_by_one(jobs, owner, clock)
            return await self.queue.complete(jobs, owner), 0, 0
        finally:
            if renewal is not None:
                renewal.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await renewal

    async def _one_by_one(self, jobs: Sequence[Job], owner: str, clock: Clock
                          ) -> tuple[int, int, int]:
        done = retried = failed = 0
        for job in jobs:
            try:
                await self.segments.recompute_many(await self.pairs_for(job), clock())
            except Exception as exc:
                _, r, f = await self._settle_failure([job], owner, exc, clock)
                retried, failed = retried + r, failed + f
                continue
            done += await self.queue.complete([job], owner)
        return done, retried, failed

    async def _settle_failure(self, jobs: Sequence[Job], owner: str, exc: Exception,
                              clock: Clock) -> tuple[int, int, int]:
        retried = failed = 0
        error, now = error_text(exc), clock()
        for job in jobs:
            if self.policy.next_attempt(job.attempts):
                log.warning("job failed, will retry", extra={
                    "job": job.key, "attempts": job.attempts, "error": error})
                await self.queue.retry(job, owner, error, now + backoff(job.attempts), now)
                retried += 1
            else:
                log.error("job failed for good", extra={
                    "job": job.key, "attempts": job.attempts, "error": error})
                await self.queue.fail(job, owner, error, now)
                failed += 1
        return 0, retried, failed

    async def _renew(self, jobs: Sequence[Job], owner: str, clock: Clock) -> None:
        """Keep the leases alive while a long batch runs (a third of the lease apart)."""
        interval = max(self.policy.lease.total_seconds() / 3, 0.05)
        ids = [j.id for j in jobs]
        while True:
            await asyncio.sleep(interval)
            try:
                await self.queue.renew(ids, owner, clock() + self.policy.lease)
            except Exception:  # a missed renewal is retried; the lease has slack for it
                log.warning("lease renewal failed", exc_info=True)
