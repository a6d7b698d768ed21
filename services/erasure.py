"""Erasure (GDPR article 17): a viewer's data removed, their part of every audience taken out.

``erase`` works in bounded steps, each repeatable, so a crash part-way through is finished by
calling it again (erasing twice is fine):

1. **events**, a page at a time: a tombstone per event (the SHA-256 of its id, never the id) is
   written before the page is deleted, so a later replay of an erased id is a duplicate that
   changes nothing (``Ingestion`` reads the tombstones with every batch);
2. **counters**: rollups, pair rollups, profile, once-only claims, impressions — first, so no
   recomputation started from now on finds anything to classify;
3. **segments**, a page at a time: each creator's aggregate loses the viewer's contribution
   (exactly once: the move is marked with an id derived from the pair) and the release holds
   the change back like any other, so creators see it with the next release (contract §7);
   the change log gets one record per dimension saying the segment is gone (``to`` null) so
   feed consumers delete their copies (``from`` null too: what it was is not kept); then the
   segments go;
4. **history**: the viewer's earlier change records are deleted.

Kept: risk labels and their audit (safety: erasing one's data must not lift a block), and the
creators' per-day performance counts (they count impressions, never name a viewer).
"""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass

from domain.insights.aggregates import transition_delta
from domain.segments.changes import changes_between
from services.insights import Clock, InsightsService, utc_now
from store.aggregates import AggregateMove, AggregateRepository
from store.impressions import ImpressionRepository
from store.ledger import EventLedger
from store.releases import HeldChange
from store.rollups import RollupRepository
from store.segment_changes import SegmentChangeLog
from store.segments import SegmentRepository

#: events or segments removed per round trip
ERASE_PAGE = 500

@dataclass(frozen=True)
class ErasureReceipt:
    viewer_id: str
    #: the viewer's data is gone (also when there was none, or a first call did it)
    erased: bool
    #: removed by this call
    events: int
    segments: int


def removal_id(viewer_id: str, creator_id: str) -> str:
    """The id that marks one pair's removal: the same on every attempt (so it moves an
    aggregate once), naming nobody."""
    return "erase-" + hashlib.sha256(f"{viewer_id}|{creator_id}".encode()).hexdigest()[:32]


class Erasure:
    def __init__(self, ledger: EventLedger, rollups: RollupRepository,
                 segments: SegmentRepository, aggregates: AggregateRepository,
                 insights: InsightsService, log: SegmentChangeLog,
                 impressions: ImpressionRepository, clock: Clock = utc_now) -> None:
        self._ledger = ledger
        self._rollups = rollups
        self._segments = segments
        self._aggregates = aggregates
        self._insights = insights
        self._log = log
        self._impressions = impressions
        self._clock = clock

    async def erase(self, viewer_id: str) -> ErasureReceipt:
        now = self._clock()
        events = 0
        while erased := await self._ledger.erase_page(viewer_id, ERASE_PAGE, now):
            events += erased
        await self._rollups.erase_viewer(viewer_id)
        await self._impressions.erase_viewer(viewer_id)
        segments = 0
        while page := await self._segments.page_for_viewer(viewer_id, None, ERASE_PAGE):
            removals = [(s, removal_id(viewer_id, s.creator_id), transition_delta(s, None))
                        for s in page]
            await self._aggregates.apply_many([
                AggregateMove(s.creator_id, delta, rid, now, viewer_id=viewer_id)
                for s, rid, delta in removals])
            await self._insights.hold([HeldChange(s.creator_id, viewer_id, delta, rid, now)
                                       for s, rid, delta in removals if delta])
            # what the segment was is not kept: a removal record says only that it is gone
            await self._log.append([dataclasses.replace(change, before=None)
                                    for s, rid, _ in removals for change in
                                    changes_between(rid, viewer_id, s.creator_id, s, None, now)],
                                   now)
            segments += await self._segments.delete_pairs([(viewer_id, s.creator_id)
                                                           for s in page])
            marks = [(s.creator_id, rid) for s, rid, _ in removals]
            await self._aggregates.forget_many([(c, viewer_id, rid) for c, rid in marks])
            await self._insights.forget_held(marks)
        await self._log.delete_viewer(viewer_id)
        return ErasureReceipt(viewer_id, True, events, segments)
