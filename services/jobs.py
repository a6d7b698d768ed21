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
from services.segments import SegmentService
from store.queue import QueueRepository
from store.rollups import PairKey, RollupRepository

log = logging.getLogger("audience.queue")
#: pairs of a viewer or creator job recomputed per page (then the resume point is recorded)
FAN_OUT_PAGE = 500
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
        """The pairs of a pair job, or the first page of a fan-out job's (tests, readers)."""
        if job.kind is WorkKind.PAIR:
            assert job.viewer_id is not None and job.creator_id is not None
            return [(job.viewer_id, job.creator_id)]
        return (await self._page(job, job.progress))[1]

    async def _page(self, job: Job, after: str | None) -> tuple[str | None, list[PairKey]]:
        """One page of a fan-out job's pairs after ``after`` and the cursor to the next page
        (None when this was the last)."""
        if job.kind is WorkKind.VIEWER:
            assert job.viewer_id is not None
            creators = await self.rollups.creators_of(job.viewer_id, FAN_OUT_PAGE, after)
            pairs = [(job.viewer_id, c) for c in creators]
            ids = creators
        else:
            assert job.creator_id is not None
            viewers = await self.rollups.viewers_of(job.creator_id, FAN_OUT_PAGE, after)
            pairs = [(v, job.creator_id) for v in viewers]
            ids = viewers
        return (ids[-1] if len(ids) == FAN_OUT_PAGE else None), pairs

    async def _fan_out(self, job: Job, owner: str, clock: Clock) -> None:
        """Recompute every pair of a viewer or creator job, a page at a time, recording the
        resume point after each page: memory holds one page, a crash costs one page."""
        after = job.progress
        while True:
            cursor, pairs = await self._page(job, after)
            await self.segments.recompute_many(pairs, clock())
            if cursor is None:
                return
            after = cursor
            if not await self.queue.note_progress(job, owner, after):
                return  # the lease was lost: the new holder goes on from the last page noted

    async def _execute(self, jobs: Sequence[Job], owner: str, clock: Clock,
                       extra_pairs: Iterable[PairKey] = ()) -> None:
        """Pair jobs (and ``extra_pairs``) in one batched recomputation, then each fan-out."""
        pairs: dict[PairKey, None] = dict.fromkeys(extra_pairs)
        for job in jobs:
            if job.kind is WorkKind.PAIR:
                pairs.update(dict.fromkeys(await self.pairs_for(job)))
        await self.segments.recompute_many(list(pairs), clock())
        for job in jobs:
            if job.kind is not WorkKind.PAIR:
                await self._fan_out(job, owner, clock)

    async def run(self, jobs: Sequence[Job], owner: str, clock: Clock,
                  extra_pairs: Iterable[PairKey] = ()) -> tuple[int, int, int]:
        """Recompute every pair the jobs cover (plus ``extra_pairs``) and settle the jobs.

        All jobs go through one batched recomputation; if it fails, each job is retried alone
        so one bad job cannot hold the others back. Returns (done, retried, failed).
        """
        renewal = asyncio.create_task(self._renew(jobs, owner, clock)) if jobs else None
        try:
            try:
                await self._execute(jobs, owner, clock, extra_pairs)
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
                await self._execute([job], owner, clock)
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
