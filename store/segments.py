"""``audience_segments``: one materialised segment per (viewer, creator) pair."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pymongo import InsertOne, ReturnDocument, UpdateOne
from pymongo.errors import BulkWriteError

from domain.segments.budget import BudgetResult, BudgetTier
from domain.segments.classify import AudienceSegment
from domain.segments.intent import Intent, IntentResult
from domain.segments.passion import PassionSignals
from domain.segments.proximity import Proximity, ProximityResult
from domain.segments.risk import RiskLevel
from store.bulk import duplicate_key_failures
from store.database import Collections, Store, pages, utc
from store.dead_letters import DeadLetterRepository, DeadLetterSource
from store.rollups import PairKey, pair_filter, pair_id


def segment_to_doc(s: AudienceSegment) -> dict[str, Any]:
    p = s.passion
    return {
        "viewer_id": s.viewer_id, "creator_id": s.creator_id,
        "budget": s.budget.value, "intent": s.intent.value, "proximity": s.proximity.value,
        "risk": s.risk.value, "last_updated": s.last_updated,
        "passion": {
            "shared_interests": p.shared_interests,
            "shared_interests_score": p.shared_interests_score,
            "common_interests": p.common_interests,
            "visual_attraction": p.visual_attraction,
            "visual_attraction_score": p.visual_attraction_score,
            "loyal_follower": p.loyal_follower, "loyalty_score": p.loyalty_score,
        },
        "budget_detail": {"window_tokens": s.budget_detail.window_tokens,
                          "window_purchases": s.budget_detail.window_purchases},
        "intent_detail": {"share": s.intent_detail.share,
                          "majority": s.intent_detail.majority,
                          "source": s.intent_detail.source},
        "distance_km": s.proximity_detail.distance_km,
        "revenue_tokens": s.revenue_tokens, "spend_tokens": s.spend_tokens,
        "paying": s.paying,
    }


def _whole_km(value: Any) -> int | None:
    return None if value is None else round(float(value))


def segment_from_doc(d: dict[str, Any]) -> AudienceSegment:
    budget = BudgetTier(d["budget"])
    intent = Intent(d["intent"])
    proximity = Proximity(d["proximity"])
    bd, idt, p = d.get("budget_detail") or {}, d.get("intent_detail") or {}, d["passion"]
    last_updated = utc(d["last_updated"])
    assert last_updated is not None
    return AudienceSegment(
        viewer_id=d["viewer_id"], creator_id=d["creator_id"], budget=budget, intent=intent,
        proximity=proximity, risk=RiskLevel(d.get("risk", "NORMAL")), last_updated=last_updated,
        passion=PassionSignals(**{k: p[k] for k in PassionSignals.__dataclass_fields__}),
        budget_detail=BudgetResult(budget, int(bd.get("window_tokens", 0)),
                                   int(bd.get("window_purchases", 0))),
        intent_detail=IntentResult(intent, float(idt.get("share", 0.0)),
                                   bool(idt.get("majority", False)),
                                   str(idt.get("source", "pair"))),
        proximity_detail=ProximityResult(proximity, _whole_km(d.get("distance_km"))),
        revenue_tokens=int(d.get("revenue_tokens", 0)),
        spend_tokens=int(d.get("spend_tokens", 0)),
    )


@dataclass(frozen=True)
class StoredSegment:
    """A segment with its version: the number of times it was written (compare-and-set)."""

    segment: AudienceSegment
    version: int


@dataclass(frozen=True)
class TransitionRecord:
    """A segment change not yet confirmed delivered to every listener (the pair's outbox).

    It is written in the same atomic update as the segment itself, so a writer that dies right
    after the write leaves the record behind and a later sweep delivers it; listeners make
    delivery idempotent by ``id``.
    """

    id: str
    at: datetime
    before: AudienceSegment | None
    after: AudienceSegment
    #: failed redeliveries so far (each pushes ``at`` forward: the next try is a grace later)
    attempts: int = 0


def _record_to_doc(t: TransitionRecord) -> dict[str, Any]:
    return {"id": t.id, "at": t.at, "attempts": t.attempts,
            "before": segment_to_doc(t.before) if t.before else None,
            "after": segment_to_doc(t.after)}


def _record_from_doc(d: dict[str, Any]) -> TransitionRecord:
    at = utc(d["at"])
    assert at is not None
    return TransitionRecord(id=d["id"], at=at,
                            before=segment_from_doc(d["before"]) if d.get("before") else None,
                            after=segment_from_doc(d["after"]),
                            attempts=int(d.get("attempts") or 0))


@dataclass(frozen=True)
class VersionedWrite:
    """A segment to store over the version read (``None``: none yet), with its outbox record."""

    segment: AudienceSegment
    expected_version: int | None
    transition: TransitionRecord | None


class SegmentRepository:
    def __init__(self, store: Store) -> None:
        self._segments = store.collection(Collections.SEGMENTS)
        self._dead = DeadLetterRepository(store)

    async def of_creators(self, creator_ids: Sequence[str]
                          ) -> dict[str, list[AudienceSegment]]:
        """Every segment of some creators' audiences, by creator (one paged read for all)."""
        found: dict[str, list[AudienceSegment]] = {c: [] for c in creator_ids}
        if creator_ids:
            async for page in pages(self._segments,
                                    {"creator_id": {"$in": sorted(set(creator_ids))}},
                                    {"outbox": 0}):
                for d in page:
                    found[d["creator_id"]].append(segment_from_doc(d))
        return found

    async def top_revenue(self, creator_id: str, combos: Sequence[str], k: int
                          ) -> dict[str, list[int]]:
        """The ``k`` largest revenues among a creator's segments in each combination
        (``BUDGET|INTENT|PROXIMITY``), BLOCKED viewers left out: one index range read of at
        most ``k`` entries per combination, whatever the size of the audience."""
        async def one(combo: str) -> tuple[str, list[int]]:
            budget, intent, proximity = combo.split("|")
            cursor = self._segments.find(
                {"creator_id": creator_id, "budget": budget, "intent": intent,
                 "proximity": proximity, "revenue_tokens": {"$gt": 0},
                 "risk": {"$ne": RiskLevel.BLOCKED.value}},
                {"revenue_tokens": 1, "_id": 0}).sort("revenue_tokens", -1).limit(k)
            return combo, [int(d["revenue_tokens"]) async for d in cursor]

        return dict(await asyncio.gather(*(one(c) for c in combos)))

    async def get_versioned(self, keys: Sequence[PairKey]) -> dict[PairKey, StoredSegment]:
        """The stored segments of ``keys`` (absent pairs left out) with their versions."""
        found: dict[PairKey, StoredSegment] = {}
        async for d in self._segments.find(pair_filter(keys), {"outbox": 0}):
            found[(d["viewer_id"], d["creator_id"])] = StoredSegment(segment_from_doc(d),
                                                                     int(d.get("v") or 0))
        return found

    async def save_versioned(self, segment: AudienceSegment, expected_version: int | None,
                             transition: TransitionRecord | None) -> bool:
        """One :meth:`save_versioned_many` write."""
        [saved] = await self.save_versioned_many([VersionedWrite(segment, expected_version,
                                                                 transition)])
        return saved

    async def save_versioned_many(self, writes: Sequence[VersionedWrite]) -> list[bool]:
        """Write each segment if its stored version is still the one expected (``None``: no
        segment yet), appending its transition to the pair's outbox in the same atomic update;
        all in one round trip (two when some write lost a race).

        ``False`` for a write means another writer got there first: the caller recomputes
        from fresh reads, so the chain of (before → after) changes stays exact under
        concurrency. A pair named twice in one call is written once (its later writes lose).
        """
        token = uuid.uuid4().hex  # marks this call's writes, to tell which ones landed
        ops: list[Any] = []
        slots: list[int | None] = []  # the op index of each write (None: never sent)
        inserts: set[int] = set()
        named: set[str] = set()
        for write in writes:
            segment = write.segment
            key = pair_id(segment.viewer_id, segment.creator_id)
            if key in named:
                slots.append(None)
                continue
            named.add(key)
            doc = {**segment_to_doc(segment), "w": token}
            slots.append(len(ops))
            if write.expected_version is None:
                inserts.add(len(ops))
                ops.append(InsertOne({"_id": key, **doc, "v": 1, "outbox": [
                    _record_to_doc(write.transition)] if write.transition else []}))
                continue
            current: Any = write.expected_version if write.expected_version else {
                "$in": [0, None]}
            update: dict[str, Any] = {"$set": doc, "$inc": {"v": 1}}
            if write.transition:
                update["$push"] = {"outbox": _record_to_doc(write.transition)}
            ops.append(UpdateOne({"viewer_id": segment.viewer_id,
                                  "creator_id": segment.creator_id, "_id": key,
                                  "v": current}, update))
        if not ops:
            return [False for _ in writes]
        try:
            result = (await self._segments.bulk_write(ops, ordered=False)).bulk_api_result
            failed: set[int] = set()
        except BulkWriteError as error:  # an insert met a pair created meanwhile
            failed = duplicate_key_failures(error)
            result = error.details
        landed = [i not in failed for i in range(len(ops))]
        if int(result.get("nMatched", 0)) < len(ops) - len(inserts):
            # Some update found another version: ask which of ours hold the pair now.
            mine = {d["_id"] async for d in self._segments.find(
                {**pair_filter([(w.segment.viewer_id, w.segment.creator_id) for w in writes]),
                 "w": token}, {"_id": 1})}
            for write, slot in zip(writes, slots, strict=True):
                if slot is not None and slot not in inserts:
                    landed[slot] = pair_id(write.segment.viewer_id,
                                           write.segment.creator_id) in mine
        return [slot is not None and landed[slot] for slot in slots]

    async def confirm(self, delivered: Sequence[tuple[PairKey, str]]) -> None:
        """Drop delivered changes ((pair, change id) ...) from their outboxes, in one call."""
        if delivered:
            await self._segments.update_many(
                pair_filter([pair for pair, _ in delivered]),
                {"$pull": {"outbox": {"id": {"$in": [t for _, t in delivered]}}}})

    async def undelivered(self, older_than: datetime, limit: int) -> list[TransitionRecord]:
        """Changes written before ``older_than`` and never confirmed (their writer died), the
        pairs holding the oldest first: sorted, then limited, so a sweep always reaches the
        oldest records whatever the outbox holds.

        A record that cannot even be read back (a corrupt or foreign document) is moved to
        ``dead_letters`` on the spot: no retry could ever deliver it, and leaving it would make
        every later sweep meet it first."""
        out: list[TransitionRecord] = []
        cursor = self._segments.find(
            {"outbox.at": {"$lt": older_than}},
            {"outbox": 1, "viewer_id": 1, "creator_id": 1}).sort("outbox.at", 1).limit(limit)
        async for d in cursor:
            for raw in d.get("outbox") or ():
                try:
                    record = _record_from_doc(raw)
                except Exception as exc:  # any decoding failure: the record is unreadable
                    await self._bury((d["viewer_id"], d["creator_id"]), raw,
                                     f"unreadable: {type(exc).__name__}: {exc}",
                                     int(raw.get("attempts") or 0) if isinstance(raw, dict)
                                     else 0, older_than)
                    continue
                if record.at < older_than:
                    out.append(record)
        return sorted(out, key=lambda r: r.at)

    async def delivery_failed(self, record: TransitionRecord, error: str, now: datetime,
                              max_attempts: int) -> bool:
        """Count a failed redelivery of ``record``: retried a grace later (its ``at`` moves to
        ``now``), or, its attempts spent, moved to ``dead_letters``. True when dead-lettered."""
        pair = (record.after.viewer_id, record.after.creator_id)
        key = pair_id(*pair)
        if record.attempts + 1 >= max_attempts:
            await self._bury(pair, _record_to_doc(record), error, record.attempts + 1, now)
            return True
        await self._segments.update_one(
            {"viewer_id": record.after.viewer_id, "creator_id": record.after.creator_id,
             "_id": key, "outbox.id": record.id},
            {"$inc": {"outbox.$.attempts": 1},
             "$set": {"outbox.$.at": now, "outbox.$.last_error": error}})
        return False

    async def _bury(self, pair: PairKey, raw: Any, error: str, attempts: int, now: datetime
                    ) -> None:
        key = pair_id(*pair)
        record_id = str(raw.get("id")) if isinstance(raw, dict) else repr(raw)[:100]
        await self._dead.put(DeadLetterSource.OUTBOX, f"{key}|{record_id}", key=key,
                             error=error, attempts=attempts, at=now,
                             payload=raw if isinstance(raw, dict) else {"raw": repr(raw)})
        pull = {"id": raw["id"]} if isinstance(raw, dict) and "id" in raw else raw
        await self._segments.update_one(
            {"viewer_id": pair[0], "creator_id": pair[1], "_id": key},
            {"$pull": {"outbox": pull}})

    async def save(self, segment: AudienceSegment) -> AudienceSegment | None:
        """Store ``segment``; return the one it replaced (atomically), ``None`` if it is new.

        Because the swap is one atomic find-and-modify, the chain of (previous → new) pairs
        seen by concurrent writers is consistent: aggregates fed from it never double count.
        """
        before = await self._segments.find_one_and_update(
            {"viewer_id": segment.viewer_id, "creator_id": segment.creator_id,
             "_id": pair_id(segment.viewer_id, segment.creator_id)},
            {"$set": segment_to_doc(segment), "$inc": {"v": 1}}, upsert=True,
            return_document=ReturnDocument.BEFORE)
        return segment_from_doc(before) if before else None

    async def get_many(self, keys: Sequence[PairKey]) -> list[AudienceSegment | None]:
        ids = [pair_id(v, c) for v, c in keys]
        found = {d["_id"]: segment_from_doc(d)
                 async for d in self._segments.find(pair_filter(keys))}
        return [found.get(i) for i in ids]

    async def page_for_viewer(self, viewer_id: str, after_creator: str | None, limit: int
                              ) -> list[AudienceSegment]:
        """Up to ``limit`` segments of a viewer, ordered by creator id, after a cursor."""
        query: dict[str, Any] = {"viewer_id": viewer_id}
        if after_creator is not None:
            query["creator_id"] = {"$gt": after_creator}
        cursor = self._segments.find(query).sort("creator_id", 1).limit(limit)
        return [segment_from_doc(d) async for d in cursor]

    async def delete_pairs(self, keys: Sequence[PairKey]) -> int:
        """Remove the segments of ``keys`` (erasure); how many there were."""
        if not keys:
            return 0
        result = await self._segments.delete_many(pair_filter(keys))
        return int(result.deleted_count)

    async def count_for_viewer(self, viewer_id: str) -> int:
        return int(await self._segments.count_documents({"viewer_id": viewer_id}))

    async def viewer_pages(self) -> AsyncIterator[list[AudienceSegment]]:
        """Every segment, a page at a time in ``_id`` order — ``viewer|creator``, so one
        viewer's segments arrive one after another (the platform release sums a viewer's
        parts)."""
        async for page in pages(self._segments, {}, {"outbox": 0}):
            yield [segment_from_doc(d) for d in page]

    async def all(self, batch_size: int = 1000) -> AsyncIterator[AudienceSegment]:
        async for d in self._segments.find({}).batch_size(batch_size):
            yield segment_from_doc(d)

    async def estimated_count(self) -> int:
        """Segments held, from the collection's metadata (the coverage KPI)."""
        return await self._segments.estimated_document_count()

    async def count(self) -> int:
        return int(await self._segments.count_documents({}))

    async def clear(self) -> None:
        await self._segments.delete_many({})
