"""``aggregate_snapshots``: one document per creator per UTC day, of the *released* aggregate.

``{_id: "<creator>|<YYYYMMDD>", creator_id, day: "YYYYMMDD", total, paying, counts: {budget,
intent, proximity}, paying_counts: {...}, passion: {...}, revenue_tokens, taken_at}``. Growth
reads the newest snapshot on or shortly before a target day (one indexed query).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any

from pymongo import ReplaceOne

from domain.insights.aggregates import BREAKDOWN_KINDS, CreatorAggregate
from domain.rollups import day_key
from store.bulk import insert_new
from store.database import Collections, Store


def _day(value: date) -> str:
    return day_key(datetime(value.year, value.month, value.day))


def _ints(value: Any) -> dict[str, int]:
    return {k: int(v) for k, v in (value or {}).items()}


def snapshot_from_doc(d: Mapping[str, Any]) -> CreatorAggregate:
    counts, paying = d.get("counts") or {}, d.get("paying_counts") or {}
    return CreatorAggregate(
        creator_id=d["creator_id"], total=int(d.get("total", 0)),
        paying=int(d.get("paying", 0)), revenue_tokens=int(d.get("revenue_tokens", 0)),
        counts={k: _ints(counts.get(k)) for k in BREAKDOWN_KINDS},
        paying_counts={k: _ints(paying.get(k)) for k in BREAKDOWN_KINDS},
        passion=_ints(d.get("passion")))


#: snapshots written per round trip
WRITE_PAGE = 1_000


def _snapshot_write(aggregate: CreatorAggregate, day: date, taken_at: datetime
                    ) -> tuple[dict[str, Any], dict[str, Any]]:
    key = _day(day)
    # the whole shard key (creator_id, day) beside _id: an upsert must carry it
    return ({"_id": f"{aggregate.creator_id}|{key}", "creator_id": aggregate.creator_id,
             "day": key},
            {"creator_id": aggregate.creator_id, "day": key, "total": aggregate.total,
             "paying": aggregate.paying, "revenue_tokens": aggregate.revenue_tokens,
             "counts": {k: dict(aggregate.counts.get(k, {})) for k in BREAKDOWN_KINDS},
             "paying_counts": {k: dict(aggregate.paying_counts.get(k, {}))
                               for k in BREAKDOWN_KINDS},
             "passion": dict(aggregate.passion), "taken_at": taken_at})


class SnapshotRepository:
    def __init__(self, store: Store) -> None:
        self._snapshots = store.collection(Collections.AGGREGATE_SNAPSHOTS)

    async def put(self, aggregate: CreatorAggregate, day: date, taken_at: datetime) -> None:
        """Write (or overwrite: the job may rerun) the creator's snapshot for ``day``."""
        await self.put_many([(aggregate, day)], taken_at)

    async def put_many(self, snapshots: Sequence[tuple[CreatorAggregate, date]],
                       taken_at: datetime) -> None:
        """Write (or overwrite) several creators' or days' snapshots, ``WRITE_PAGE`` a round
        trip."""
        writes = [ReplaceOne(*_snapshot_write(aggregate, day, taken_at), upsert=True)
                  for aggregate, day in snapshots]
        for start in range(0, len(writes), WRITE_PAGE):
            await self._snapshots.bulk_write(writes[start:start + WRITE_PAGE], ordered=False)

    async def backfill(self, snapshots: Sequence[tuple[CreatorAggregate, date]],
                       taken_at: datetime) -> int:
        """Write past days' snapshots where none is stored (the demo world's past); how many
        were written."""
        return await insert_new(self._snapshots, [
            {**key, **doc} for key, doc in (_snapshot_write(aggregate, day, taken_at)
                                            for aggregate, day in snapshots)])

    async def nearest(self, creator_id: str, target: date, tolerance_days: int
                      ) -> tuple[date, CreatorAggregate] | None:
        """The newest snapshot taken for a day in [target − tolerance, target]."""
        cursor = self._snapshots.find(
            {"creator_id": creator_id,
             "day": {"$gte": _day(target - timedelta(days=tolerance_days)),
                     "$lte": _day(target)}}).sort("day", -1).limit(1)
        async for d in cursor:
            return datetime.strptime(d["day"], "%Y%m%d").date(), snapshot_from_doc(d)
        return None
