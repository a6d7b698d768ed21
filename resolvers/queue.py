"""Queue resolvers: drain queued segment work now, and report the queue's health."""

from __future__ import annotations

from datetime import UTC, datetime

from domain.queue import DEFAULT_BATCH_SIZE, MAX_BATCH_SIZE, MIN_BATCH_SIZE, DeadLetterSource
from schema.context import Info
from schema.dead_letter import DeadLetter
from schema.errors import bad_input
from schema.queue_run import QueueRun
from schema.segment_health import SegmentHealth
from services.health import dead_letters as read_dead_letters
from services.health import segment_health as read_health
from services.worker import QueueWorker


async def process_segment_queue(info: Info, batch_size: int | None) -> QueueRun:
    size = DEFAULT_BATCH_SIZE if batch_size is None else batch_size
    if not MIN_BATCH_SIZE <= size <= MAX_BATCH_SIZE:
        raise bad_input(f"batchSize must be between {MIN_BATCH_SIZE} and {MAX_BATCH_SIZE}",
                        field="batchSize")
    context = info.context
    worker = QueueWorker(context.services, worker_id=f"graphql:{context.request_id}")
    run = await worker.run_once(size, drain=True, count_remaining=True)
    return QueueRun.from_domain(run)


async def segment_health(info: Info) -> SegmentHealth:
    return SegmentHealth.from_domain(await read_health(info.context.services,
                                                       datetime.now(UTC)))


#: bounds of ``deadLetters(first:)``
MAX_DEAD_LETTERS = 100


async def dead_letters(info: Info, source: DeadLetterSource | None, first: int
                       ) -> list[DeadLetter]:
    if not 1 <= first <= MAX_DEAD_LETTERS:
        raise bad_input(f"first must be between 1 and {MAX_DEAD_LETTERS}", field="first")
    found = await read_dead_letters(info.context.services, source, first)
    return [DeadLetter.from_domain(d) for d in found]
