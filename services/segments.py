"""Segment recomputation: read rollups, classify, store, and report label transitions.

Each change is written together with an outbox record of itself (one atomic update of the
segment document, guarded by the segment's version), then delivered to the listeners, then
confirmed. A process that dies between the write and the confirmation leaves the record behind;
``redeliver`` hands it to the listeners again, which apply each change at most once by its id.
So derived counters (creator aggregates) never miss a change and never count one twice.
"""

from __future__ import annotations

import dataclasses
import logging
import time
import uuid
from collections import Counter, deque
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from domain.queue import error_text
from domain.rollups import Profile
from domain.segments.changes import Move, ThresholdPreview, moves_between
from domain.segments.classify import AudienceSegment, SegmentInputs, classify_pair
from domain.segments.dimensions import SegmentDimension
from domain.segments.risk import RiskChange, RiskLevel, clean_reason
from domain.segments.thresholds import SegmentThresholds
from services.kpis import ComputationOutcome, KpiCounters, NoKpis
from store.configuration import ConfigurationRepository
from store.risk import RiskRepository
from store.rollups import PairKey, RollupRepository
from store.segments import SegmentRepository, TransitionRecord, VersionedWrite

#: pairs recomputed per batch of store reads (one $in query per collection per batch)
RECOMPUTE_BATCH = 200
#: a viewer's pairs recomputed per page (set_risk, viewer-wide facts)
VIEWER_PAGE = 1_000
#: the most pairs a threshold preview classifies (beyond it, the preview is a sample)
PREVIEW_MAX_PAIRS = 10_000
#: times a pair is recomputed when other writers keep changing it underneath
MAX_WRITE_CONFLICTS = 5
#: redeliveries of one orphaned change before it is set aside in ``dead_letters``
MAX_DELIVERY_ATTEMPTS = 5

log = logging.getLogger("audience.segments")


@dataclass(frozen=True)
class SegmentTransition:
    """A pair's segment before and after a recomputation (``before`` is None when new).

    ``id`` names this change: it may be delivered more than once (after a crash), and a
    listener must apply a given id at most once.
    """

    before: AudienceSegment | None
    after: AudienceSegment
    id: str = ""
    #: delivered again from the outbox (a listener may have applied it already); a change
    #: delivered by its writer is new to every listener
    redelivered: bool = False


#: receives a whole batch's changes in one call (so it can write them in one round trip)
TransitionBatchListener = Callable[[Sequence[SegmentTransition]], Awaitable[None]]
TransitionFilter = Callable[[SegmentTransition], bool]
Clock = Callable[[], datetime]


class ConcurrentUpdateError(RuntimeError):
    """A pair kept changing underneath every recomputation attempt."""


@dataclass(frozen=True)
class TransitionHandler:
    """What runs on segment transitions (api/bootstrap.py lists them, in order).

    ``deliver`` gets each batch's relevant changes in one call (so it can write them in one
    round trip), every change at least once, and must apply a given id at most once (a batch
    redelivered after a crash repeats ids); ``relevant`` says which changes it cares about (a
    change nobody cares about is written without an outbox record); ``confirmed`` runs once
    the changes are confirmed delivered, to drop whatever ``deliver`` kept to recognise a
    redelivery.
    """

    deliver: TransitionBatchListener | None = None
    relevant: TransitionFilter | None = None
    confirmed: TransitionBatchListener | None = None

    def wants(self, changes: Sequence[SegmentTransition]) -> list[SegmentTransition]:
        return [c for c in changes if self.relevant is None or self.relevant(c)]


def utc_now() -> datetime:
    return datetime.now(UTC)


