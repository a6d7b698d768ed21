"""``creator_index``: one card per creator, read in small popularity-ordered pools.

Pools are the candidate generator's only reads: the top creators of one pool cell, one
region, one dominant audience segment, or of everyone, each an index range scan
((cell|region|segment, popularity) and (popularity)) with a small limit — never a scan of all
creators. Mongomock has no geo queries (and no indexes), but plain equality on the cell fields
is what a real server answers from the index anyway.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from pymongo import ReturnDocument

from domain.discovery.cards import AudienceProfile, CreatorCard
from domain.locations import Cell
from store.bulk import update_each
from store.database import PAGE_SIZE, Collections, Store, pages

#: the card fields a pool can be keyed by ("all" is every creator)
POOL_FIELDS = ("cell", "region", "segment", "all")
_ORDER = [("popularity", -1), ("_id", 1)]


def card_to_doc(card: CreatorCard) -> dict[str, Any]:
    audience = card.audience
    return {
        "popularity": card.popularity,
        "location": {"cell": card.location.index} if card.location else None,
        "interests": list(card.interests), "cell": card.cell, "region": card.region,
        "segment": card.segment,
        "dominant": dict(audience.dominant) if audience else None,
        "shares": {k: dict(v) for k, v in audience.shares.items()} if audience else None,
        "updated_at": datetime.now(UTC),
    }


def card_from_doc(d: Mapping[str, Any]) -> CreatorCard:
    loc = d.get("location")
    audience = (AudienceProfile(shares=d.get("shares") or {}, dominant=d["dominant"])
                if d.get("dominant") else None)
    return CreatorCard(
        creator_id=d["_id"], popularity=int(d.get("popularity", 0)),
        location=Cell(loc["cell"]) if isinstance(loc, dict) and loc.get("cell") else None,
        interests=tuple(d.get("interests") or ()), audience=audience, cell=d.get("cell"),
        region=d.get("region"))


class CreatorIndexRepository:
    def __init__(self, store: Store) -> None:
        self._cards = store.collection(Collections.CREATOR_INDEX)
        self._segments = store.collection(Collections.SEGMENTS)
        self._aggregates = store.collection(Collections.CREATOR_AGGREGATES)

    async def upsert(self, card: CreatorCard) -> CreatorCard | None:
        """Store ``card`` (one atomic write); the card it replaced, if any."""
        before = await self._cards.find_one_and_update(
            {"_id": card.creator_id}, {"$set": card_to_doc(card)}, upsert=True,
            return_document=ReturnDocument.BEFORE)
        return card_from_doc(before) if before else None

    async def upsert_many(self, cards: Sequence[CreatorCard]) -> list[CreatorCard | None]:
        """Store ``cards`` (one write each, in one round trip); the cards they replaced, read
        just before (what the process's cached pools must drop them from)."""
        if not cards:
            return []
        before = await self.get_many([c.creator_id for c in cards])
        await update_each(self._cards, [({"_id": c.creator_id}, {"$set": card_to_doc(c)})
                                        for c in cards])
        return before

    async def existing(self, creator_ids: Sequence[str]) -> set[str]:
        """Which of ``creator_ids`` have a card (one read)."""
        if not creator_ids:
            return set()
        return {d["_id"] async for d in self._cards.find(
            {"_id": {"$in": sorted(set(creator_ids))}}, {"_id": 1})}

    async def get_many(self, creator_ids: Sequence[str]) -> list[CreatorCard | None]:
        """Cards in key order, ``None`` for a creator not indexed."""
        if not creator_ids:
            return []
        found = {d["_id"]: card_from_doc(d)
                 async for d in self._cards.find({"_id": {"$in": list(set(creator_ids))}})}
        return [found.get(c) for c in creator_ids]

    async def exists(self, creator_id: str) -> bool:
        return await self._cards.find_one({"_id": creator_id}, {"_id": 1}) is not None

    async def pool(self, field: str, value: str, limit: int) -> list[CreatorCard]:
        """The ``limit`` most popular *released* creators whose ``field`` is ``value`` ("all":
        everyone). A card's popularity comes from its published release only, so a creator
        with none (popularity 0) is in no pool: their first fans would show them to strangers
        before any release (contract §7). The range on the sort field keeps it one index scan."""
        if field not in POOL_FIELDS:
            raise ValueError(f"no pool is kept by {field!r}")
        query: dict[str, Any] = {"popularity": {"$gt": 0}}
        if field != "all":
            query[field] = value
        cursor = self._cards.find(query).sort(_ORDER).limit(limit)
        return [card_from_doc(d) async for d in cursor]

    async def recent_creators_of(self, viewer_id: str, limit: int) -> list[str]:
        """Creators the viewer has segments with, most recently updated first (bounded)."""
        cursor = self._segments.find({"viewer_id": viewer_id}, {"creator_id": 1}).sort(
            "last_updated", -1).limit(limit)
        return [d["creator_id"] async for d in cursor]

    async def indexed_creators(self, batch_size: int = PAGE_SIZE) -> AsyncIterator[list[str]]:
        """Every creator that has a segment (so belongs in the index), in batches: the
        creators with an aggregate (every segment counts in one), paged by id — never a
        ``distinct``, whose answer is one document capped at 16 MB."""
        async for page in pages(self._aggregates, {}, {"creator_id": 1}, batch_size):
            # a creator's counters are several parts, next to each other in _id order
            yield list(dict.fromkeys(d["creator_id"] for d in page))

    async def count(self) -> int:
        return int(await self._cards.count_documents({}))

    async def snapshot(self) -> list[dict[str, Any]]:
        """Every card without its write time (to compare incremental and rebuilt state)."""
        return [{k: v for k, v in d.items() if k != "updated_at"}
                async for d in self._cards.find({}).sort("_id", 1)]

    async def clear(self) -> None:
        await self._cards.delete_many({})
