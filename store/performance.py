"""``segment_performance``: read side of the per-day segment counters discovery writes.

The writer (``store.impressions``) ``$inc``-upserts ``{_id: "<creator>|<type>|<value>|<YYYYMMDD>",
creator_id, segment_type: "budget"|"intent"|"proximity", segment_value, day, impressions,
interactions, conversions, revenue_tokens}``. A window is one query on (creator_id,
segment_type, day) — an index range scan on MongoDB (see ``store.shards.SHARDS``) reading at
most values × days documents, whatever the audience size or the history's length.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from domain.discovery.impressions import PerformanceDay
from domain.discovery.impressions import performance_id as _performance_id
from domain.insights.performance import PerformanceTotals
from domain.rollups import day_key
from store.bulk import insert_new
from store.database import Collections, Store


def performance_id(creator_id: str, segment_type: str, segment_value: str, day: date) -> str:
    """The document id of one creator, segment value and UTC day (the writer's format)."""
    return _performance_id(creator_id, segment_type, segment_value, _day(day))


def _day(value: date) -> str:
    return day_key(datetime(value.year, value.month, value.day))


class PerformanceRepository:
    def __init__(self, store: Store) -> None:
        self._performance = store.collection(Collections.SEGMENT_PERFORMANCE)

    async def put_days(self, days: Sequence[PerformanceDay]) -> int:
        """Write whole ended days (the demo world's past) where none is stored; how many
        were written. Live counts are ``$inc``-ed by store/impressions.py on the day they
        happen, and a stored day is never replaced."""
        return await insert_new(self._performance, [
            {"_id": d.id, "creator_id": d.creator_id, "segment_type": d.segment_type,
             "segment_value": d.segment_value, "day": d.day, "impressions": d.impressions,
             "interactions": d.interactions, "conversions": d.conversions,
             "revenue_tokens": d.revenue_tokens} for d in days])

    async def totals(self, creator_id: str, segment_type: str, values: Sequence[str],
                     days: Sequence[date]) -> dict[str, PerformanceTotals]:
        """Sums over ``days`` (consecutive) for each of ``values`` (zeros where none)."""
        out = {v: PerformanceTotals() for v in values}
        if not days:
            return out
        # Equality fields first: the embedded store tests filters in order, so other creators'
        # documents are rejected on the first comparison.
        query = {"creator_id": creator_id, "segment_type": segment_type,
                 "day": {"$gte": _day(min(days)), "$lte": _day(max(days))}}
        async for d in self._performance.find(query):
            value = d.get("segment_value")
            if value in out:
                out[value] = out[value] + PerformanceTotals(
                    int(d.get("impressions", 0)), int(d.get("interactions", 0)),
                    int(d.get("conversions", 0)), int(d.get("revenue_tokens", 0)))
        return out
