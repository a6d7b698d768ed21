"""``creator_aggregates``: a creator's live counters, moved by segment transitions, spread over
``AGGREGATE_PARTS`` documents (sharded counters).

A viewer's moves always land in the same part (``part_of``: a stable hash of the viewer id), so
a creator with a million fans spreads its writes over the parts instead of making one document
the hottest write in the cluster; the live aggregate is the sum of the parts, read as one key
range (``{creator_id, part}`` is the shard key). Nothing on the request path reads it: creators
and discovery read releases, which are cut from held changes (``store/releases.py``); the
live sum is what rebuilds and first releases compare against::

    {_id: "<creator>|<part>", creator_id, part, total, budget: {HIGH: n, ...}, ...,
     applied: {<change id>: at}}
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from domain.insights.aggregates import BREAKDOWN_KINDS, CreatorAggregate
from domain.insights.releases import add, flat, nested
from store.bulk import update_each
from store.database import Collections, Store, pages

#: documents a creator's counters are spread over: the hottest takes about 1/16 of a hot
#: creator's aggregate writes (each is still one atomic ``$inc``)
AGGREGATE_PARTS = 16
#: fields of a part that are not counters
_NOT_COUNTERS = frozenset({"_id", "creator_id", "part", "applied"})


def part_of(viewer_id: str) -> int:
    """The part a viewer's moves land in (stable across processes, unlike ``hash``)."""
    return int.from_bytes(hashlib.blake2b(viewer_id.encode(), digest_size=2).digest()) % (
        AGGREGATE_PARTS)


def part_id(creator_id: str, part: int) -> str:
    return f"{creator_id}|{part:02d}"


def _part_key(creator_id: str, part: int) -> dict[str, Any]:
    """The filter naming one part document: its _id and its whole shard key (upserts need
    it)."""
    return {"_id": part_id(creator_id, part), "creator_id": creator_id, "part": part}


def counters_of(part: Mapping[str, Any]) -> dict[str, int]:
    """A part's counters as flat cells (zeros dropped)."""
    return flat({k: v for k, v in part.items() if k not in _NOT_COUNTERS})


