"""Root fields for the segment computation queue: drain it now (service, admin) and watch
its health (admin)."""

from __future__ import annotations

import strawberry

from resolvers import queue as r
from schema.context import Info
from schema.dead_letter import DeadLetter, DeadLetterSource
from schema.permissions import IsAdmin, IsServiceOrAdmin
from schema.queue_run import QueueRun
from schema.segment_health import SegmentHealth


@strawberry.type
class QueueQueries:
    @strawberry.field(permission_classes=[IsAdmin],
                      description="Queue depth, failures, computation times, the daily run.")
    async def segment_health(self, info: Info) -> SegmentHealth | None:
        return await r.segment_health(info)

    @strawberry.field(permission_classes=[IsAdmin],
                      description="The newest dead letters (1–100, default 20), of one source "
                                  "or of all.")
    async def dead_letters(self, info: Info, origin: DeadLetterSource | None = None,
                           first: int = 20) -> list[DeadLetter] | None:
        return await r.dead_letters(info, origin, first)


@strawberry.type
class QueueMutations:
    @strawberry.mutation(permission_classes=[IsServiceOrAdmin],
                         description="Run up to batchSize (1–1000, default 100) queued jobs "
                                     "now, whether due or not, highest priority first.")
    async def process_segment_queue(self, info: Info, batch_size: int | None = None
                                    ) -> QueueRun | None:
        return await r.process_segment_queue(info, batch_size)
