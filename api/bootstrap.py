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
| creator index: new creators, locations, interests | ``profiles``, releases | ``creator_index`` |
| conversions after an impression | ``impressions`` | ``segment_performance`` |
| mark applied | | ``events`` (``applied: true``) |

On a segment transition (``SegmentService``, written with its outbox record, at least once,
applied once per change id):

| stage | reads | writes |
|---|---|---|
| creator aggregates move (the viewer's part) | | ``creator_aggregates`` |
| insights: hold back changes | releases, ``held_changes`` | ``held_changes`` |
| insights: cut a release (≥ 10 movers) | | ``audience_releases`` |
| on a published release: creator index | ``audience_releases`` (published) | ``creator_index`` |
| segment history (one append a batch) | | ``segment_changes``, ``sequences`` |

In a rebuild (``audience rebuild``), after the ledger is replayed into the rollups:

| stage | reads | writes |
|---|---|---|
| pause history (a rebuild adds no changes) | | |
| pause releases | | ``audience_releases`` |
| segments and aggregates from empty | rollups | ``audience_segments``, ``creator_aggregates`` |
| rebase releases (and first releases) | aggregates, held changes | ``audience_releases`` |
| platform release | ``audience_releases``, ``audience_segments`` | ``platform_releases`` |
| creator index | ``audience_releases``, ``profiles`` | ``creator_index`` |
| resume history | | |

The tuples below (``on_event``, ``on_transition``, ``in_rebuild``) are that table in code.
"""

from __future__ import annotations

from collections.abc import Sequence

from domain.insights.aggregates import transition_delta
from domain.locations import DEFAULT_GRID, LocationGrid
from domain.queue import QueuePolicy
from services.container import EventStage, Pipeline, RebuildStage, Services
from services.creator_index import CandidatePools, CreatorIndexer
from services.data_rights import DataRights
from services.discovery import DiscoveryService
from services.erasure import Erasure
from services.freshness import Freshness
from services.history import SegmentHistory
from services.impressions import ImpressionRecorder
from services.ingest import EventOutcomes, Ingestion
from services.insights import InsightsService
from services.jobs import JobRunner
from services.kpis import KpiCounters
from services.platform import PlatformInsights
from services.scheduling import PriorityScheduler
from services.segments import SegmentService, SegmentTransition, TransitionHandler, utc_now
from store.aggregates import AggregateMove, AggregateRepository
from store.configuration import ConfigurationRepository
from store.creator_index import CreatorIndexRepository
from store.database import Store
from store.dead_letters import DeadLetterRepository
from store.impressions import ImpressionRepository
from store.ledger import EventLedger
from store.locks import LockRepository, WorkerRegistry
from store.performance import PerformanceRepository
from store.platform import PlatformRepository
from store.queue import QueueRepository
from store.releases import ReleaseRepository
from store.risk import RiskRepository
from store.rollups import RollupRepository
from store.segment_changes import SegmentChangeLog
from store.segments import SegmentRepository
from store.snapshots import SnapshotRepository


def _ignore(event_type: str, outcome: str) -> None:
    return None


def bootstrap(store: Store, *, config_cache_seconds: float = 2.0,
              queue_policy: QueuePolicy | None = None,
              event_outcomes: EventOutcomes | None = None,
              location_grid: LocationGrid = DEFAULT_GRID,
              kpis: KpiCounters | None = None) -> Services:
    """Every repository and use case, wired once. ``event_outcomes`` is the metrics port for
    ``audience_events_total`` (the store's round trips are counted by its own port)."""
    # repositories: the only holders of the store
    ledger, rollups = EventLedger(store), RollupRepository(store)
    configuration = ConfigurationRepository(store, config_cache_seconds)
    segment_repository, risk = SegmentRepository(store), RiskRepository(store)
    aggregates, queue = AggregateRepository(store), QueueRepository(store)
    index = CreatorIndexRepository(store)
    policy = queue_policy or QueuePolicy()

    releases = ReleaseRepository(store)

    # the use cases that stages belong to
    pools = CandidatePools(index)
    # Discovery is handed the published releases, never the live aggregates: one viewer's
    # events reach what strangers see only through a release (contract §7).
    indexer = CreatorIndexer(index, releases, rollups, pools)
    insights = InsightsService(aggregates, releases, SnapshotRepository(store),
                               PerformanceRepository(store), segments=segment_repository,
                               on_release=(("creator index", indexer.on_release),),
                               thresholds=configuration.current)
    platform = PlatformInsights(releases, segment_repository, PlatformRepository(store),
                                configuration.current)
    impressions = ImpressionRecorder(ImpressionRepository(store), risk, kpis=kpis)
    history_log = SegmentChangeLog(store)
    history = SegmentHistory(history_log)

    # Exactly once per change, even across a crash: the change id marks the $inc.
    async def move_aggregates(changes: Sequence[SegmentTransition]) -> None:
        await aggregates.apply_many([
            AggregateMove(c.after.creator_id, transition_delta(c.before, c.after), c.id,
                          c.after.last_updated, fresh=not c.redelivered,
                          viewer_id=c.after.viewer_id) for c in changes])

    async def forget_changes(changes: Sequence[SegmentTransition]) -> None:
        await aggregates.forget_many([(c.after.creator_id, c.after.viewer_id, c.id)
                                      for c in changes])

    # each stage gets a batch's changes in one call and writes them in one round trip
    on_transition = (
        ("creator aggregates", TransitionHandler(
            move_aggregates, confirmed=forget_changes,
            relevant=lambda change: bool(transition_delta(change.before, change.after)))),
        ("insights", TransitionHandler(insights.on_transitions, confirmed=insights.on_confirmed,
                                       relevant=insights.relevant)),
        # before the batch is confirmed; ids make redeliveries no-ops
        ("segment history", TransitionHandler(history.record, relevant=history.relevant)),
    )
    segments = SegmentService(rollups, segment_repository, configuration, risk,
                              handlers=[handler for _, handler in on_transition], kpis=kpis)
    on_event: tuple[tuple[str, EventStage], ...] = (
        ("schedule segment work", PriorityScheduler(segments, queue)),
        ("creator index", indexer.on_events),
        ("conversions", impressions.on_events),
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

    async def platform_release() -> None:
        await platform.refresh()

    in_rebuild: tuple[tuple[str, RebuildStage], ...] = (
        ("pause history", history.pause),
        # releases sit out the replay and are re-anchored on the result
        ("pause releases", insights.pause_releases),
        ("segments and aggregates", segments_from_empty),
        ("rebase releases", insights.rebase_releases),
        ("platform release", platform_release),
        # cards are built from releases: after the releases are re-anchored
        ("creator index", discovery.rebuild_index),
        # a rebuild re-derives state, not history: the log stays as it was
        ("resume history", history.resume),
    )
    return Services(store=store, ledger=ledger, rollups=rollups, ingestion=ingestion,
                    configuration=configuration, segments=segments, aggregates=aggregates,
                    discovery=discovery, queue=queue, queue_policy=policy, jobs=jobs,
                    freshness=freshness, locks=LockRepository(store),
                    workers=WorkerRegistry(store), insights=insights, platform=platform,
                    dead_letters=DeadLetterRepository(store), history=history,
                    data_rights=DataRights(ledger, rollups),
                    erasure=Erasure(ledger, rollups, segment_repository, aggregates, insights,
                                    history_log, impressions.repository),
                    pipeline=Pipeline(on_event, on_transition, in_rebuild),
                    location_grid=location_grid)
