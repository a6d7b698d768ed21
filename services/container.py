"""The object graph of repositories and use cases, as the composition root
(api/bootstrap.py) builds it once per process: the API, the worker and the CLI read it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from domain.events import Event
from domain.locations import DEFAULT_GRID, LocationGrid
from domain.queue import QueuePolicy
from services.data_rights import DataRights
from services.discovery import DiscoveryService
from services.erasure import Erasure
from services.freshness import Freshness
from services.history import SegmentHistory
from services.ingest import Ingestion
from services.insights import InsightsService
from services.jobs import JobRunner
from services.kpis import KpiGauges, kpi_gauges
from services.platform import PlatformInsights
from services.segments import SegmentService, TransitionHandler
from store.aggregates import AggregateRepository
from store.configuration import ConfigurationRepository
from store.database import Store
from store.dead_letters import DeadLetterRepository
from store.ledger import EventLedger
from store.locations import snap_stored_locations
from store.locks import LockRepository, WorkerRegistry
from store.queue import QueueRepository
from store.rollups import RollupRepository
from store.shards import ensure_indexes

#: takes a batch of newly stored events (a single event is a batch of one)
EventStage = Callable[[Sequence[Event]], Awaitable[None]]
RebuildStage = Callable[[], Awaitable[None]]


@dataclass(frozen=True)
class Pipeline:
    """What runs, in order, by name: after each stored event's rollups, on each segment
    transition, and in a rebuild after the rollups replay (api/bootstrap.py builds it)."""

    on_event: tuple[tuple[str, EventStage], ...]
    on_transition: tuple[tuple[str, TransitionHandler], ...]
    in_rebuild: tuple[tuple[str, RebuildStage], ...]


@dataclass
class Services:
    """Everything request handlers, the CLI and the worker need, wired together."""

    store: Store
    ledger: EventLedger
    rollups: RollupRepository
    ingestion: Ingestion
    configuration: ConfigurationRepository
    segments: SegmentService
    aggregates: AggregateRepository
    discovery: DiscoveryService
    #: the segment work queue (services/worker.py drains it), its policy and runner
    queue: QueueRepository
    queue_policy: QueuePolicy
    jobs: JobRunner
    #: read-your-writes: readers run the queued work covering what they read
    freshness: Freshness
    locks: LockRepository
    workers: WorkerRegistry
    #: creator audience insights: releases fed by transitions, the dashboard's reads
    insights: InsightsService
    #: the platform-wide audience: every published release summed (daily run, rebuild)
    platform: PlatformInsights
    #: outbox records and jobs set aside after their attempts (health, ``deadLetters``)
    dead_letters: DeadLetterRepository
    #: the segment change log: history, the change feed and its live tail
    history: SegmentHistory
    #: what is stored about a user, for that user (myData)
    data_rights: DataRights
    #: a viewer's data removed and their part of every audience taken out (erasure)
    erasure: Erasure
    #: the stages of the pipeline, as the use cases were handed them
    pipeline: Pipeline
    #: the cells locations are snapped to (domain/locations.py)
    location_grid: LocationGrid = DEFAULT_GRID

    @property
    def rebuild_stages(self) -> list[RebuildStage]:
        """What `audience rebuild` runs after the rollups replay, in order."""
        return [stage for _, stage in self.pipeline.in_rebuild]

    async def start(self) -> None:
        """Create indexes and snap any coordinates stored before locations were cells
        (both idempotent)."""
        await ensure_indexes(self.store)
        await self.insights.initialise_untracked()
        migrated = await snap_stored_locations(self.store, self.location_grid)
        if migrated.stale_pairs:
            await self.segments.recompute_many(migrated.stale_pairs)
        if migrated.cards or migrated.profiles:
            await self.discovery.rebuild_index()

    async def kpi_gauges(self, now: datetime) -> KpiGauges:
        """The KPI gauges of /metrics (three O(1) reads)."""
        return await kpi_gauges(self.rollups, self.segments.segments, self.insights.releases, now)

    async def stop(self) -> None:
        """Write what is still buffered in memory (discovery impressions)."""
        await self.discovery.close()
