"""Segment recomputation: read rollups, classify, store, and report label transitions."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from domain.segments.classify import AudienceSegment, SegmentInputs, classify_pair
from domain.segments.risk import RiskChange, RiskLevel, clean_reason
from store.configuration import ConfigurationRepository
from store.risk import RiskRepository
from store.rollups import PairKey, RollupRepository
from store.segments import SegmentRepository

#: pairs recomputed per batch of store reads (one $in query per collection per batch)
RECOMPUTE_BATCH = 200


@dataclass(frozen=True)
class SegmentTransition:
    """A pair's segment before and after a recomputation (``before`` is None when new)."""

    before: AudienceSegment | None
    after: AudienceSegment


TransitionListener = Callable[[SegmentTransition], Awaitable[None]]
Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


class SegmentService:
    """Keeps ``audience_segments`` equal to classify(rollups, thresholds, now)."""

    def __init__(self, rollups: RollupRepository, segments: SegmentRepository,
                 configuration: ConfigurationRepository, risk: RiskRepository,
                 clock: Clock = utc_now) -> None:
        self.rollups = rollups
        self.segments = segments
        self.configuration = configuration
        self.risk = risk
        self.clock = clock
        self._listeners: list[TransitionListener] = []
        #: recent per-pair computation times in seconds (for health percentiles)
        self.timings: deque[float] = deque(maxlen=2000)

    def on_transition(self, listener: TransitionListener) -> None:
        self._listeners.append(listener)

    async def recompute(self, viewer_id: str, creator_id: str,
                        now: datetime | None = None) -> AudienceSegment | None:
        """Recompute one pair now; ``None`` when the pair has never interacted."""
        [segment] = await self.recompute_many([(viewer_id, creator_id)], now)
        return segment

    async def recompute_many(self, keys: Sequence[PairKey], now: datetime | None = None
                             ) -> list[AudienceSegment | None]:
        """Recompute pairs with a constant number of reads per batch of pairs."""
        now = now or self.clock()
        out: list[AudienceSegment | None] = []
        for start in range(0, len(keys), RECOMPUTE_BATCH):
            out.extend(await self._recompute_batch(keys[start:start + RECOMPUTE_BATCH], now))
        return out

    async def _recompute_batch(self, keys: Sequence[PairKey], now: datetime
                               ) -> list[AudienceSegment | None]:
        started = time.perf_counter()
        thresholds = await self.configuration.current()
        viewer_ids = [v for v, _ in keys]
        pairs = await self.rollups.pairs(keys)
        viewers = await self.rollups.viewers(viewer_ids)
        profiles = await self.rollups.profiles(sorted({u for k in keys for u in k}))
        profile_of = {p.user_id: p for p in profiles if p is not None}
        risks = await self.risk.levels(viewer_ids)
        results: list[AudienceSegment | None] = []
        for (viewer_id, creator_id), pair, viewer, risk in zip(keys, pairs, viewers, risks,
                                                                strict=True):
            if pair is None:
                results.append(None)
                continue
            segment = classify_pair(SegmentInputs(pair=pair, viewer=viewer,
                                                  viewer_profile=profile_of.get(viewer_id),
                                                  creator_profile=profile_of.get(creator_id),
                                                  risk=risk), thresholds, now)
            before = await self.segments.save(segment)
            transition = SegmentTransition(before, segment)
            for listener in self._listeners:
                await listener(transition)
            results.append(segment)
        if keys:
            per_pair = (time.perf_counter() - started) / len(keys)
            self.timings.extend([per_pair] * min(len(keys), 50))
        return results

    async def recompute_viewer(self, viewer_id: str, now: datetime | None = None,
                               limit: int = 10_000) -> int:
        """Recompute every pair of a viewer (viewer-wide facts: budget, location, risk)."""
        creators = await self.rollups.creators_of(viewer_id, limit)
        await self.recompute_many([(viewer_id, c) for c in creators], now)
        return len(creators)

    async def recompute_creator(self, creator_id: str, now: datetime | None = None) -> int:
        """Recompute every pair of a creator (the creator's location or interests changed)."""
        viewers = await self.rollups.viewers_of(creator_id)
        await self.recompute_many([(v, creator_id) for v in viewers], now)
        return len(viewers)

    async def recompute_all(self, now: datetime | None = None) -> int:
        """Recompute every pair (rebuild and the daily full run)."""
        keys = list(await self.rollups.all_pairs())
        await self.recompute_many(keys, now)
        return len(keys)

    async def set_risk(self, viewer_id: str, level: RiskLevel, reason: str, set_by: str
                       ) -> RiskChange:
        """Set a viewer's risk (audited) and carry it into every pair of theirs."""
        change = await self.risk.set_level(viewer_id, level, clean_reason(reason), set_by,
                                           self.clock())
        await self.recompute_viewer(viewer_id)
        return change
