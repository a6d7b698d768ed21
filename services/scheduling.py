"""What an accepted event sets in motion: the pair now, or a queued job (domain/priorities.py).

The scheduler listens to ingestion. Immediate work recomputes the event's own pair before the
mutation answers (one pair: the price a client pays for urgency) and queues any fan-out at the
same priority, due now. Batched work is only queued — one coalescing write — so ordinary
traffic costs the request almost nothing and the workers absorb the recomputation.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from domain.events import Event
from domain.priorities import Work, due_at, plan_for
from services.segments import SegmentService
from store.queue import QueuedWork, QueueRepository

Clock = Callable[[], datetime]
log = logging.getLogger("audience.scheduling")


def utc_now() -> datetime:
    return datetime.now(UTC)


class PriorityScheduler:
    """Turns a batch of stored events into immediate work and queued jobs: one queue write
    for the batch, and one recomputation batch for the pairs that cannot wait."""

    def __init__(self, segments: SegmentService, queue: QueueRepository,
                 clock: Clock = utc_now) -> None:
        self.segments = segments
        self.queue = queue
        self.clock = clock

    async def __call__(self, events: Sequence[Event]) -> None:
        now = self.clock()
        plans = [plan_for(event) for event in events]
        # Queue the fan-out first: if the inline recompute fails, the work is still owed.
        await self.queue.enqueue_many(
            [QueuedWork(work, plan.priority.level, due_at(plan.priority.cadence, now))
             for plan in plans for work in plan.jobs], now)
        inline: dict[tuple[str, str], int] = {}
        for plan in plans:
            if plan.inline_pair is not None:
                inline[plan.inline_pair] = max(plan.priority.level,
                                               inline.get(plan.inline_pair, 0))
        if not inline:
            return
        try:
            await self.segments.recompute_many(list(inline))
        except Exception:
            # The events are stored: a replay would be a duplicate and recompute nothing. So
            # the pairs are owed as jobs (due now) rather than lost with the request; the
            # mutation still answers "accepted".
            log.exception("inline recompute failed; queued instead",
                          extra={"pairs": len(inline)})
            await self.queue.enqueue_many(
                [QueuedWork(Work.pair(*pair), level, now) for pair, level in inline.items()],
                now)
