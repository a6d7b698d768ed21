"""Creator audience insights: releases fed by segment transitions, and what a creator reads.

Write side: every segment transition's delta is held back as its own document
(``store/releases.py``), and a release is cut when ``domain.insights.releases`` allows it (≥ 10
distinct viewers changed): only then is the creator's release document written. Read side:
one document read — the last release — turned into the privacy-safe view; growth adds two
indexed snapshot reads, segment performance one ``$in`` read. Nothing on the request path
scans segments, so the cost does not depend on the audience size.

``InsightsService.snapshot_all(day)`` is the daily run's step (02:00 UTC): one snapshot of each
creator's *released* aggregate.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta

from domain.insights.aggregates import CreatorAggregate, contribution, transition_delta
from domain.insights.dominance import KEPT, Top, cell_tops, tops_from_combos
from domain.insights.growth import (
    GROWTH_WINDOWS,
    SNAPSHOT_TOLERANCE_DAYS,
    GrowthWindow,
    compare,
    no_history,
)
from domain.insights.labels import SegmentKind, keys
from domain.insights.performance import (
    PerformanceTotals,
    SegmentPerformance,
    check_query,
    report,
    window,
)
from domain.insights.releases import (
    Cells,
    Family,
    cells_of,
    family_of,
    flat,
    fold_pending,
    plan_release,
    rebase,
)
from domain.insights.view import AUDIENCE, AudienceView, ReleasedAudience, audience_view
from domain.segments.thresholds import SegmentThresholds
from services.segments import SegmentTransition
from store.aggregates import AggregateRepository, aggregate_from_cells
from store.performance import PerformanceRepository
from store.releases import HeldChange, ReleaseCommit, ReleaseRepository, StoredRelease
from store.segments import SegmentRepository
from store.snapshots import SnapshotRepository

log = logging.getLogger("audience.insights")
Clock = Callable[[], datetime]
#: told the creators whose release was just published (a batch's at once)
ReleaseListener = Callable[[Sequence[str]], Awaitable[None]]

#: compare-and-swap attempts before a release is left to the next writer or reader
MAX_RELEASE_ATTEMPTS = 5
#: held changes cut this long ago without a confirmation are dropped by the daily job (far
#: beyond any lease: nothing can redeliver them any more)
STALE_MARK_AGE = timedelta(days=1)
#: a creator whose releases wait (fewer than ten movers) folds its held changes into its
#: release document once this many are held, so a settle's read stays small
HELD_FOLD_AT = 64
#: above this many viewers a revenue release reads each combination's top payers through an
#: index instead of the whole audience (below it, one paged read costs fewer round trips)
FULL_READ_AUDIENCE = 1_000


def utc_now() -> datetime:
    return datetime.now(UTC)


ThresholdSource = Callable[[], Awaitable[SegmentThresholds]]


async def _defaults() -> SegmentThresholds:
    return SegmentThresholds()


#: a forced release of one creator at most this often (per process)
FORCE_INTERVAL_SECONDS = 60.0
MAX_FORCED_TRACKED = 10_000

class InsightsService:
    def __init__(self, aggregates: AggregateRepository, releases: ReleaseRepository,
                 snapshots: SnapshotRepository, performance: PerformanceRepository,
                 clock: Clock = utc_now, segments: SegmentRepository | None = None,
                 on_release: tuple[tuple[str, ReleaseListener], ...] = (),
                 thresholds: ThresholdSource = _defaults) -> None:
        self.aggregates = aggregates
        #: read once per revenue release, for the dominance rule's largest contributions
        self.segments = segments
        self.releases = releases
        self.snapshots = snapshots
        self.performance_repo = performance
        self.clock = clock
        #: the live thresholds (cached by the configuration store): labels are rendered from
        #: what classifies segments now, not from the defaults
        self.thresholds = thresholds
        self._paused = False
        #: run after a release of a creator is published: the only moment anything derived
        #: from other viewers (discovery) may move
        self._on_release = tuple(stage for _, stage in on_release)
        #: creator → when a release was last forced in this process (bounded)
        self._forced: OrderedDict[str, float] = OrderedDict()

    async def _published(self, creator_ids: Sequence[str]) -> None:
        if creator_ids:
            for stage in self._on_release:
                await stage(creator_ids)

    # --- write side -------------------------------------------------------------------------
    @staticmethod
    def relevant(change: SegmentTransition) -> bool:
        """Only changes that move the creator's counters matter here."""
        return bool(transition_delta(change.before, change.after))

    async def on_transitions(self, changes: Sequence[SegmentTransition]) -> None:
        """Hold the changes back under their viewers (one write for the batch); release each
        creator whose held-back changes now allow it."""
        if self._paused:
            return
        held = [HeldChange(c.after.creator_id, c.after.viewer_id, delta, c.id,
                           c.after.last_updated)
                for c in changes if (delta := transition_delta(c.before, c.after))]
        await self.hold(held)

    async def hold(self, held: Sequence[HeldChange]) -> None:
        """Hold changes back under their viewers (one write), then release each creator whose
        held-back changes now allow it (transitions, and erasures leaving an audience)."""
        await self._published(await self._settle_many(await self.releases.record_many(held)))

    async def forget_held(self, changes: Sequence[tuple[str, str]]) -> None:
        """Drop the marks of held changes ((creator, change id) ...) once they are settled."""
        await self.releases.forget_many(changes)

    async def on_confirmed(self, changes: Sequence[SegmentTransition]) -> None:
        await self.forget_held([(c.after.creator_id, c.id) for c in changes])

    async def _settle(self, stored: StoredRelease) -> bool:
        """Cut the release ``stored`` allows, if any; whether one was published."""
        return bool(await self._settle_many([stored]))

    async def _settle_many(self, stored: Sequence[StoredRelease]) -> list[str]:
        """Cut the releases the ``stored`` states allow (one write for all, one read of the
        revenue-releasing audiences for the dominance rule); the creators published. A lost
        compare-and-swap means another change was recorded meanwhile, and its writer settles
        the newer state."""
        plans = [(s, plan) for s in stored if (plan := plan_release(s.state) or (
            fold_pending(s.state) if len(s.held) >= HELD_FOLD_AT else None)) is not None]
        if not plans:
            return []
        revenue = [s for s, plan in plans if Family.REVENUE in plan.families]
        tops = await self.contributions_many([s.creator_id for s in revenue],
                                             {s.creator_id: s.state.live() for s in revenue})
        committed = await self.releases.commit_many(
            [ReleaseCommit(s.creator_id, s.version, plan.state, plan.families,
                           tops.get(s.creator_id), s.held) for s, plan in plans], self.clock())
        return [s.creator_id for s, plan in plans
                if s.creator_id in committed and plan.families]

    async def contributions_many(self, creator_ids: Sequence[str],
                                 live: Mapping[str, Cells] | None = None
                                 ) -> dict[str, dict[str, Top]]:
        """:meth:`contributions` of several creators. A creator whose ``live`` cells say its
        audience is large reads the top payers of each combination it has revenue in (a
        bounded index read each); the others, one paged read of their segments for all."""
        if not creator_ids:
            return {}
        if self.segments is None:
            return {c: {} for c in creator_ids}
        live = live or {}
        large = [c for c in creator_ids if live.get(c, {}).get("total", 0) > FULL_READ_AUDIENCE]
        small = [c for c in creator_ids if c not in large]
        tops = {creator: cell_tops(
                    ([c for c in contribution(s) if family_of(c) is Family.REVENUE],
                     s.revenue_tokens) for s in segments)
                for creator, segments in (await self.segments.of_creators(small)).items()}
        for creator in large:
            combos = [cell.split(".", 1)[1] for cell, n in live[creator].items()
                      if cell.startswith("combo_revenue.") and n > 0]
            tops[creator] = tops_from_combos(
                await self.segments.top_revenue(creator, combos, KEPT))
        return tops

    async def contributions(self, creator_id: str) -> dict[str, Top]:
        """The largest contributions per revenue cell, from the creator's segments now: a
        revenue release publishes every pending revenue change, so this is what it shows."""
        return (await self.contributions_many([creator_id]))[creator_id]

    # --- read side --------------------------------------------------------------------------
    def may_force(self, creator_id: str) -> bool:
        """Whether a forced release of ``creator_id`` is allowed now (at most one per
        ``FORCE_INTERVAL_SECONDS`` per creator in this process); takes the slot if so."""
        now = time.monotonic()
        last = self._forced.get(creator_id)
        if last is not None and now - last < FORCE_INTERVAL_SECONDS:
            return False
        self._forced[creator_id] = now
        self._forced.move_to_end(creator_id)
        while len(self._forced) > MAX_FORCED_TRACKED:
            self._forced.popitem(last=False)
        return True

    async def force_release(self, creator_id: str) -> bool:
        """Cut the release the held-back changes allow now, without waiting for the next
        transition to settle it: the same rules (floor, ten changed viewers, rounding,
        dominance), only sooner. Whether one was published."""
        stored = await self.releases.get(creator_id)
        if stored is None:
            return False
        published = await self._settle_many([stored])
        await self._published(published)
        return bool(published)

    async def released(self, creator_id: str) -> StoredRelease | None:
        """The creator's release document; the read side never touches the live aggregate."""
        return await self.releases.released(creator_id)

    async def initialise_untracked(self) -> int:
        """First release of every audience that predates release tracking (there is no
        earlier release to difference against): at start, and as the last rebuild stage.
        Pages the live aggregates only when some creator has no release document."""
        written = 0
        tracked = {c async for c in self.releases.creator_ids()}
        if await self.aggregates.count() <= len(tracked):
            return 0
        for creator_id in await self.aggregates.creator_ids():
            # changes held back but never released yet are tracked too: publishing the live
            # aggregate would publish them
            if creator_id in tracked or await self.releases.get(creator_id) is not None:
                continue
            cells = cells_of(await self.aggregates.get(creator_id))
            if cells:
                await self.releases.initialise(creator_id, cells, self.clock(),
                                               await self.contributions(creator_id))
                await self._published([creator_id])
                written += 1
        return written

    async def audience(self, creator_id: str) -> ReleasedAudience:
        stored = await self.released(creator_id)
        aggregate = stored.aggregate if stored else CreatorAggregate(creator_id=creator_id)
        return ReleasedAudience(audience_view(aggregate, stored.tops if stored else None,
                                              await self.thresholds()),
                                stored.released_at[Family.COUNTS] if stored else None,
                                stored.released_at[Family.REVENUE] if stored else None)

    async def growth(self, view: AudienceView) -> tuple[GrowthWindow, ...]:
        """The current release against the snapshots 7 and 30 days back."""
        today = self.clock().date()
        out = []
        for days in GROWTH_WINDOWS:
            found = await self.snapshots.nearest(view.creator_id, today - timedelta(days=days),
                                                 SNAPSHOT_TOLERANCE_DAYS)
            out.append(compare(days, view, audience_view(found[1], thresholds=view.thresholds),
                               found[0]) if found
                       else no_history(days))
        return tuple(out)

    async def performance(self, view: AudienceView, kind: SegmentKind, value: str,
                          days: int) -> SegmentPerformance:
        """Raises ``InvalidPerformanceQuery`` for a value the kind does not have."""
        check_query(kind, value, days)
        today = self.clock().date()
        totals = await self.performance_repo.totals(view.creator_id, kind.value, keys(kind),
                                                    window(today, days))
        baseline = sum(totals.values(), start=PerformanceTotals())
        return report(kind, value, days, today, totals[value], baseline,
                      audience_withheld=view.withheld_reason,
                      segment_shown=view.cell(kind, value) is not None,
                      revenue_shown=kind.value not in view.dominated,
                      baseline_revenue_shown=AUDIENCE not in view.dominated)

    # --- rebuild and the daily job ------------------------------------------------------------
    async def pause_releases(self) -> None:
        """Rebuild stage (first): the rebuild replays every viewer as new; those replays are
        not changes a creator has not seen, so they must not fill anyone's pending batch."""
        self._paused = True

    async def rebase_releases(self) -> None:
        """Rebuild stage (last): re-anchor every release on the rebuilt aggregates, then resume.

        What was published stays published and what was pending stays pending; any difference
        the rebuild introduced is carried into the next release, counting as no viewer.
        """
        try:
            live = {d["_id"]: flat({k: v for k, v in d.items() if k != "_id"})
                    for d in await self.aggregates.snapshot()}
            ids = set(live)
            ids.update([c async for c in self.releases.creator_ids()])
            for creator_id in sorted(ids):
                for _ in range(MAX_RELEASE_ATTEMPTS):
                    stored = await self.releases.get(creator_id)
                    if stored is None:
                        break  # never released: the first read initialises it from live
                    state = rebase(stored.state, live.get(creator_id, {}))
                    if await self.releases.commit(creator_id, stored.version, state, (),
                                                  self.clock(), held=stored.held):
                        break
            await self.initialise_untracked()
        finally:
            self._paused = False

    async def snapshot_all(self, day: date) -> int:
        """Snapshot every creator's released aggregate for ``day``; returns how many."""
        written = 0
        # a page of releases a round trip, its snapshots in one write: memory holds a page
        async for page in self.releases.published_pages():
            await self.snapshots.put_many(
                [(aggregate_from_cells(creator_id, cells), day)
                 for creator_id, cells in page], self.clock())
            written += len(page)
        dropped = await self.releases.forget_stale(self.clock() - STALE_MARK_AGE)
        if dropped:
            log.warning("dropped unconfirmed held changes", extra={"changes": dropped})
        return written
