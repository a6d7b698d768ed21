"""``segmentHealth`` and the queue gauges on ``/metrics``: one read of the queue's state.

Queue figures come from the store, so they are the same whichever process answers; computation
times and the threshold-cache hit rate are this process's own (each worker reports its own
percentiles in its heartbeat).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from domain.queue import (
    DeadLetter,
    DeadLetterSource,
    JobStatus,
    SegmentHealth,
    next_daily_run,
    percentile,
)
from services.container import Services

#: workers that reported within this window are listed
WORKER_WINDOW = timedelta(hours=1)
#: failed jobs listed for the operator, newest first
RECENT_FAILURES = 10


async def segment_health(services: Services, now: datetime) -> SegmentHealth:
    queue = services.queue
    depth = await queue.depth()
    oldest = await queue.oldest(JobStatus.PENDING, "created_at")
    earliest_due = await queue.oldest(JobStatus.PENDING, "due_at")
    runs = await services.locks.daily_runs(1)
    timings = list(services.segments.timings)
    return SegmentHealth(
        checked_at=now,
        depth=tuple(depth),
        failed_last_24h=await queue.failed_since(now - timedelta(hours=24)),
        oldest_pending_age_seconds=max(0.0, (now - oldest).total_seconds()) if oldest else None,
        max_overdue_seconds=(max(0.0, (now - earliest_due).total_seconds())
                             if earliest_due else None),
        compute_p50_seconds=percentile(timings, 0.5),
        compute_p95_seconds=percentile(timings, 0.95),
        compute_samples=len(timings),
        threshold_cache_hit_rate=services.configuration.stats.hit_rate,
        last_daily_run=runs[0] if runs else None,
        next_daily_run_at=next_daily_run(now),
        workers=tuple(await services.workers.seen_since(now - WORKER_WINDOW)),
        recent_failures=tuple(await queue.recent_failures(RECENT_FAILURES)),
        unapplied_events=await services.ingestion.unapplied(),
        dead_letters={source: await services.dead_letters.count(source)
                      for source in DeadLetterSource},
    )


async def dead_letters(services: Services, source: DeadLetterSource | None, limit: int
                       ) -> list[DeadLetter]:
    """The newest dead letters of ``source`` (of every source when None), newest first."""
    sources = [source] if source is not None else list(DeadLetterSource)
    found = [letter for s in sources for letter in await services.dead_letters.recent(s, limit)]
    return sorted(found, key=lambda letter: letter.at, reverse=True)[:limit]
