"""Ingestion: validate → store once in the ledger → roll up → notify whoever listens."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from domain.events import Event
from domain.rollups import rollup_update
from store.ledger import EventLedger
from store.rollups import RollupRepository

EventListener = Callable[[Event], Awaitable[None]]


@dataclass(frozen=True)
class Receipt:
    """What a client learns about one event: stored now, or already stored before."""

    event_id: str
    accepted: bool
    duplicate: bool


class Ingestion:
    """Records events exactly once and keeps rollups in step with the ledger."""

    def __init__(self, ledger: EventLedger, rollups: RollupRepository) -> None:
        self._ledger = ledger
        self._rollups = rollups
        self._listeners: list[EventListener] = []

    def subscribe(self, listener: EventListener) -> None:
        """Call ``listener`` after every newly stored (never a duplicate) event is rolled up."""
        self._listeners.append(listener)

    async def record(self, event: Event, *, received_at: datetime | None = None) -> Receipt:
        """Store ``event`` once; a replayed id changes nothing and is answered as a duplicate."""
        stored = await self._ledger.append(event, received_at or datetime.now(UTC))
        if not stored:
            return Receipt(event.event_id, accepted=True, duplicate=True)
        await self.apply_rollups(event)
        for listener in self._listeners:
            await listener(event)
        return Receipt(event.event_id, accepted=True, duplicate=False)

    async def apply_rollups(self, event: Event) -> None:
        """Move the counters ``event`` touches (also used by rebuild)."""
        await self._rollups.apply(rollup_update(event), event.viewer_id, event.creator_id,
                                  event.user_id)