class SegmentService:
    """Keeps ``audience_segments`` equal to classify(rollups, thresholds, now)."""

    def __init__(self, rollups: RollupRepository, segments: SegmentRepository,
                 configuration: ConfigurationRepository, risk: RiskRepository,
                 clock: Clock = utc_now, handlers: Sequence[TransitionHandler] = (),
                 kpis: KpiCounters | None = None) -> None:
        self.rollups = rollups
        self._kpis = kpis or NoKpis()
        self.segments = segments
        self.configuration = configuration
        self.risk = risk
        self.clock = clock
        #: what runs on every transition, in order (handed in by the composition root)
        self.handlers: tuple[TransitionHandler, ...] = tuple(handlers)
        #: recent per-pair computation times in seconds (for health percentiles)
        self.timings: deque[float] = deque(maxlen=2000)

    # --- reads and settings for the API (resolvers call these, never the repositories) ----
    async def get_many(self, keys: Sequence[PairKey]) -> list[AudienceSegment | None]:
        """Stored segments of ``keys``, in key order, None for a pair never classified."""
        return await self.segments.get_many(list(keys))

    async def page_for_viewer(self, viewer_id: str, after_creator: str | None, limit: int
                              ) -> list[AudienceSegment]:
        return await self.segments.page_for_viewer(viewer_id, after_creator, limit)

    async def count_for_viewer(self, viewer_id: str) -> int:
        return await self.segments.count_for_viewer(viewer_id)

    async def profiles(self, user_ids: Sequence[str]) -> list[Profile | None]:
        return await self.rollups.profiles(list(user_ids))

    async def risk_history(self, viewer_id: str) -> list[RiskChange]:
        return await self.risk.history(viewer_id)

    async def thresholds(self) -> SegmentThresholds:
        """The live thresholds (the next computation reads them)."""
        return await self.configuration.current()

    async def update_thresholds(self, changes: Mapping[str, Mapping[str, Any]], updated_by: str
                                ) -> SegmentThresholds:
        return await self.configuration.update(changes, updated_by)

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

    async def _recompute_batch(self, keys: Sequence[PairKey], now: datetime, conflicts: int = 0
                               ) -> list[AudienceSegment | None]:
        """Classify a batch of pairs and write them in one round trip; deliver and confirm
        their changes as one batch (each stage one round trip per collection it touches)."""
        try:
            return await self._classify_and_write(keys, now, conflicts)
        except Exception:
            self._kpis.count_computations(ComputationOutcome.FAILED, len(keys))
            raise

    async def _classify_and_write(self, keys: Sequence[PairKey], now: datetime, conflicts: int
                                  ) -> list[AudienceSegment | None]:
        started = time.perf_counter()
        thresholds = await self.configuration.current()
        inputs = await self._inputs(keys)
        stored = await self.segments.get_versioned(keys)
        results: list[AudienceSegment | None] = []
        writes: list[VersionedWrite] = []
        changes: list[tuple[int, SegmentTransition]] = []
        for (viewer_id, creator_id), pair_inputs in zip(keys, inputs, strict=True):
            if pair_inputs is None:
                results.append(None)
                continue
            segment = classify_pair(pair_inputs, thresholds, now)
            previous = stored.get((viewer_id, creator_id))
            before = previous.segment if previous else None
            change = SegmentTransition(before, segment, uuid.uuid4().hex)
            relevant = _changed(before, segment) and any(
                sub.relevant is None or sub.relevant(change) for sub in self.handlers)
            if not relevant:
                change = dataclasses.replace(change, id="")
            writes.append(VersionedWrite(
                segment, previous.version if previous else None,
                TransitionRecord(change.id, now, before, segment) if relevant else None))
            changes.append((len(results), change))
            results.append(segment)
        saved = await self.segments.save_versioned_many(writes) if writes else []
        raced = [i for (i, _), ok in zip(changes, saved, strict=True) if not ok]
        moved = sum(1 for (_, c), ok in zip(changes, saved, strict=True)
                    if ok and _changed(c.before, c.after))
        self._kpis.count_computations(ComputationOutcome.CHANGED, moved)
        self._kpis.count_computations(ComputationOutcome.UNCHANGED,
                                      len(saved) - len(raced) - moved)
        self._kpis.count_computations(ComputationOutcome.CONFLICT, len(raced))
        delivered = [c for (_, c), ok in zip(changes, saved, strict=True) if ok and c.id]
        # Delivered, then one confirmation for the batch: a crash before it only means
        # redeliveries, which the listeners recognise by id.
        await self._deliver(delivered)
        await self._confirm(delivered)
        if keys:
            per_pair = (time.perf_counter() - started) / len(keys)
            self.timings.extend([per_pair] * min(len(keys), 50))
        if raced:
            # Another writer changed these pairs since they were read: recompute them from
            # fresh reads, so the last write always rests on the latest rollups.
            if conflicts >= MAX_WRITE_CONFLICTS:
                raise ConcurrentUpdateError(f"{len(raced)} pairs kept changing underneath")
            again = await self._classify_and_write([keys[i] for i in raced], now,
                                                   conflicts + 1)
            for i, fresh in zip(raced, again, strict=True):
                results[i] = fresh
        return results

    async def _inputs(self, keys: Sequence[PairKey]) -> list[SegmentInputs | None]:
        """What classification reads for each pair (None: never interacted), in four reads."""
        viewer_ids = [v for v, _ in keys]
        pairs = await self.rollups.pairs(keys)
        viewers = await self.rollups.viewers(viewer_ids)
        profiles = await self.rollups.profiles(sorted({u for k in keys for u in k}))
        profile_of = {p.user_id: p for p in profiles if p is not None}
        risks = await self.risk.levels(viewer_ids)
        return [None if pair is None else SegmentInputs(
                    pair=pair, viewer=viewer, viewer_profile=profile_of.get(viewer_id),
                    creator_profile=profile_of.get(creator_id), risk=risk)
                for (viewer_id, creator_id), pair, viewer, risk
                in zip(keys, pairs, viewers, risks, strict=True)]

    async def preview_thresholds(self, changes: Mapping[str, Mapping[str, Any]],
                                 now: datetime | None = None) -> ThresholdPreview:
        """What saving ``changes`` would move, saving nothing: up to ``PREVIEW_MAX_PAIRS``
        pairs classified under the live and the proposed thresholds, from the same counters
        at the same moment (so only the thresholds differ). Raises ValidationError."""
        now = now or self.clock()
        proposed = await self.configuration.proposed(changes)
        current = await self.configuration.current()
        keys = await self.rollups.some_pairs(PREVIEW_MAX_PAIRS)
        moves: Counter[Move] = Counter()
        for start in range(0, len(keys), RECOMPUTE_BATCH):
            for pair_inputs in await self._inputs(keys[start:start + RECOMPUTE_BATCH]):
                if pair_inputs is not None:
                    moves.update(moves_between(classify_pair(pair_inputs, current, now),
                                               classify_pair(pair_inputs, proposed, now)))
        total = await self.rollups.count_pairs() if len(keys) >= PREVIEW_MAX_PAIRS else len(keys)
        return ThresholdPreview(pairs_evaluated=len(keys), pairs_total=total,
                                moves=tuple(sorted(moves.items(), key=_move_order)))

    async def _deliver(self, changes: Sequence[SegmentTransition]) -> None:
        for sub in self.handlers:
            if sub.deliver is not None and (batch := sub.wants(changes)):
                await sub.deliver(batch)

    async def _confirm(self, changes: Sequence[SegmentTransition]) -> None:
        if not changes:
            return
        await self.segments.confirm([((c.after.viewer_id, c.after.creator_id), c.id)
                                     for c in changes])
        for sub in self.handlers:
            if sub.confirmed is not None and (batch := sub.wants(changes)):
                await sub.confirmed(batch)

    async def redeliver(self, older_than: timedelta, now: datetime | None = None,
                        limit: int = 500) -> int:
        """Deliver changes whose writer died before confirming them (older than the grace).

        The grace must exceed the time a live writer needs between its write and its
        confirmation (a job lease is the bound used), so a live writer is never raced.
        """
        now = now or self.clock()
        records = await self.segments.undelivered(now - older_than, limit)
        changes = [SegmentTransition(r.before, r.after, r.id, redelivered=True) for r in records]
        try:
            await self._deliver(changes)  # the whole sweep as one batch
            delivered = changes
        except Exception:
            # Some record fails: deliver them one by one, so one poison record does not stall
            # the sweep; it is retried a grace later, and set aside in dead_letters once its
            # attempts are spent. (Those delivered in the failed batch are recognised by id.)
            delivered = []
            for record, change in zip(records, changes, strict=True):
                try:
                    await self._deliver([change])
                except Exception as exc:
                    buried = await self.segments.delivery_failed(
                        record, error_text(exc), now, MAX_DELIVERY_ATTEMPTS)
                    log.warning("redelivery failed", extra={
                        "change": record.id, "attempts": record.attempts + 1,
                        "dead_lettered": buried, "error": error_text(exc)})
                    continue
                delivered.append(change)
        await self._confirm(delivered)
        return len(delivered)

    async def recompute_viewer(self, viewer_id: str, now: datetime | None = None,
                               page: int = VIEWER_PAGE) -> int:
        """Recompute every pair of a viewer (viewer-wide facts: budget, location, risk), a
        page of their key range at a time: memory holds one page, and nothing is left out
        however many creators the viewer has (it used to stop at a fixed cap)."""
        done, after = 0, None
        while creators := await self.rollups.creators_of(viewer_id, page, after):
            await self.recompute_many([(viewer_id, c) for c in creators], now)
            done += len(creators)
            after = creators[-1]
        return done

    async def recompute_all(self, now: datetime | None = None) -> int:
        """Recompute every pair (rebuild and the daily full run)."""
        done = 0
        async for _, keys in self.rollups.pair_pages():
            await self.recompute_many(keys, now)
            done += len(keys)
        return done

    async def set_risk(self, viewer_id: str, level: RiskLevel, reason: str, set_by: str
                       ) -> RiskChange:
        """Set a viewer's risk (audited) and carry it into every pair of theirs."""
        change = await self.risk.set_level(viewer_id, level, clean_reason(reason), set_by,
                                           self.clock())
        await self.recompute_viewer(viewer_id)
        return change


def _move_order(item: tuple[Move, int]) -> tuple[int, int, str, str]:
    """Most pairs first, then in table order."""
    (dimension, before, after), pairs = item
    return (-pairs, list(SegmentDimension).index(dimension), before or "", after or "")


def _changed(before: AudienceSegment | None, after: AudienceSegment) -> bool:
    """Whether anything but the computation time differs."""
    if before is None:
        return True
    return dataclasses.replace(before, last_updated=after.last_updated) != after