def merged(parts: Iterable[Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """Creator → its parts summed, as one nested aggregate document (``_id``: the creator)."""
    cells: dict[str, dict[str, int]] = {}
    for p in parts:
        cells[p["creator_id"]] = add(cells.get(p["creator_id"], {}), counters_of(p))
    return {c: {"_id": c, **nested(v)} for c, v in cells.items()}


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
    #: whose change it is: decides the part it lands in
    viewer_id: str = ""

    @property
    def part(self) -> str:
        return part_id(self.creator_id, part_of(self.viewer_id))


def merge_fresh(moves: Sequence[Any]) -> list[tuple[str, list[Any]]]:
    """Moves grouped into writes by ``move.part``: the fresh moves of one document together
    (one write per document per batch; safe because no one can have applied a change nobody
    delivered before), every redelivered move on its own (its id alone decides whether it
    still applies)."""
    writes: list[tuple[str, list[Any]]] = []
    together: dict[str, list[Any]] = {}
    for move in moves:
        if not move.delta:
            continue
        if move.fresh:
            together.setdefault(move.part, []).append(move)
        else:
            writes.append((move.part, [move]))
    return [*together.items(), *writes]


#: field holding the ids of changes applied but not yet confirmed (see ``apply``)
APPLIED = "applied"


class AggregateRepository:
    def __init__(self, store: Store) -> None:
        self._aggregates = store.collection(Collections.CREATOR_AGGREGATES)

    async def apply(self, creator_id: str, delta: Mapping[str, int],
                    change_id: str | None = None, at: datetime | None = None,
                    viewer_id: str = "") -> None:
        """Move a creator's counters by ``delta`` (one atomic ``$inc``); see :meth:`apply_many`."""
        if not delta:
            return
        if change_id is None:
            await self._aggregates.update_one(_part_key(creator_id, part_of(viewer_id)),
                                              {"$inc": dict(delta)}, upsert=True)
            return
        await self.apply_many([AggregateMove(creator_id, delta, change_id, at,
                                             viewer_id=viewer_id)])

    async def apply_many(self, moves: Sequence[AggregateMove]) -> None:
        """Move creators' counters, one atomic ``$inc`` per change (or per part for a batch's
        fresh changes), all in one round trip.

        Each move happens at most once: the same update marks its change id as applied, and a
        redelivered change finds the mark and moves nothing. ``forget_many`` drops the marks
        once the changes are confirmed, so marks never accumulate."""
        writes = []
        for _, group in merge_fresh(moves):
            first = group[0]
            writes.append((
                {**_part_key(first.creator_id, part_of(first.viewer_id)),
                 **{f"{APPLIED}.{m.change_id}": {"$exists": False} for m in group}},
                # a group whose moves cancel out still takes its marks ($inc may not be empty)
                {"$inc": add({}, *(m.delta for m in group)) or {"total": 0},
                 "$set": {f"{APPLIED}.{m.change_id}": m.at for m in group}}))
        await update_each(self._aggregates, writes)

    async def forget(self, creator_id: str, change_id: str, viewer_id: str = "") -> None:
        """Drop the applied-mark of a confirmed change."""
        await self.forget_many([(creator_id, viewer_id, change_id)])

    async def forget_many(self, changes: Sequence[tuple[str, str, str]]) -> None:
        """Drop the applied-marks of confirmed changes ((creator, viewer, change id) ...): one
        write per part, in one round trip."""
        grouped: dict[tuple[str, int], list[str]] = {}
        for creator, viewer, change_id in changes:
            if change_id:
                grouped.setdefault((creator, part_of(viewer)), []).append(change_id)
        await update_each(self._aggregates, [
            (_part_key(creator, part), {"$unset": {f"{APPLIED}.{c}": "" for c in ids}})
            for (creator, part), ids in grouped.items()], upsert=False)

    async def forget_stale(self, before: datetime) -> int:
        """Drop marks left by writers that died between applying and confirming (daily)."""
        dropped = 0
        async for page in pages(self._aggregates, {APPLIED: {"$exists": True, "$ne": {}}},
                                {APPLIED: 1, "creator_id": 1, "part": 1}):
            for d in page:
                stale = [k for k, at in (d.get(APPLIED) or {}).items()
                         if at is None or at < before]
                if stale:
                    await self._aggregates.update_one(
                        _part_key(d["creator_id"], d["part"]),
                        {"$unset": {f"{APPLIED}.{k}": "" for k in stale}})
                    dropped += len(stale)
        return dropped

    async def get_many(self, creator_ids: Sequence[str]) -> list[CreatorAggregate | None]:
        """Aggregates (each the sum of its parts: one key range) in key order, ``None`` for a
        creator with no audience yet."""
        found = merged([d async for d in self._aggregates.find(
            {"creator_id": {"$in": sorted(set(creator_ids))}}, {APPLIED: 0})])
        return [aggregate_from_doc(found[c]) if c in found else None for c in creator_ids]

    async def get(self, creator_id: str) -> CreatorAggregate:
        [found] = await self.get_many([creator_id])
        return found or CreatorAggregate(creator_id=creator_id)

    async def snapshot(self) -> list[dict[str, Any]]:
        """Every creator's summed aggregate with zero cells dropped, and creators whose counters
        are all zero left out (a rebuild never creates those), to compare two states."""
        found = merged([d async for d in self._aggregates.find({}, {APPLIED: 0})])
        return [found[c] for c in sorted(found) if set(found[c]) != {"_id"}]

    async def creator_pages(self) -> AsyncIterator[list[str]]:
        """Every creator with an aggregate, a page of parts at a time (``_id`` order keeps a
        creator's parts together; a creator split over two pages may be named twice)."""
        async for page in pages(self._aggregates, {}, {"creator_id": 1}):
            seen: dict[str, None] = {}
            for d in page:
                seen.setdefault(d["creator_id"])
            yield list(seen)

    async def count(self) -> int:
        """How many creators have an aggregate (start-up only)."""
        found = [d async for d in self._aggregates.aggregate(
            # sorted on the shard key's first field: one index key per creator (DISTINCT_SCAN)
            [{"$sort": {"creator_id": 1}}, {"$group": {"_id": "$creator_id"}},
             {"$count": "creators"}])]
        return int(found[0]["creators"]) if found else 0

    async def creator_ids(self) -> list[str]:
        """Every creator with an aggregate document (start-up and rebuild only)."""
        return sorted({c async for page in self.creator_pages() for c in page})

    async def clear(self) -> None:
        await self._aggregates.delete_many({})
