"""What an accepted event sets in motion: the pair now, or a queued job (domain/priorities.py).

The scheduler listens to ingestion. Immediate work recomputes the event's own pair before the
mutation answers (one pair: the price a client pays for urgency) and queues any fan-out at the
same priority, due now. Batched work is only queued — one coalescing write — so ordinary
traffic costs the request almost nothing and the workers absorb the recomputation.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime

from domain.events import Event
from domain.priorities import Work, due_at, plan_for
from services.segments import SegmentService
from store.queue import QueueRepository

Clock = Callable[[], datetime]
log = logging.getLogger("audience.scheduling")


def utc_now() -> datetime:
    return datetime.now(UTC)


class PriorityScheduler:
    """Turns each stored event into immediate work and queued jobs."""

    def __init__(self, segments: SegmentService, queue: QueueRepository,
                 clock: Clock = utc_now) -> None:
        self.segments = segments
        self.queue = queue
        self.clock = clock

    async def __call__(self, event: Event) -> None:
        plan = plan_for(event)
        now = self.clock()
        # Queue the fan-out first: if the inline recompute fails, the work is still owed.
        for work in plan.jobs:
            await self.queue.enqueue(work, plan.priority.level,
                                     due_at(plan.priority.cadence, now), now)
        if plan.inline_pair is not None:
            try:
                await self.segments.recompute(*plan.inline_pair)
            except Exception:
                # The event is stored: a replay of it would be a duplicate and recompute
                # nothing. So the pair is owed as a job (due now) rather than lost with the
                # request; the mutation still answers "accepted".
                log.exception("inline recompute failed; queued instead",
                              extra={"event_id": event.event_id})
                await self.queue.enqueue(Work.pair(*plan.inline_pair), plan.priority.level,
                                         now, now)
