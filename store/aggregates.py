"""``creator_aggregates``: one counter document per creator, moved by segment transitions."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from domain.insights.aggregates import BREAKDOWN_KINDS, CreatorAggregate
from domain.insights.releases import add, nested
from store.bulk import update_each
from store.database import Collections, Store, pages


def _ints(value: Any) -> dict[str, int]:
    return {k: int(v) for k, v in (value or {}).items()}


def aggregate_from_cells(creator_id: str, cells: Mapping[str, int]) -> CreatorAggregate:
    """An aggregate from its flat cells (``budget.HIGH``, …), as a release holds them."""
    return aggregate_from_doc({"_id": creator_id, **nested(cells)})


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


@dataclass(frozen=True)
class AggregateMove:
    """One change's move of a creator's counters (applied once by ``change_id``)."""

    creator_id: str
    delta: Mapping[str, int]
    change_id: str
    at: datetime | None
    #: never delivered before: its move may be merged with others of the same creator
    fresh: bool = False


def _by_creator(changes: Sequence[tuple[str, str]]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for creator, change_id in changes:
        if change_id:
            grouped.setdefault(creator, []).append(change_id)
    return grouped


def merge_fresh(moves: Sequence[Any]) -> list[tuple[str, list[Any]]]:
    """Moves grouped into writes: the fresh moves of one creator together (one write per
    creator per batch, so a creator with a huge audience takes one write per batch, not one
    per change; safe because no one can have applied a change nobody delivered before), every
    redelivered move on its own (its id alone decides whether it still applies)."""
    writes: list[tuple[str, list[Any]]] = []
    together: dict[str, list[Any]] = {}
    for move in moves:
        if not move.delta:
            continue
        if move.fresh:
            together.setdefault(move.creator_id, []).append(move)
        else:
            writes.append((move.creator_id, [move]))
    return [*together.items(), *writes]


#: field holding the ids of changes applied but not yet confirmed (see ``apply``)
APPLIED = "applied"


class AggregateRepository:
    def __init__(self, store: Store) -> None:
        self._aggregates = store.collection(Collections.CREATOR_AGGREGATES)

    async def apply(self, creator_id: str, delta: Mapping[str, int],
                    change_id: str | None = None, at: datetime | None = None) -> None:
        """Move a creator's counters by ``delta`` (one atomic ``$inc``); see :meth:`apply_many`."""
        if not delta:
            return
        if change_id is None:
            await self._aggregates.update_one({"_id": creator_id}, {"$inc": dict(delta)},
                                              upsert=True)
            return
        await self.apply_many([AggregateMove(creator_id, delta, change_id, at)])

    async def apply_many(self, moves: Sequence[AggregateMove]) -> None:
        """Move creators' counters, one atomic ``$inc`` per change, all in one round trip.

        Each move happens at most once: the same update marks its change id as applied, and a
        redelivered change finds the mark and moves nothing. ``forget_many`` drops the marks
        once the changes are confirmed, so marks never accumulate."""
        await update_each(self._aggregates, [
            ({"_id": creator, **{f"{APPLIED}.{m.change_id}": {"$exists": False} for m in group}},
             # a group whose moves cancel out still takes its marks ($inc may not be empty)
             {"$inc": add({}, *(m.delta for m in group)) or {"total": 0},
              "$set": {f"{APPLIED}.{m.change_id}": m.at for m in group}})
            for creator, group in merge_fresh(moves)])

    async def forget(self, creator_id: str, change_id: str) -> None:
        """Drop the applied-mark of a confirmed change."""
        await self.forget_many([(creator_id, change_id)])

    async def forget_many(self, changes: Sequence[tuple[str, str]]) -> None:
        """Drop the applied-marks of confirmed changes ((creator, change id) ...): one write
        per creator, in one round trip."""
        await update_each(self._aggregates, [
            ({"_id": creator}, {"$unset": {f"{APPLIED}.{c}": "" for c in ids}})
            for creator, ids in _by_creator(changes).items()], upsert=False)

    async def forget_stale(self, before: datetime) -> int:
        """Drop marks left by writers that died between applying and confirming (daily)."""
        dropped = 0
        async for page in pages(self._aggregates, {APPLIED: {"$exists": True, "$ne": {}}},
                                {APPLIED: 1}):
            for d in page:
                stale = [k for k, at in (d.get(APPLIED) or {}).items()
                         if at is None or at < before]
                if stale:
                    await self._aggregates.update_one(
                        {"_id": d["_id"]}, {"$unset": {f"{APPLIED}.{k}": "" for k in stale}})
                    dropped += len(stale)
        return dropped

    async def get_many(self, creator_ids: Sequence[str]) -> list[CreatorAggregate | None]:
        """Aggregates in key order, ``None`` for a creator with no audience yet."""
        found = {d["_id"]: aggregate_from_doc(d) async for d in
                 self._aggregates.find({"_id": {"$in": list(set(creator_ids))}})}
        return [found.get(c) for c in creator_ids]

    async def get(self, creator_id: str) -> CreatorAggregate:
        [found] = await self.get_many([creator_id])
        return found or CreatorAggregate(creator_id=creator_id)

    async def snapshot(self) -> list[dict[str, Any]]:
        """Every aggregate with zero cells dropped, and creators whose counters are all zero
        left out (a rebuild never creates those), to compare two states."""
        def strip(value: Any) -> Any:
            if isinstance(value, dict):
                return {k: strip(v) for k, v in value.items() if strip(v) not in (0, {})}
            return value
        stripped = [strip(d) async for d in
                    self._aggregates.find({}, {APPLIED: 0}).sort("_id", 1)]
        return [d for d in stripped if set(d) != {"_id"}]

    async def count(self) -> int:
        return int(await self._aggregates.count_documents({}))

    async def creator_ids(self) -> list[str]:
        """Every creator with an aggregate document (start-up and rebuild only)."""
        return sorted(await self._aggregates.distinct("_id"))

    async def clear(self) -> None:
        await self._aggregates.delete_many({})
