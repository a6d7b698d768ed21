"""Ingestion: validate → store once in the ledger → roll up → notify whoever listens.

Exactly once, crash or not. The ledger insert is the commit point: it decides whether a
delivery is new or a duplicate. The effects that follow (rollups, then listeners) are finished
by whoever gets there — the request itself, or, if its process died half-way, recovery:

- the ledger document is inserted with ``applied: False`` and marked ``applied: True`` once
  the rollups and every listener are done (one extra write per event);
- every rollup counter update is idempotent per event id (``store/rollups.py``, exact within
  the last ``APPLIED_EVENTS_WINDOW`` events of each document), and so is the conversion
  listener (``store/impressions.py``); the scheduler only queues coalesced work and recomputes
  a pair, which is idempotent by nature;
- ``recover`` (the worker's periodic sweep) finishes events still unapplied
  ``RECOVERY_AFTER`` after they were received — younger ones may just be in flight;
- a duplicate delivery of an event that is still unapplied after that grace finishes it right
  there, so a client retrying after a crash sees its event counted without waiting for a
  sweep. It is still answered ``duplicate: true``: the id was stored before.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from domain.events import ConflictingReplay, Event, conflicting_replay
from domain.rollups import rollup_update
from store.ledger import EventLedger
from store.rollups import RollupItem, RollupRepository

#: a pipeline stage: takes a batch of newly stored events
EventListener = Callable[[Sequence[Event]], Awaitable[None]]
Clock = Callable[[], datetime]
#: told each event's outcome: (event type, "accepted" | "duplicate" | "refused")
EventOutcomes = Callable[[str, str], None]
ACCEPTED, DUPLICATE, REFUSED = "accepted", "duplicate", "refused"


def _ignore(event_type: str, outcome: str) -> None:
    return None

#: how long an unapplied event is presumed in flight before recovery takes it on (a request
#: that takes longer is dead or as good as); also the lease of one recovery attempt
RECOVERY_AFTER = timedelta(seconds=60)
#: stranded events one recovery pass takes on at most (the rest wait for the next sweep)
RECOVERY_BATCH = 500

log = logging.getLogger("audience.ingest")


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Receipt:
    """What a client learns about one event: stored now, or already stored before."""

    event_id: str
    accepted: bool
    duplicate: bool


class Ingestion:
    """Records events exactly once and keeps rollups in step with the ledger."""

    def __init__(self, ledger: EventLedger, rollups: RollupRepository, *,
                 recovery_after: timedelta = RECOVERY_AFTER, clock: Clock = utc_now,
                 outcomes: EventOutcomes = _ignore,
                 handlers: Sequence[EventListener] = ()) -> None:
        self._ledger = ledger
        self._outcomes = outcomes
        self._rollups = rollups
        #: what runs after the rollups of every newly stored event, in order (handed in by
        #: the composition root); never for a duplicate, except to finish an event a crash
        #: left unapplied, so each must tolerate running again for the same event
        self.handlers: tuple[EventListener, ...] = tuple(handlers)
        self.recovery_after = recovery_after
        self._clock = clock

    async def check_replays(self, events: Sequence[Event]) -> None:
        """Raise :class:`ConflictingReplay` when any of ``events`` reuses an event id with
        another payload — one already in the ledger, or an earlier member of the same batch —
        so that a batch is refused before any of it is stored (one round trip)."""
        stored = await self._ledger.payloads([e.event_id for e in events])
        seen: dict[str, Event] = {}
        for event in events:
            earlier = seen.setdefault(event.event_id, event)
            if earlier is not event and conflicting_replay(
                    event, earlier.payload_hash, earlier.occurred_at, earlier.occurred_at_sent):
                raise ConflictingReplay(event.event_id)
            original = stored.get(event.event_id)
            if original is not None and conflicting_replay(
                    event, original.payload_hash, original.occurred_at,
                    original.occurred_at_sent):
                raise ConflictingReplay(event.event_id)

    async def record(self, event: Event, *, received_at: datetime | None = None) -> Receipt:
        """Store ``event`` once: a batch of one (the same code as :meth:`record_batch`)."""
        [receipt] = await self.record_batch([event], received_at=received_at)
        return receipt

    async def record_batch(self, events: Sequence[Event], *,
                           received_at: datetime | None = None) -> list[Receipt]:
        """Store each event once, in one ledger round trip for the batch; a replayed id (or
        one repeated within the batch) changes nothing and is answered as a duplicate.

        The new events' effects then run as one batch — each stage a constant number of
        round trips, whatever the batch size — and one write marks them all applied; a crash
        in between leaves them unapplied for recovery, as for one event."""
        try:
            # a batch with one conflict stores nothing; an erased viewer's event id stays a
            # duplicate for ever (services/erasure.py): both reads overlap
            _, erased = await asyncio.gather(
                self.check_replays(events), self._ledger.erased([e.event_id for e in events]))
        except ConflictingReplay:
            self.refuse([event.type.value for event in events])
            raise
        storing = [event for event in events if event.event_id not in erased]
        appended = iter(await self._ledger.append_many(storing, received_at or self._clock()))
        stored = [False if event.event_id in erased else next(appended) for event in events]
        fresh = [event for event, new in zip(events, stored, strict=True) if new]
        if fresh:
            await self._effects(fresh)
            await self._ledger.mark_applied([event.event_id for event in fresh])
        receipts = []
        for event, new in zip(events, stored, strict=True):
            if not new and event.event_id not in erased:
                await self._finish_if_stranded(event)
            self._outcomes(event.type.value, ACCEPTED if new else DUPLICATE)
            receipts.append(Receipt(event.event_id, accepted=True, duplicate=not new))
        return receipts

    async def _finish_if_stranded(self, event: Event) -> None:
        stranded = await self._ledger.take_for_recovery(event.event_id, self._clock(),
                                                        self.recovery_after)
        if stranded is not None:
            log.warning("finishing an event a crash left unapplied (redelivered)",
                        extra={"event_id": event.event_id})
            await self._finish(stranded)

    def refuse(self, event_types: list[str]) -> None:
        """Count events refused before anything was stored (invalid input; a batch with one
        bad element refuses every element)."""
        for event_type in event_types:
            self._outcomes(event_type, REFUSED)

    async def _effects(self, events: Sequence[Event]) -> None:
        """Everything stored events set in motion: their rollups, then the pipeline's
        stages, each taking the whole batch."""
        await self.apply_rollups_many(events)
        for handler in self.handlers:
            await handler(events)

    async def _finish(self, event: Event) -> None:
        """The effects of one event, then the mark that it is done (recovery)."""
        await self._effects([event])
        await self._ledger.mark_applied([event.event_id])

    async def apply_rollups(self, event: Event) -> None:
        """Move the counters ``event`` touches, at most once per document."""
        await self.apply_rollups_many([event])

    async def apply_rollups_many(self, events: Sequence[Event], *, first_time: bool = False
                                 ) -> None:
        """Move the counters a batch of events touches, at most once per document and event
        (also used by rebuild, a page of the ledger at a time). ``first_time``: into empty
        rollups by a single writer (rebuild, loaders), one merged write per document."""
        await self._rollups.apply_many([
            RollupItem(rollup_update(e), e.viewer_id, e.creator_id, e.user_id, e.event_id)
            for e in events], first_time=first_time)

    async def recover(self, older_than: timedelta = RECOVERY_AFTER, *,
                      limit: int = RECOVERY_BATCH) -> int:
        """Finish events left unapplied for longer than ``older_than`` (a process died between
        the ledger insert and the end of its effects); returns the events finished.

        Up to ``limit`` are taken on atomically (so concurrent sweeps never both run one) for
        ``older_than`` and finished as one batch; if the batch fails, one by one, so a poison
        event does not hold the others back — it is logged and left for a later sweep."""
        now = self._clock()
        taken = await self._ledger.take_many_for_recovery(
            await self._ledger.stranded(now - older_than, limit), now, older_than)
        if not taken:
            return 0
        try:
            await self._effects(taken)
            await self._ledger.mark_applied([event.event_id for event in taken])
            recovered = len(taken)
        except Exception:
            log.exception("recovering a batch of stranded events failed; one by one instead")
            recovered = 0
            for event in taken:
                try:
                    await self._finish(event)
                except Exception:
                    log.exception("recovering a stranded event failed; retried by a later "
                                  "sweep", extra={"event_id": event.event_id})
                    continue
                recovered += 1
        log.warning("recovered %d events a crash left unapplied", recovered)
        return recovered

    async def unapplied(self, older_than: timedelta = RECOVERY_AFTER) -> int:
        """Events unapplied for longer than ``older_than``: what recovery has yet to finish."""
        return await self._ledger.count_unapplied(self._clock() - older_than)
