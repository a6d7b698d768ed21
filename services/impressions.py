"""Impressions off the request path, and the conversions that follow them.

Serving a ranking only appends to an in-memory buffer (no store call in the request). A
background task started on the first impression writes the buffer in batches — at once when it
holds ``FLUSH_BATCH`` impressions, else after ``FLUSH_INTERVAL_SECONDS`` — and ``flush()``
writes it now (tests, the worker, shutdown). A failed write puts the batch back (up to
``MAX_BUFFER`` impressions; past that the oldest are dropped and counted in ``dropped``).

Conversions are an ingestion listener: see ``domain.discovery.impressions`` for the rules.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Sequence

from domain.discovery.impressions import Impression, outcome_of, within_window
from domain.events import Event
from domain.segments.risk import RiskLevel
from services.kpis import KPI_CONVERSION_WINDOW, KpiCounters, NoKpis
from store.impressions import ImpressionRepository, Outcome
from store.risk import RiskRepository

FLUSH_BATCH = 500
FLUSH_INTERVAL_SECONDS = 1.0
MAX_BUFFER = 100_000

log = logging.getLogger("audience.impressions")


class ImpressionRecorder:
    """Owns the impression buffer of one process and its flushing task."""

    def __init__(self, repository: ImpressionRepository, risk: RiskRepository, *,
                 batch: int = FLUSH_BATCH, interval: float = FLUSH_INTERVAL_SECONDS,
                 kpis: KpiCounters | None = None) -> None:
        self.repository = repository
        self._kpis = kpis or NoKpis()
        self._risk = risk
        self._batch = batch
        self._interval = interval
        self._buffer: list[Impression] = []
        #: pairs waiting in the buffer or being written: a conversion for one of them waits
        self._pending: Counter[tuple[str, str]] = Counter()
        self._lock = asyncio.Lock()
        self._full = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.written = 0
        self.dropped = 0

    @property
    def buffered(self) -> int:
        return len(self._buffer)

    def record(self, impressions: Sequence[Impression]) -> None:
        """Buffer impressions (no I/O) and make sure a flush will follow."""
        if not impressions:
            return
        self._buffer.extend(impressions)
        self._pending.update((i.viewer_id, i.creator_id) for i in impressions)
        self._trim()
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run())
        if len(self._buffer) >= self._batch:
            self._full.set()

    async def _run(self) -> None:
        while self._buffer:
            try:
                await asyncio.wait_for(self._full.wait(), self._interval)
            except TimeoutError:
                pass
            self._full.clear()
            try:
                await self.flush()
            except Exception:  # logged in flush; the batch is back in the buffer
                await asyncio.sleep(self._interval)

    async def flush(self) -> int:
        """Write everything buffered now; returns how many impressions were written."""
        async with self._lock:
            batch, self._buffer = self._buffer, []
            if not batch:
                return 0
            try:
                await self.repository.record(batch)
            except Exception:
                log.exception("writing %d impressions failed; kept for the next flush",
                              len(batch))
                self._buffer[:0] = batch
                self._trim()
                raise
            self._pending.subtract((i.viewer_id, i.creator_id) for i in batch)
            self._pending = +self._pending  # drop zero counts
            self.written += len(batch)
            self._kpis.count_impressions(len(batch))
            return len(batch)

    def _trim(self) -> None:
        excess = len(self._buffer) - MAX_BUFFER
        if excess > 0:
            dropped, self._buffer = self._buffer[:excess], self._buffer[excess:]
            self._pending.subtract((i.viewer_id, i.creator_id) for i in dropped)
            self._pending = +self._pending
            self.dropped += excess

    async def close(self) -> None:
        """Stop the background task and write what is left (app shutdown)."""
        task, self._task = self._task, None
        if task is not None and not task.done():
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                pass
        await self.flush()

    async def on_events(self, events: Sequence[Event]) -> None:
        """Count the interactions and transactions that follow an impression of their creator:
        a constant number of round trips for the batch (impressions, risk, claims, counters)."""
        # an outcome always names its viewer and creator (domain.discovery.impressions)
        following = [(event, outcome, (str(event.viewer_id), str(event.creator_id)))
                     for event in events if (outcome := outcome_of(event)) is not None]
        if not following:
            return
        if any(pair in self._pending for _, _, pair in following):
            await self.flush()  # the impression they follow may still be in the buffer
        shown = await self.repository.latest_many([pair for _, _, pair in following])
        matched = [(event, outcome, impression) for event, outcome, pair in following
                   if (impression := shown.get(pair)) is not None
                   and within_window(impression.last_impressed_at, event.occurred_at)]
        if not matched:
            return
        viewers = sorted({e.viewer_id for e, _, _ in matched if e.viewer_id})
        blocked = {v for v, risk in zip(viewers, await self._risk.levels(viewers), strict=True)
                   if risk is RiskLevel.BLOCKED}
        # BLOCKED viewers never appear in anyone's counts
        matched = [m for m in matched if m[0].viewer_id not in blocked]
        # Both steps are keyed by the event id, so crash recovery running this again for the
        # same events counts nothing twice (store/impressions.py).
        first = await self.repository.claim_conversions(
            [(imp, event.occurred_at, event.event_id) for event, _, imp in matched])
        await self.repository.add_outcomes([
            Outcome(imp, event.event_id, int(outcome.interaction),
                    int(event.event_id in first), outcome.revenue_tokens)
            for event, outcome, imp in matched])
        # the conversion KPI: a paid interaction within a day of the impression
        # (any event with tokens, a transaction's revenue included)
        paid = [(imp, event.event_id) for event, _, imp in matched
                if int(event.fields.get("tokens") or 0) > 0
                and event.occurred_at <= imp.last_impressed_at + KPI_CONVERSION_WINDOW]
        if paid:
            self._kpis.count_conversions(await self.repository.claim_paid(paid))
