"""The composition root: builds the store's repositories, the use cases and the pipeline once,
for the API (api/app.py), the worker and the CLI (api/cli.py) alike.

The pipeline, read top to bottom (each stage is handed to its use case's constructor; nothing
registers a callback anywhere else):

On an event batch (``Ingestion``), for each newly stored event:

| stage | reads | writes |
|---|---|---|
| ledger: store once, answer duplicates | ``events`` | ``events`` (``applied: false``) |
| rollups: counters once per event id | | ``viewer_rollups``, ``pair_rollups``, ``profiles`` |
| schedule segment work | | ``segment_computation_queue`` |
| creator index: locations and interests | ``profiles`` | ``creator_index`` |
| conversions after an impression | ``impressions`` | ``segment_performance`` |
| mark applied | | ``events`` (``applied: true``) |

On a segment transition (``SegmentService``, written with its outbox record, at least once,
applied once per change id):

| stage | reads | writes |
|---|---|---|
| creator aggregates move | | ``creator_aggregates`` |
| insights: releases, performance | ``creator_aggregates`` | ``audience_releases``, |
| | | ``segment_performance`` |
| creator index: segment pools | ``creator_aggregates``, ``pair_rollups`` | ``creator_index`` |

In a rebuild (``audience rebuild``), after the ledger is replayed into the rollups:

| stage | reads | writes |
|---|---|---|
| pause releases | | ``audience_releases`` |
| segments and aggregates from empty | rollups | ``audience_segments``, ``creator_aggregates`` |
| creator index | aggregates, rollups | ``creator_index`` |
| rebase releases | ``creator_aggregates`` | ``audience_releases`` |

The tuples below (``on_event``, ``on_transition``, ``in_rebuild``) are that table in code.
"""

from __future__ import annotations

from domain.insights.aggregates import transition_delta
from domain.queue import QueuePolicy
from services.container import EventStage, Pipeline, RebuildStage, Services
from services.creator_index import CandidatePools, CreatorIndexer
from services.discovery import DiscoveryService
from services.freshness import Freshness
from services.impressions import ImpressionRecorder
from services.ingest import EventOutcomes, Ingestion
from services.insights import InsightsService
from services.jobs import JobRunner
from services.scheduling import PriorityScheduler
from services.segments import SegmentService, SegmentTransition, TransitionHandler, utc_now
from store.aggregates import AggregateRepository
from store.configuration import ConfigurationRepository
from store.creator_index import CreatorIndexRepository
from store.database import Store
from store.dead_letters import DeadLetterRepository
from store.impressions import ImpressionRepository
from store.ledger import EventLedger
from store.locks import LockRepository, WorkerRegistry
from store.performance import PerformanceRepository
from store.queue import QueueRepository
from store.releases import ReleaseRepository
from store.risk import RiskRepository
from store.rollups import RollupRepository
from store.segments import SegmentRepository
from store.snapshots import SnapshotRepository


def _ignore(event_type: str, outcome: str) -> None:
    return None


def bootstrap(store: Store, *, config_cache_seconds: float = 2.0,
              queue_policy: QueuePolicy | None = None,
              event_outcomes: EventOutcomes | None = None) -> Services:
    """Every repository and use case, wired once. ``event_outcomes`` is the metrics port for
    ``audience_events_total`` (the store's round trips are counted by its own port)."""
    # repositories: the only holders of the store
    ledger, rollups = EventLedger(store), RollupRepository(store)
    configuration = ConfigurationRepository(store, config_cache_seconds)
    segment_repository, risk = SegmentRepository(store), RiskRepository(store)
    aggregates, queue = AggregateRepository(store), QueueRepository(store)
    index = CreatorIndexRepository(store)
    policy = queue_policy or QueuePolicy()

    # the use cases that stages belong to
    insights = InsightsService(aggregates, ReleaseRepository(store), SnapshotRepository(store),
                               PerformanceRepository(store), segments=segment_repository)
    pools = CandidatePools(index)
    indexer = CreatorIndexer(index, aggregates, rollups, pools)
    impressions = ImpressionRecorder(ImpressionRepository(store), risk)

    # Exactly once per change, even across a crash: the change id marks the $inc.
    async def move_aggregate(change: SegmentTransition) -> None:
        await aggregates.apply(change.after.creator_id,
                               transition_delta(change.before, change.after),
                               change.id, change.after.last_updated)

    async def forget_change(change: SegmentTransition) -> None:
        await aggregates.forget(change.after.creator_id, change.id)

    on_transition = (
        ("creator aggregates", TransitionHandler(
            move_aggregate, confirmed=forget_change,
            relevant=lambda change: bool(transition_delta(change.before, change.after)))),
        ("insights", TransitionHandler(insights.on_transition, confirmed=insights.on_confirmed,
                                       relevant=insights.relevant)),
        # after the aggregates, which the index reads
        ("creator index", TransitionHandler(indexer.on_transition, relevant=indexer.relevant)),
    )
    segments = SegmentService(rollups, segment_repository, configuration, risk,
                              handlers=[handler for _, handler in on_transition])
    on_event: tuple[tuple[str, EventStage], ...] = (
        ("schedule segment work", PriorityScheduler(segments, queue)),
        ("creator index", indexer.on_event),
        ("conversions", impressions.on_event),
    )
    ingestion = Ingestion(ledger, rollups, outcomes=event_outcomes or _ignore,
                          handlers=[stage for _, stage in on_event])
    jobs = JobRunner(queue, rollups, segments, policy)
    freshness = Freshness(queue, jobs, policy, utc_now)
    discovery = DiscoveryService(configuration=configuration, rollups=rollups,
                                 segments=segment_repository, risk=risk, index=index,
                                 pools=pools, impressions=impressions, indexer=indexer,
                                 freshness=freshness)

    async def segments_from_empty() -> None:
        # Aggregates follow transitions from "no segment", so both restart from empty.
        await segment_repository.clear()
        await aggregates.clear()
        await segments.recompute_all()

    in_rebuild: tuple[tuple[str, RebuildStage], ...] = (
        # releases sit out the replay and are re-anchored on the result
        ("pause releases", insights.pause_releases),
        ("segments and aggregates", segments_from_empty),
        ("creator index", discovery.rebuild_index),
        ("rebase releases", insights.rebase_releases),
    )
    return Services(store=store, ledger=ledger, rollups=rollups, ingestion=ingestion,
                    configuration=configuration, segments=segments, aggregates=aggregates,
                    discovery=discovery, queue=queue, queue_policy=policy, jobs=jobs,
                    freshness=freshness, locks=LockRepository(store),
                    workers=WorkerRegistry(store), insights=insights,
                    dead_letters=DeadLetterRepository(store),
                    pipeline=Pipeline(on_event, on_transition, in_rebuild))
