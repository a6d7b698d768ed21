"""Segment history: the change log written with each batch of transitions, and its readers.

``record`` is the batch listener the segment service calls before it confirms a batch: one
transition becomes one ``SegmentChange`` per dimension that moved, written in one append (two
round trips for the batch). A batch redelivered after a crash carries the same transition ids,
hence the same change ids, and the log keeps each id once: nothing lost, nothing twice.

Readers: a viewer's own history (newest first), the operators' feed (log order, resumable by
position) and ``follow``, the live tail behind the ``segmentChanged`` subscription.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence

from domain.segments.changes import SegmentChange, changes_between, dimension_values
from services.segments import Clock, SegmentTransition, utc_now
from store.segment_changes import SegmentChangeLog

#: changes one read of the log returns while tailing it
TAIL_PAGE = 100
#: changes a live subscriber may have waiting; beyond that it is disconnected (it resumes
#: from its last cursor with the feed)
LIVE_QUEUE_SIZE = 1000
#: how often a tail looks at the log when nothing in this process announced a change
#: (changes written by another process: a separate worker)
TAIL_POLL_SECONDS = 1.0

Overflow = Callable[[], Awaitable[None]]


class SlowConsumer(RuntimeError):
    """A live subscriber fell more than its queue behind the log."""


class SegmentHistory:
    """The change log's use cases."""

    def __init__(self, log: SegmentChangeLog, clock: Clock = utc_now) -> None:
        self.log = log
        self.clock = clock
        self._paused = False
        #: set (and replaced) whenever this process appends: wakes every live tail at once
        self._news = asyncio.Event()

    # --- writing ---------------------------------------------------------------------------
    def relevant(self, transition: SegmentTransition) -> bool:
        """Whether a transition moves any dimension (only those reach the log)."""
        return not self._paused and (dimension_values(transition.before)
                                     != dimension_values(transition.after))

    async def record(self, transitions: Sequence[SegmentTransition]) -> None:
        """Append the changes of one batch of transitions (idempotent by transition id)."""
        if self._paused:
            return
        changes = [c for t in transitions
                   for c in changes_between(t.id, t.after.viewer_id, t.after.creator_id,
                                            t.before, t.after, t.after.last_updated)]
        if changes and await self.log.append(changes, self.clock()):
            self._announce()

    async def pause(self) -> None:
        """Stop recording (a rebuild re-derives state, not history: the log stays as it was)."""
        self._paused = True

    async def resume(self) -> None:
        self._paused = False

    def _announce(self) -> None:
        news, self._news = self._news, asyncio.Event()
        news.set()

    # --- reading ---------------------------------------------------------------------------
    async def of_viewer(self, viewer_id: str, creator_id: str | None, before: int | None,
                        limit: int) -> list[SegmentChange]:
        """A viewer's own changes, newest first, before a position."""
        return await self.log.for_viewer(viewer_id, creator_id, before, limit)

    async def feed(self, after: int, limit: int) -> list[SegmentChange]:
        """Every change after a position, in log order."""
        return await self.log.after(after, limit)

    async def head(self) -> int:
        return await self.log.head()

    async def follow(self, after: int, on_overflow: Overflow, *,
                     queue_size: int = LIVE_QUEUE_SIZE, poll_seconds: float = TAIL_POLL_SECONDS
                     ) -> AsyncIterator[SegmentChange]:
        """Every change after ``after`` as it is written, in log order.

        A pump reads the log into a queue of ``queue_size``; when the consumer lets it fill,
        ``on_overflow`` runs (the subscription closes the socket: the consumer may be stuck in
        a send, so the pump must act, not the consumer) and the tail ends. Memory per
        subscriber is bounded by the queue.
        """
        queue: asyncio.Queue[SegmentChange] = asyncio.Queue(queue_size)

        async def pump() -> None:
            position = after
            while True:
                news = self._news
                page = await self.log.after(position, TAIL_PAGE)
                for change in page:
                    if queue.full():
                        await on_overflow()
                        raise SlowConsumer(f"{queue_size} changes waiting")
                    queue.put_nowait(change)
                    position = change.position
                if len(page) < TAIL_PAGE:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(news.wait(), poll_seconds)

        task = asyncio.create_task(pump())
        try:
            while not task.done():
                getter = asyncio.ensure_future(queue.get())
                done, _ = await asyncio.wait({getter, task},
                                             return_when=asyncio.FIRST_COMPLETED)
                if getter in done:
                    yield getter.result()
                    continue
                getter.cancel()
            # The pump ended: an overflow ends the tail, any other error surfaces.
            with contextlib.suppress(SlowConsumer):
                task.result()
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, SlowConsumer):
                await task

