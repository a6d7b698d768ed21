"""``impressions`` (one document per viewer–creator pair) and ``segment_performance`` counters.

``segment_performance`` documents have exactly this shape (the insights read them)::

    {_id: "creator|segment_type|segment_value|YYYYMMDD", creator_id, segment_type, segment_value,
     day, impressions, interactions, conversions, revenue_tokens}

Every write is a single-document atomic update (``$inc`` / ``$max`` / ``$min`` with upsert, and
``find_one_and_update`` to claim the one conversion an impression may have). Outcomes are
counted once per event (``store.rollups.apply_once``), so crash recovery may run the conversion
listener again: the performance documents skip an event they already counted, and the
impression remembers which event claimed its conversion.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pymongo import UpdateOne

from domain.discovery.impressions import (
    PERFORMANCE_KINDS,
    Impression,
    counting_day,
    performance_id,
)
from store.bulk import update_each
from store.database import Collections, Store, utc
from store.rollups import APPLIED_EVENTS, apply_once_write, pair_id

_COUNTERS = ("impressions", "interactions", "conversions", "revenue_tokens")
#: writes of one flush in flight at once (a real server overlaps their round trips)
WRITE_CONCURRENCY = 32


async def _overlapped(writes: Sequence[Callable[[], Awaitable[Any]]]) -> None:
    for start in range(0, len(writes), WRITE_CONCURRENCY):
        await asyncio.gather(*(write() for write in writes[start:start + WRITE_CONCURRENCY]))


@dataclass(frozen=True)
class StoredImpression:
    """The latest impression of a creator to a viewer, as stored."""

    viewer_id: str
    creator_id: str
    last_impressed_at: datetime
    labels: Mapping[str, str]
    impressions: int
    converted_impression: datetime | None


@dataclass(frozen=True)
class Outcome:
    """What one event following an impression adds to its creator's performance counters."""

    impression: StoredImpression
    event_id: str
    interactions: int
    conversions: int
    revenue_tokens: int


def _perf_keys(creator_id: str, labels: Mapping[str, str], day: str
               ) -> list[tuple[str, dict[str, Any]]]:
    return [(performance_id(creator_id, kind, labels[kind], day),
             {"creator_id": creator_id, "segment_type": kind, "segment_value": labels[kind],
              "day": day}) for kind in PERFORMANCE_KINDS]


def _utc_now() -> datetime:
    return datetime.now(UTC)


