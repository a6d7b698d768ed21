"""Discovery for the signed-in viewer: candidate generation, ranking and engagement advice.

A recommendation never scores every creator. It reads a bounded candidate set — the pools of
the viewer's pool cell and its neighbours (LOCAL), of their region and its neighbours
(NEARBY), of the viewer's dominant segment (or of the segments the filters ask for), the global
popular pool (cold start, remote viewers), and up to ``KNOWN_POOL`` creators the viewer already
has segments with — then scores those few hundred with ``domain.discovery.scoring``.

Every result served (not a BLOCKED viewer's) is buffered as impressions for the segment
performance counters; nothing here reads or writes a price.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from domain.discovery.cards import (
    CreatorCard,
    segment_key,
)
from domain.discovery.engagement import EngagementSuggestion, shares, suggest
from domain.discovery.impressions import Impression
from domain.discovery.scoring import (
    DiscoveryFilters,
    ScoredCreator,
    ViewerContext,
    rank,
    score,
    viewer_labels,
)
from domain.discovery.weights import CONTEXT_RULES, DiscoveryContext
from domain.locations import POOL_RESOLUTION, REGION_RESOLUTION, pool_cells
from domain.rollups import InteractionKind
from domain.segments.budget import BudgetTier, classify_budget
from domain.segments.classify import AudienceSegment
from domain.segments.intent import dominant_intent
from domain.segments.risk import RiskLevel
from services.creator_index import (
    GLOBAL_POOL,
    POOL_SIZES,
    CandidatePools,
    CreatorIndexer,
    PoolKey,
)
from services.freshness import Freshness
from services.impressions import ImpressionRecorder
from store.configuration import ConfigurationRepository
from store.creator_index import CreatorIndexRepository
from store.risk import RiskRepository
from store.rollups import RollupRepository
from store.segments import SegmentRepository

#: creators the viewer already has segments with that join the candidates (most recent first)
KNOWN_POOL = 100
#: with budget / intent filters, this many candidates in all come from the matching segments
FILTERED_SEGMENT_CANDIDATES = 150
#: how far candidate pools widen when a ranking comes out shorter than its limit
POOL_SCALES = (1, 4, 16)

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Ranking:
    """A served ranking and how much work it took (for benchmarks and logs)."""

    viewer: ViewerContext
    ranked: list[ScoredCreator]
    scored: int


class DiscoveryService:
    def __init__(self, *, configuration: ConfigurationRepository, rollups: RollupRepository,
                 segments: SegmentRepository, risk: RiskRepository,
                 index: CreatorIndexRepository, pools: CandidatePools,
                 impressions: ImpressionRecorder, indexer: CreatorIndexer,
                 clock: Clock = utc_now, freshness: Freshness | None = None) -> None:
        self._configuration = configuration
        self._rollups = rollups
        self._segments = segments
        self._risk = risk
        self.index = index
        self.pools = pools
        self.impressions = impressions
        self.indexer = indexer
        self._clock = clock
        #: read-your-writes: queued segment work covering what is read runs first
        self._freshness = freshness

    async def rebuild_index(self) -> None:
        """A stage of ``audience rebuild``: every creator card again."""
        await self.indexer.rebuild()

    async def close(self) -> None:
        """Write the impressions still buffered (shutdown)."""
        await self.impressions.close()

    # --- reading the viewer and the creators ----------------------------------------------
    async def viewer(self, viewer_id: str) -> ViewerContext:
        """The viewer's labels: budget with the live thresholds, viewer-wide intent, profile."""
        thresholds = await self._configuration.current()
        [rollup] = await self._rollups.viewers([viewer_id])
        [profile] = await self._rollups.profiles([viewer_id])
        [risk] = await self._risk.levels([viewer_id])
        budget: BudgetTier | None = None
        intent: InteractionKind | None = None
        if rollup is not None:
            budget = classify_budget(rollup, thresholds.budget, self._clock()).tier
            found = dominant_intent(rollup.interactions, thresholds.intent)
            intent = found.intent if found else None
        return ViewerContext(
            viewer_id=viewer_id, thresholds=thresholds, risk=risk, budget=budget, intent=intent,
            interaction_shares=shares(rollup.interactions) if rollup else {},
            location=profile.location if profile else None,
            interests=profile.interests if profile else ())

    async def cards(self, creator_ids: Sequence[str]) -> dict[str, CreatorCard]:
        """Index cards of known creators (an id never seen as ``creatorId`` of an event has
        none, and discovery says nothing about it), in the order asked."""
        found = zip(creator_ids, await self.index.get_many(creator_ids), strict=True)
        return {c: card for c, card in found if card is not None}

    async def _segments_with(self, viewer_id: str, creator_ids: Iterable[str]
                             ) -> dict[str, AudienceSegment]:
        keys = [(viewer_id, c) for c in creator_ids]
        if self._freshness is not None:
            await self._freshness.pairs(keys)
        return {s.creator_id: s for s in await self._segments.get_many(keys) if s is not None}

    async def _not_blocked(self, viewer_id: str, creator_ids: Sequence[str]) -> list[str]:
        """Drop the viewer themself and creators whose own account is BLOCKED."""
        ids = [c for c in dict.fromkeys(creator_ids) if c != viewer_id]
        levels = await self._risk.levels(ids)
        return [c for c, level in zip(ids, levels, strict=True) if level is not RiskLevel.BLOCKED]

    # --- candidate generation -------------------------------------------------------------
    def _pool_keys(self, viewer: ViewerContext, filters: DiscoveryFilters | None,
                   scale: int = 1) -> list[tuple[PoolKey, int]]:
        """(pool, how many of it to take) for this viewer and these filters."""
        keys: list[tuple[PoolKey, int]] = []
        if viewer.location is not None:
            keys += [(("cell", c), POOL_SIZES["cell"])
                     for c in pool_cells(viewer.location, POOL_RESOLUTION)]
            keys += [(("region", r), POOL_SIZES["region"])
                     for r in pool_cells(viewer.location, REGION_RESOLUTION)]
        if filters is not None and (filters.budgets or filters.intents):
            budgets = sorted(filters.budgets or BudgetTier)
            intents = sorted(filters.intents or InteractionKind)
            wanted = [segment_key(b, i) for b, i in itertools.product(budgets, intents)]
            take = max(10, math.ceil(FILTERED_SEGMENT_CANDIDATES / len(wanted)))
            keys += [(("segment", s), min(take, POOL_SIZES["segment"])) for s in wanted]
        elif not viewer.blocked and viewer.budget is not None and viewer.intent is not None:
            keys.append((("segment", segment_key(viewer.budget, viewer.intent)),
                         POOL_SIZES["segment"]))
        keys.append((GLOBAL_POOL, POOL_SIZES["all"]))
        return [(key, take * scale) for key, take in keys]

    async def _candidates(self, viewer: ViewerContext, filters: DiscoveryFilters | None,
                          scale: int = 1) -> tuple[dict[str, CreatorCard], bool]:
        """The candidates, and whether some pool held more than was taken (a wider read
        could find more)."""
        wanted = self._pool_keys(viewer, filters, scale)
        pools = await self.pools.get_many((key for key, _ in wanted), scale)
        cards: dict[str, CreatorCard] = {}
        more = False
        for key, take in wanted:
            pool = pools[key]
            more = more or len(pool) >= take
            for card in pool[:take]:
                cards.setdefault(card.creator_id, card)
        if not viewer.blocked:  # known creators would be an advantage
            known = [c for c in await self.index.recent_creators_of(viewer.viewer_id, KNOWN_POOL)
                     if c not in cards]
            cards.update(await self.cards(known))
        allowed = await self._not_blocked(viewer.viewer_id, list(cards))
        return {c: cards[c] for c in allowed}, more

    # --- the queries ------------------------------------------------------------------------
    async def recommendations(self, viewer_id: str, limit: int,
                              filters: DiscoveryFilters | None = None) -> Ranking:
        if self._freshness is not None:  # the viewer's known creators are read from segments
            await self._freshness.viewer(viewer_id)
        viewer = await self.viewer(viewer_id)
        # `limit` is honoured whenever enough creators exist: pools widen in steps while the
        # ranking comes out short and some pool had more to give
        for scale in POOL_SCALES:
            candidates, more = await self._candidates(viewer, filters, scale)
            segments = (await self._segments_with(viewer_id, candidates)
                        if not viewer.blocked else {})
            ranked = rank(viewer, candidates.values(), segments, filters=filters)[:limit]
            if len(ranked) >= limit or not more:
                break
        self._impress(viewer, ranked, "RECOMMENDATIONS")
        return Ranking(viewer, ranked, len(candidates))

    async def filter_feed(self, viewer_id: str, candidate_ids: Sequence[str],
                          context: DiscoveryContext) -> Ranking:
        """The candidates the client holds, blocked ones dropped, ranked for ``context``."""
        rule = CONTEXT_RULES[context]
        viewer = await self.viewer(viewer_id)
        cards = await self.cards(await self._not_blocked(viewer_id, candidate_ids))
        ids = list(cards)
        segments = await self._segments_with(viewer_id, ids)
        if rule.only_new:
            cards = {c: card for c, card in cards.items() if c not in segments}
        if viewer.blocked:
            segments = {}
        ranked = rank(viewer, cards.values(), segments, boosted=rule.boosted)
        self._impress(viewer, ranked, context.value)
        return Ranking(viewer, ranked, len(cards))

    async def reorder(self, viewer_id: str, creator_ids: Sequence[str]) -> list[str]:
        """The queue best first (FEED rules); blocked accounts and the viewer are removed."""
        ranking = await self.filter_feed(viewer_id, creator_ids, DiscoveryContext.FEED)
        return [s.creator_id for s in ranking.ranked]

    async def _one(self, viewer: ViewerContext, creator_id: str
                   ) -> tuple[CreatorCard, AudienceSegment | None] | None:
        if not await self._not_blocked(viewer.viewer_id, [creator_id]):
            return None
        card = (await self.cards([creator_id])).get(creator_id)
        if card is None:
            return None  # not a known creator
        segment = None if viewer.blocked else (
            await self._segments_with(viewer.viewer_id, [creator_id])).get(creator_id)
        return card, segment

    async def visibility_boost(self, viewer_id: str, creator_id: str) -> float:
        """The multiplier ranking gives this creator for this viewer (1.0: none, or not a
        known creator)."""
        viewer = await self.viewer(viewer_id)
        found = await self._one(viewer, creator_id)
        if found is None:
            return 1.0
        card, segment = found
        return score(viewer, card, segment).boost.multiplier

    async def engagement(self, viewer_id: str, creator_id: str) -> EngagementSuggestion | None:
        """How to engage with a creator; None for an id not known as a creator, or blocked."""
        viewer = await self.viewer(viewer_id)
        found = await self._one(viewer, creator_id)
        if found is None:
            return None
        card, segment = found
        [pair] = await self._rollups.pairs([(viewer_id, creator_id)])
        if card.popularity == 0 and card.location is None and not card.interests and (
                pair is None):
            return None  # nothing at all is known of this creator
        labels = viewer_labels(viewer, card, segment)
        return suggest(viewer, card, labels,
                       None if viewer.blocked or pair is None else pair.interactions)

    # --- impressions ------------------------------------------------------------------------
    def _impress(self, viewer: ViewerContext, ranked: Sequence[ScoredCreator],
                 context: str) -> None:
        if viewer.blocked or not ranked:
            return  # BLOCKED viewers never appear in anyone's counts
        now = self._clock()
        self.impressions.record([
            Impression(viewer_id=viewer.viewer_id, creator_id=s.creator_id, at=now,
                       labels=s.match.labels.recorded(), context=context)
            for s in ranked])
