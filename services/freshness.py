"""Read-your-writes: a reader about to read segments first runs the queued work that covers
them, so batching never shows a client a segment older than its own last event.

One query finds the pending or running jobs covering what is about to be read; when there are
none (the usual case) that query is the whole cost. Otherwise:

* a pending pair job is claimed like a worker claims it (two readers never both run it) and
  run — one pair, and the job is then done for everyone;
* a viewer-wide or creator-wide job (budget, location, risk; a creator's location or interests)
  is a fan-out a reader never runs whole: the reader recomputes the requested pairs it covers
  (for a viewer job, one page of the viewer's pairs) and leaves the job to the workers;
* a job a worker is running right now may not have reached the requested pairs yet: the reader
  recomputes those pairs itself rather than wait.

If the recomputation fails the reader still answers from the stored segments (a read should
not fail because a write-side job did) and the claimed jobs go back to the queue with the error.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Sequence
from datetime import datetime

from domain.priorities import WorkKind, work_key
from domain.queue import Job, JobStatus, QueuePolicy
from services.jobs import JobRunner, covers
from store.queue import QueueRepository
from store.rollups import PairKey

log = logging.getLogger("audience.freshness")
Clock = Callable[[], datetime]


class Freshness:
    def __init__(self, queue: QueueRepository, runner: JobRunner, policy: QueuePolicy,
                 clock: Clock) -> None:
        self.queue = queue
        self.runner = runner
        self.policy = policy
        self.clock = clock

    async def pairs(self, keys: Sequence[PairKey]) -> bool:
        """Bring the segments of ``keys`` up to date; ``True`` when anything was run."""
        lookup = {work_key(WorkKind.PAIR, v, c) for v, c in keys}
        lookup |= {work_key(WorkKind.VIEWER, v, None) for v, _ in keys}
        lookup |= {work_key(WorkKind.CREATOR, None, c) for _, c in keys}
        jobs = await self.queue.active(sorted(lookup))
        return await self._run(jobs, keys)

    async def viewer_page(self, viewer_id: str, creator_ids: Sequence[str]) -> bool:
        """Before listing a viewer's segments: run the viewer's own queued work (including
        pairs that have no segment yet) and the creator-wide work for the listed creators."""
        keys = [work_key(WorkKind.CREATOR, None, c) for c in creator_ids]
        jobs = await self.queue.active(keys, viewer_id=viewer_id)
        return await self._run(jobs, [(viewer_id, c) for c in creator_ids])

    async def viewer(self, viewer_id: str) -> bool:
        """Run the viewer's own queued work (pairs, including ones with no segment yet, and
        viewer-wide jobs) before something lists the viewer's segments."""
        return await self.viewer_page(viewer_id, [])

    async def _run(self, jobs: list[Job], requested: Sequence[PairKey]) -> bool:
        if not jobs:
            return False
        owner = f"reader:{uuid.uuid4().hex[:12]}"
        now = self.clock()
        claimed: list[Job] = []
        extra: dict[PairKey, None] = {}
        for job in jobs:
            if job.status is JobStatus.PENDING and job.kind is WorkKind.PAIR:
                mine = await self.queue.claim_pending(job.id, owner, now,
                                                      now + self.policy.lease)
                if mine is not None:
                    claimed.append(mine)
                    continue
            extra.update(dict.fromkeys(k for k in requested if covers(job, k)))
            if job.kind is WorkKind.VIEWER:
                # a viewer's own read: the next page of the job's pairs (bounded, and the pairs
                # that have no segment yet are among them); the job stays with the workers
                extra.update(dict.fromkeys(await self.runner.pairs_for(job)))
            if job.kind is WorkKind.PAIR and job.viewer_id and job.creator_id:
                extra[(job.viewer_id, job.creator_id)] = None
        done, retried, failed = await self.runner.run(claimed, owner, self.clock, extra)
        if retried or failed:
            log.warning("fresh read fell back to stored segments",
                        extra={"retried": retried, "failed": failed})
        return True
