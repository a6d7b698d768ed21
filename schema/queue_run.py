"""``QueueRun``: what one ``processSegmentQueue`` pass did."""

from __future__ import annotations

import strawberry

from domain.queue import QueueRun as DomainQueueRun


@strawberry.type(description="One pass over the segment computation queue.")
class QueueRun:
    _run: strawberry.Private[DomainQueueRun]
    processed: int = strawberry.field(description="Jobs run and removed from the queue.")
    claimed: int = strawberry.field(description="Jobs this pass took from the queue.")
    retried: int = strawberry.field(description="Jobs that failed and wait for a retry.")
    failed: int = strawberry.field(
        description="Jobs that used their last attempt and are now marked failed.")
    redelivered: int = strawberry.field(
        description="Segment changes a dead worker left undelivered, delivered now.")
    remaining: int = strawberry.field(description="Jobs still pending after this pass.")
    duration_ms: float

    @classmethod
    def from_domain(cls, run: DomainQueueRun) -> QueueRun:
        return cls(_run=run, processed=run.processed, claimed=run.claimed,
                   retried=run.retried, failed=run.failed, redelivered=run.redelivered,
                   remaining=run.remaining or 0, duration_ms=round(run.seconds * 1000, 3))