class ImpressionRepository:
    def __init__(self, store: Store, clock: Callable[[], datetime] = _utc_now) -> None:
        self._impressions = store.collection(Collections.IMPRESSIONS)
        self._performance = store.collection(Collections.SEGMENT_PERFORMANCE)
        #: when a write happens: its counts go to that UTC day (frozen days)
        self._clock = clock

    async def record(self, batch: Sequence[Impression]) -> None:
        """Write a batch: one upsert per pair, one ``$inc`` per performance document."""
        latest: dict[tuple[str, str], Impression] = {}
        per_pair: Counter[tuple[str, str]] = Counter()
        per_doc: Counter[str] = Counter()
        doc_fields: dict[str, dict[str, Any]] = {}
        day = counting_day(self._clock())
        for imp in batch:
            key = (imp.viewer_id, imp.creator_id)
            per_pair[key] += 1
            if key not in latest or latest[key].at <= imp.at:
                latest[key] = imp
            for doc_id, fields in _perf_keys(imp.creator_id, imp.labels, day):
                per_doc[doc_id] += 1
                doc_fields[doc_id] = fields
        def pair_write(imp: Impression, n: int) -> Callable[[], Awaitable[Any]]:
            return lambda: self._impressions.update_one(
                {"_id": pair_id(imp.viewer_id, imp.creator_id)},
                {"$set": {"viewer_id": imp.viewer_id, "creator_id": imp.creator_id,
                          "labels": dict(imp.labels), "context": imp.context},
                 "$max": {"last_impressed_at": imp.at},
                 "$min": {"first_impressed_at": imp.at},
                 "$inc": {"impressions": n}},
                upsert=True)

        def doc_write(doc_id: str, n: int) -> Callable[[], Awaitable[Any]]:
            return lambda: self._inc_performance(doc_id, doc_fields[doc_id], {"impressions": n})

        await _overlapped([pair_write(imp, per_pair[key]) for key, imp in latest.items()]
                          + [doc_write(doc_id, n) for doc_id, n in per_doc.items()])

    async def _inc_performance(self, doc_id: str, fields: Mapping[str, Any],
                               inc: Mapping[str, int]) -> None:
        zeros = {c: 0 for c in _COUNTERS if c not in inc}
        await self._performance.update_one(
            {"_id": doc_id, "creator_id": fields["creator_id"]},
            {"$inc": dict(inc), "$setOnInsert": {**fields, **zeros}}, upsert=True)

    async def latest_many(self, pairs: Sequence[tuple[str, str]]
                          ) -> dict[tuple[str, str], StoredImpression]:
        """The stored impressions of ``pairs`` (pairs never shown left out), in one read."""
        if not pairs:
            return {}
        found: dict[tuple[str, str], StoredImpression] = {}
        async for d in self._impressions.find(
                {"_id": {"$in": sorted({pair_id(v, c) for v, c in pairs})}}):
            at = utc(d["last_impressed_at"])
            assert at is not None
            viewer_id, creator_id = d["viewer_id"], d["creator_id"]
            found[(viewer_id, creator_id)] = StoredImpression(
                viewer_id=viewer_id, creator_id=creator_id, last_impressed_at=at,
                labels=d.get("labels") or {}, impressions=int(d.get("impressions", 0)),
                converted_impression=utc(d.get("converted_impression")))
        return found

    async def latest(self, viewer_id: str, creator_id: str) -> StoredImpression | None:
        return (await self.latest_many([(viewer_id, creator_id)])).get((viewer_id, creator_id))

    async def claim_conversions(self, claims: Sequence[tuple[StoredImpression, datetime, str]]
                                ) -> set[str]:
        """Mark impressions converted, each by (impression, at, event id); returns the events
        whose claim holds: the first claim of an impression — or the event that made it,
        claiming again (recovery re-running the listener). Two round trips: the claims, then
        who holds each (a claim that lost leaves the winner's event id in place)."""
        if not claims:
            return set()
        await update_each(self._impressions, [(
            {"_id": pair_id(imp.viewer_id, imp.creator_id),
             "last_impressed_at": imp.last_impressed_at,
             "$or": [{"converted_impression": {"$ne": imp.last_impressed_at}},
                     {"converted_by": event_id}]},
            {"$set": {"converted_impression": imp.last_impressed_at, "converted_at": at,
                      "converted_by": event_id}}) for imp, at, event_id in claims], upsert=False)
        holders = {d["_id"]: d.get("converted_by") async for d in self._impressions.find(
            {"_id": {"$in": sorted({pair_id(i.viewer_id, i.creator_id) for i, _, _ in claims})}},
            {"converted_by": 1})}
        return {event_id for imp, _, event_id in claims
                if holders.get(pair_id(imp.viewer_id, imp.creator_id)) == event_id}

    async def erase_viewer(self, viewer_id: str) -> None:
        """Remove what was recorded of a viewer being shown creators (the per-day performance
        counts are not theirs: they count impressions, never name a viewer)."""
        await self._impressions.delete_many({"viewer_id": viewer_id})

    async def claim_paid(self, claims: Sequence[tuple[StoredImpression, str]]) -> int:
        """Mark impressions as followed by a paid interaction within the KPI window, each by
        (impression, event id); how many marks are new (one round trip). An impression takes
        one mark (a later impression takes its own), and a rerun of the same events finds the
        marks and adds none, so ``audience_discovery_conversions_total`` counts each once."""
        if not claims:
            return 0
        result = await self._impressions.bulk_write([UpdateOne(
            {"_id": pair_id(imp.viewer_id, imp.creator_id),
             "last_impressed_at": imp.last_impressed_at,
             "paid_impression": {"$ne": imp.last_impressed_at}},
            {"$set": {"paid_impression": imp.last_impressed_at, "paid_by": event_id}})
            for imp, event_id in claims], ordered=False)
        return int(result.modified_count)

    async def claim_conversion(self, imp: StoredImpression, at: datetime, event_id: str
                               ) -> bool:
        return event_id in await self.claim_conversions([(imp, at, event_id)])

    async def add_outcomes(self, outcomes: Sequence[Outcome]) -> None:
        """Count each event's outcome on the documents of its impression's labels, on the day
        of writing, at most once each (see the module doc); one round trip for the batch."""
        day = counting_day(self._clock())
        writes = []
        for o in outcomes:
            inc = {k: v for k, v in (("interactions", o.interactions),
                                     ("conversions", o.conversions),
                                     ("revenue_tokens", o.revenue_tokens)) if v}
            if not inc:
                continue
            zeros = {c: 0 for c in _COUNTERS if c not in inc}
            for doc_id, fields in _perf_keys(o.impression.creator_id, o.impression.labels, day):
                writes.append(apply_once_write(
                    doc_id, o.event_id, {"$inc": inc, "$setOnInsert": {**fields, **zeros}},
                    {"creator_id": o.impression.creator_id}))
        if writes:
            await update_each(self._performance, writes)

    async def add_outcome(self, imp: StoredImpression, *, event_id: str, interactions: int,
                          conversions: int, revenue_tokens: int) -> None:
        await self.add_outcomes([Outcome(imp, event_id, interactions, conversions,
                                         revenue_tokens)])

    async def performance(self, creator_ids: Iterable[str]) -> list[dict[str, Any]]:
        """Performance documents of some creators, ordered by id."""
        cursor = self._performance.find({"creator_id": {"$in": list(creator_ids)}},
                                        {APPLIED_EVENTS: 0}).sort("_id", 1)
        return [d async for d in cursor]
