"""``audience_segments``: one materialised segment per (viewer, creator) pair."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Any

from pymongo import ReturnDocument

from domain.segments.budget import BudgetResult, BudgetTier
from domain.segments.classify import AudienceSegment
from domain.segments.intent import Intent, IntentResult
from domain.segments.passion import PassionSignals
from domain.segments.proximity import Proximity, ProximityResult
from domain.segments.risk import RiskLevel
from store.database import Collections, Store, utc
from store.rollups import PairKey, pair_id


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
        proximity_detail=ProximityResult(proximity, d.get("distance_km")),
        revenue_tokens=int(d.get("revenue_tokens", 0)),
        spend_tokens=int(d.get("spend_tokens", 0)),
    )


class SegmentRepository:
    def __init__(self, store: Store) -> None:
        self._segments = store.collection(Collections.SEGMENTS)

    async def save(self, segment: AudienceSegment) -> AudienceSegment | None:
        """Store ``segment``; return the one it replaced (atomically), ``None`` if it is new.

        Because the swap is one atomic find-and-modify, the chain of (previous → new) pairs
        seen by concurrent writers is consistent: aggregates fed from it never double count.
        """
        before = await self._segments.find_one_and_update(
            {"_id": pair_id(segment.viewer_id, segment.creator_id)},
            {"$set": segment_to_doc(segment)}, upsert=True,
            return_document=ReturnDocument.BEFORE)
        return segment_from_doc(before) if before else None

    async def get_many(self, keys: Sequence[PairKey]) -> list[AudienceSegment | None]:
        ids = [pair_id(v, c) for v, c in keys]
        found = {d["_id"]: segment_from_doc(d)
                 async for d in self._segments.find({"_id": {"$in": list(set(ids))}})}
        return [found.get(i) for i in ids]

    async def page_for_viewer(self, viewer_id: str, after_creator: str | None, limit: int
                              ) -> list[AudienceSegment]:
        """Up to ``limit`` segments of a viewer, ordered by creator id, after a cursor."""
        query: dict[str, Any] = {"viewer_id": viewer_id}
        if after_creator is not None:
            query["creator_id"] = {"$gt": after_creator}
        cursor = self._segments.find(query).sort("creator_id", 1).limit(limit)
        return [segment_from_doc(d) async for d in cursor]

    async def count_for_viewer(self, viewer_id: str) -> int:
        return int(await self._segments.count_documents({"viewer_id": viewer_id}))

    async def all(self, batch_size: int = 1000) -> AsyncIterator[AudienceSegment]:
        async for d in self._segments.find({}).batch_size(batch_size):
            yield segment_from_doc(d)

    async def count(self) -> int:
        return int(await self._segments.count_documents({}))

    async def clear(self) -> None:
        await self._segments.delete_many({})
