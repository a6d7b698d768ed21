"""The object graph of repositories and use cases, built once per process from a store."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from domain.insights.aggregates import transition_delta
from domain.queue import QueuePolicy
from services.discovery import DiscoveryService
from services.freshness import Freshness
from services.ingest import EventOutcomes, Ingestion
from services.insights import InsightsService
from services.jobs import JobRunner
from services.scheduling import PriorityScheduler
from services.segments import SegmentService, SegmentTransition, utc_now
from store.aggregates import AggregateRepository
from store.configuration import ConfigurationRepository
from store.database import Store
from store.dead_letters import DeadLetterRepository
from store.ledger import EventLedger
from store.locks import LockRepository, WorkerRegistry
from store.performance import PerformanceRepository
from store.queue import QueueRepository
from store.releases import ReleaseRepository
from store.risk import RiskRepository
from store.rollups import RollupRepository
from store.segments import SegmentRepository
from store.snapshots import SnapshotRepository


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
    #: outbox records and jobs set aside after their attempts (health, ``deadLetters``)
    dead_letters: DeadLetterRepository
    #: steps `audience rebuild` runs after the rollups, in order (segments, aggregates, ...)
    rebuild_stages: list[Callable[[], Awaitable[None]]] = field(default_factory=list)

    @classmethod
    def build(cls, store: Store, *, config_cache_seconds: float = 2.0,
              queue_policy: QueuePolicy | None = None,
              event_outcomes: EventOutcomes | None = None) -> Services:
        ledger = EventLedger(store)
        rollups = RollupRepository(store)
        ingestion = (Ingestion(ledger, rollups, outcomes=event_outcomes) if event_outcomes
                     else Ingestion(ledger, rollups))
        configuration = ConfigurationRepository(store, config_cache_seconds)
        segments = SegmentService(rollups, SegmentRepository(store), configuration,
                                  RiskRepository(store))
        aggregates = AggregateRepository(store)
        queue, policy = QueueRepository(store), queue_policy or QueuePolicy()
        jobs = JobRunner(queue, rollups, segments, policy)
        ingestion.subscribe(PriorityScheduler(segments, queue))

        # Exactly once per change, even across a crash: the change id marks the $inc.
        async def move_aggregate(change: SegmentTransition) -> None:
            await aggregates.apply(change.after.creator_id,
                                   transition_delta(change.before, change.after),
                                   change.id, change.after.last_updated)

        async def forget_change(change: SegmentTransition) -> None:
            await aggregates.forget(change.after.creator_id, change.id)

        segments.on_transition(
            move_aggregate, confirmed=forget_change,
            relevant=lambda change: bool(transition_delta(change.before, change.after)))
        insights = InsightsService(aggregates, ReleaseRepository(store),
                                   SnapshotRepository(store), PerformanceRepository(store))
        segments.on_transition(insights.on_transition, confirmed=insights.on_confirmed,
                               relevant=insights.relevant)
        freshness = Freshness(queue, jobs, policy, utc_now)
        discovery = DiscoveryService.wire(store, rollups=rollups, configuration=configuration,
                                          segments=segments, aggregates=aggregates,
                                          ingestion=ingestion, freshness=freshness)
        services = cls(store=store, ledger=ledger, rollups=rollups, ingestion=ingestion,
                       configuration=configuration, segments=segments, aggregates=aggregates,
                       discovery=discovery, queue=queue, queue_policy=policy, jobs=jobs,
                       freshness=freshness,
                       locks=LockRepository(store), workers=WorkerRegistry(store),
                       insights=insights, dead_letters=DeadLetterRepository(store))
        services.rebuild_stages.append(services._rebuild_segments)
        services.rebuild_stages.append(discovery.rebuild_index)
        # Releases sit out the rebuild's replay and are re-anchored on the result.
        services.rebuild_stages.insert(0, insights.pause_releases)
        services.rebuild_stages.append(insights.rebase_releases)
        return services

    async def _rebuild_segments(self) -> None:
        # Aggregates follow transitions from "no segment", so both restart from empty.
        await self.segments.segments.clear()
        await self.aggregates.clear()
        await self.segments.recompute_all()

    async def start(self) -> None:
        """Create indexes (idempotent)."""
        await self.store.ensure_indexes()

    async def stop(self) -> None:
        """Write what is still buffered in memory (discovery impressions)."""
        await self.discovery.close()
