"""``creator_aggregates``: one counter document per creator, moved by segment transitions."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from domain.insights.aggregates import BREAKDOWN_KINDS, CreatorAggregate
from store.database import Collections, Store


def _ints(value: Any) -> dict[str, int]:
    return {k: int(v) for k, v in (value or {}).items()}


def aggregate_from_doc(d: Mapping[str, Any]) -> CreatorAggregate:
    return CreatorAggregate(
        creator_id=d["_id"], total=int(d.get("total", 0)), paying=int(d.get("paying", 0)),
        revenue_tokens=int(d.get("revenue_tokens", 0)),
        counts={k: _ints(d.get(k)) for k in BREAKDOWN_KINDS},
        revenue={k: _ints(d.get(f"{k}_revenue")) for k in BREAKDOWN_KINDS},
        paying_counts={k: _ints(d.get(f"{k}_paying")) for k in BREAKDOWN_KINDS},
        combos=_ints(d.get("combo")), combo_revenue=_ints(d.get("combo_revenue")),
        combo_paying=_ints(d.get("combo_paying")), passion=_ints(d.get("passion")),
    )


class AggregateRepository:
    def __init__(self, store: Store) -> None:
        self._aggregates = store.collection(Collections.CREATOR_AGGREGATES)

    async def apply(self, creator_id: str, delta: Mapping[str, int]) -> None:
        """Move a creator's counters by ``delta`` (one atomic ``$inc``)."""
        if delta:
            await self._aggregates.update_one({"_id": creator_id}, {"$inc": dict(delta)},
                                              upsert=True)

    async def get_many(self, creator_ids: Sequence[str]) -> list[CreatorAggregate | None]:
        """Aggregates in key order, ``None`` for a creator with no audience yet."""
        found = {d["_id"]: aggregate_from_doc(d) async for d in
                 self._aggregates.find({"_id": {"$in": list(set(creator_ids))}})}
        return [found.get(c) for c in creator_ids]

    async def get(self, creator_id: str) -> CreatorAggregate:
        [found] = await self.get_many([creator_id])
        return found or CreatorAggregate(creator_id=creator_id)

    async def snapshot(self) -> list[dict[str, Any]]:
        """Every aggregate document with zero cells dropped (to compare two states)."""
        def strip(value: Any) -> Any:
            if isinstance(value, dict):
                return {k: strip(v) for k, v in value.items() if strip(v) not in (0, {})}
            return value
        return [strip(d) async for d in self._aggregates.find({}).sort("_id", 1)]

    async def clear(self) -> None:
        await self._aggregates.delete_many({})
