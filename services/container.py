"""The object graph of repositories and use cases, built once per process from a store."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from services.ingest import Ingestion
from store.database import Store
from store.ledger import EventLedger
from store.rollups import RollupRepository


@dataclass
class Services:
    """Everything request handlers, the CLI and the worker need, wired together."""

    store: Store
    ledger: EventLedger
    rollups: RollupRepository
    ingestion: Ingestion
    #: steps `audience rebuild` runs after the rollups, in order (segments, aggregates, ...)
    rebuild_stages: list[Callable[[], Awaitable[None]]] = field(default_factory=list)

    @classmethod
    def build(cls, store: Store) -> Services:
        ledger = EventLedger(store)
        rollups = RollupRepository(store)
        ingestion = Ingestion(ledger, rollups)
        return cls(store=store, ledger=ledger, rollups=rollups, ingestion=ingestion)

    async def start(self) -> None:
        """Create indexes (idempotent)."""
        await self.store.ensure_indexes()
