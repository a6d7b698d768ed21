"""Creator audience insights: releases fed by segment transitions, and what a creator reads.

Write side: every segment transition's delta is held back per viewer in the creator's release
document, and a release is cut when ``domain.insights.releases`` allows it (≥ 10 distinct
viewers changed). Read side: one document read — the last release — turned into the
privacy-safe view; growth adds two indexed snapshot reads, segment performance one ``$in`` read.
Nothing on the request path scans segments, so the cost does not depend on the audience size.

``InsightsService.snapshot_all(day)`` is the daily run's step (02:00 UTC): one snapshot of each
creator's *released* aggregate.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta

from domain.insights.aggregates import CreatorAggregate, contribution, transition_delta
from domain.insights.dominance import Top, cell_tops
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
from domain.insights.releases import Family, cells_of, family_of, flat, plan_release, rebase
from domain.insights.view import AUDIENCE, AudienceView, ReleasedAudience, audience_view
from services.segments import SegmentTransition
from store.aggregates import AggregateRepository
from store.performance import PerformanceRepository
from store.releases import ReleaseRepository, StoredRelease
from store.segments import SegmentRepository
from store.snapshots import SnapshotRepository

log = logging.getLogger("audience.insights")
Clock = Callable[[], datetime]
ReleaseListener = Callable[[str], Awaitable[None]]

#: compare-and-swap attempts before a release is left to the next writer or reader
MAX_RELEASE_ATTEMPTS = 5
#: redelivery marks older than this are dropped by the daily job (far beyond any lease)
STALE_MARK_AGE = timedelta(days=1)


def utc_now() -> datetime:
    return datetime.now(UTC)


class InsightsService:
    def __init__(self, aggregates: AggregateRepository, releases: ReleaseRepository,
                 snapshots: SnapshotRepository, performance: PerformanceRepository,
                 clock: Clock = utc_now, segments: SegmentRepository | None = None,
                 on_release: tuple[tuple[str, ReleaseListener], ...] = ()) -> None:
        self.aggregates = aggregates
        #: read once per revenue release, for the dominance rule's largest contributions
        self.segments = segments
        self.releases = releases
        self.snapshots = snapshots
        self.performance_repo = performance
        self.clock = clock
        self._paused = False
        #: run after a release of a creator is published: the only moment anything derived
        #: from other viewers (discovery) may move
        self._on_release = tuple(stage for _, stage in on_release)

    async def _published(self, creator_id: str) -> None:
        for stage in self._on_release:
            await stage(creator_id)

    # --- write side -------------------------------------------------------------------------
    @staticmethod
    def relevant(change: SegmentTransition) -> bool:
        """Only changes that move the creator's counters matter here."""
        return bool(transition_delta(change.before, change.after))

    async def on_transition(self, change: SegmentTransition) -> None:
        """Hold the change back under its viewer; release if enough viewers have changed."""
        if self._paused:
            return
        delta = transition_delta(change.before, change.after)
        if not delta:
            return
        after = change.after
        stored = await self.releases.record(after.creator_id, after.viewer_id, delta,
                                            change.id, after.last_updated)
        if stored is not None:
            await self._settle(stored)

    async def on_confirmed(self, change: SegmentTransition) -> None:
        await self.releases.forget(change.after.creator_id, change.id)

    async def _settle(self, stored: StoredRelease) -> None:
        """Cut the release ``stored`` allows, if any. A lost compare-and-swap means another
        change was recorded meanwhile, and its writer settles the newer state."""
        plan = plan_release(stored.state)
        if plan is not None:
            tops = (await self.contributions(stored.creator_id)
                    if Family.REVENUE in plan.families else None)
            if await self.releases.commit(stored.creator_id, stored.version, plan.state,
                                          plan.families, self.clock(), tops) and plan.families:
                await self._published(stored.creator_id)

    async def contributions(self, creator_id: str) -> dict[str, Top]:
        """The largest contributions per revenue cell, from the creator's segments now: a
        revenue release publishes every pending revenue change, so this is what it shows."""
        if self.segments is None:
            return {}
        return cell_tops(
            ([c for c in contribution(s) if family_of(c) is Family.REVENUE], s.revenue_tokens)
            for s in await self.segments.of_creator(creator_id))

    # --- read side --------------------------------------------------------------------------
    async def released(self, creator_id: str) -> StoredRelease | None:
        """The creator's release document; the read side never touches the live aggregate."""
        return await self.releases.get(creator_id)

    async def initialise_untracked(self) -> int:
        """First release of every audience that predates release tracking (there is no
        earlier release to difference against): at start, and as the last rebuild stage.
        Pages the live aggregates only when some creator has no release document."""
        written = 0
        tracked = {c async for c in self.releases.creator_ids()}
        if await self.aggregates.count() <= len(tracked):
            return 0
        for creator_id in await self.aggregates.creator_ids():
            if creator_id in tracked:
                continue
            cells = cells_of(await self.aggregates.get(creator_id))
            if cells:
                await self.releases.initialise(creator_id, cells, self.clock(),
                                               await self.contributions(creator_id))
                await self._published(creator_id)
                written += 1
        return written

    async def audience(self, creator_id: str) -> ReleasedAudience:
        stored = await self.released(creator_id)
        aggregate = stored.aggregate if stored else CreatorAggregate(creator_id=creator_id)
        return ReleasedAudience(audience_view(aggregate, stored.tops if stored else None),
                                stored.released_at[Family.COUNTS] if stored else None,
                                stored.released_at[Family.REVENUE] if stored else None)

    async def growth(self, view: AudienceView) -> tuple[GrowthWindow, ...]:
        """The current release against the snapshots 7 and 30 days back."""
        today = self.clock().date()
        out = []
        for days in GROWTH_WINDOWS:
            found = await self.snapshots.nearest(view.creator_id, today - timedelta(days=days),
                                                 SNAPSHOT_TOLERANCE_DAYS)
            out.append(compare(days, view, audience_view(found[1]), found[0]) if found
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
                                                  self.clock()):
                        break
            await self.initialise_untracked()
        finally:
            self._paused = False

    async def snapshot_all(self, day: date) -> int:
        """Snapshot every creator's released aggregate for ``day``; returns how many."""
        written = 0
        async for creator_id in self.releases.creator_ids():
            stored = await self.releases.get(creator_id)
            if stored is None:
                continue
            await self.snapshots.put(stored.aggregate, day, self.clock())
            written += 1
        dropped = await self.releases.forget_stale(self.clock() - STALE_MARK_AGE)
        if dropped:
            log.warning("dropped stale release marks", extra={"marks": dropped})
        return written
