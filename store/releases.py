"""``audience_releases``: per creator, the released aggregate and the changes held back.

One document per creator::

    {_id: creator_id, version, published: {<cells>}, pending: {<viewer key>: {<cells>}},
     carry: {<cells>}, released_at: {counts, revenue}, epoch: {counts, revenue},
     applied: {<change id>: at}}

``record`` adds one transition's delta under its viewer in a single atomic update that also
bumps ``version`` and marks the change id (a redelivered change finds the mark and moves
nothing). ``commit`` replaces published / pending / carry only if ``version`` is still the one
read (compare-and-swap), so a release can never drop a change recorded in between. The rules
(when to release, what moves) are ``domain.insights.releases``.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pymongo import ReturnDocument, UpdateOne
from pymongo.errors import DuplicateKeyError

from domain.insights.aggregates import CreatorAggregate
from domain.insights.dominance import Top, tops_from_doc, tops_to_doc
from domain.insights.releases import Cells, Family, ReleaseState, flat, nested
from store.aggregates import aggregate_from_cells, aggregate_from_doc, merge_fresh
from store.bulk import update_each
from store.database import Collections, Store, pages, utc

APPLIED = "applied"


def viewer_key(viewer_id: str) -> str:
    """A field-name-safe key for a viewer (ids may hold ``.``, which Mongo paths split on)."""
    return viewer_id.encode().hex()


@dataclass(frozen=True)
class StoredRelease:
    creator_id: str
    state: ReleaseState
    version: int
    released_at: Mapping[Family, datetime | None]
    #: the largest contributions per revenue cell at the last revenue release (dominance rule)
    tops: Mapping[str, Top] | None = None

    @property
    def aggregate(self) -> CreatorAggregate:
        """The released aggregate, as the live one is read."""
        return aggregate_from_cells(self.creator_id, self.state.published)


def release_from_doc(d: Mapping[str, Any]) -> StoredRelease:
    when = d.get("released_at") or {}
    return StoredRelease(
        creator_id=d["_id"],
        state=ReleaseState(published=flat(d.get("published") or {}),
                           pending={k: flat(v) for k, v in (d.get("pending") or {}).items()},
                           carry=flat(d.get("carry") or {})),
        version=int(d.get("version", 0)),
        released_at={f: utc(when.get(f.value)) for f in Family},
        tops=tops_from_doc(d.get("dominance")))


@dataclass(frozen=True)
class ReleaseCommit:
    """A release cut from the state read at ``version`` (stored only if still current)."""

    creator_id: str
    version: int
    state: ReleaseState
    families: tuple[Family, ...]
    tops: Mapping[str, Top] | None = None


@dataclass(frozen=True)
class HeldChange:
    """One transition's delta for a creator's release, held back under its viewer."""

    creator_id: str
    viewer_id: str
    delta: Cells
    change_id: str
    at: datetime
    #: never delivered before: held back together with the creator's other fresh changes
    fresh: bool = False


class ReleaseRepository:
    def __init__(self, store: Store) -> None:
        self._releases = store.collection(Collections.AUDIENCE_RELEASES)

    async def record(self, creator_id: str, viewer_id: str, delta: Cells, change_id: str,
                     at: datetime) -> StoredRelease | None:
        """Hold ``delta`` back under the viewer; ``None`` when this change was recorded before."""
        update: dict[str, Any] = {"$inc": {"version": 1, **{
            f"pending.{viewer_key(viewer_id)}.{cell}": n for cell, n in delta.items()}}}
        if not change_id:
            found = await self._releases.find_one_and_update(
                {"_id": creator_id}, update, upsert=True, return_document=ReturnDocument.AFTER)
            return release_from_doc(found)
        unseen = {"_id": creator_id, f"{APPLIED}.{change_id}": {"$exists": False}}
        update["$set"] = {f"{APPLIED}.{change_id}": at}
        try:
            found = await self._releases.find_one_and_update(
                unseen, update, upsert=True, return_document=ReturnDocument.AFTER)
        except DuplicateKeyError:
            # The mark is there (recorded before), or a concurrent first write created the
            # document; only the second case still needs recording.
            found = await self._releases.find_one_and_update(
                unseen, update, return_document=ReturnDocument.AFTER)
        return release_from_doc(found) if found else None

    async def record_many(self, changes: Sequence[HeldChange]) -> list[StoredRelease]:
        """Hold each change's delta back under its viewer (one atomic update per change, once
        by its id), all in one round trip; then the release documents of the creators touched,
        in one read, for the caller to settle."""
        if not changes:
            return []
        writes = []
        for creator, group in merge_fresh(changes):
            pending: dict[str, int] = {}
            for c in group:
                for cell, n in c.delta.items():
                    path = f"pending.{viewer_key(c.viewer_id)}.{cell}"
                    pending[path] = pending.get(path, 0) + n
            writes.append((
                {"_id": creator, **{f"{APPLIED}.{c.change_id}": {"$exists": False}
                                    for c in group}},
                {"$inc": {"version": 1, **pending},
                 "$set": {f"{APPLIED}.{c.change_id}": c.at for c in group}}))
        await update_each(self._releases, writes)
        creators = sorted({c.creator_id for c in changes})
        return [release_from_doc(d) async for d in self._releases.find(
            {"_id": {"$in": creators}}, {APPLIED: 0}).sort("_id", 1)]

    async def forget(self, creator_id: str, change_id: str) -> None:
        """Drop the mark of a confirmed change (it can no longer be redelivered)."""
        await self.forget_many([(creator_id, change_id)])

    async def forget_many(self, changes: Sequence[tuple[str, str]]) -> None:
        """Drop the marks of confirmed changes ((creator, change id) ...): one write per
        creator, in one round trip."""
        grouped: dict[str, list[str]] = {}
        for creator, change_id in changes:
            if change_id:
                grouped.setdefault(creator, []).append(change_id)
        await update_each(self._releases, [
            ({"_id": creator}, {"$unset": {f"{APPLIED}.{c}": "" for c in ids}})
            for creator, ids in grouped.items()], upsert=False)

    async def forget_stale(self, before: datetime) -> int:
        """Drop marks left by writers that died between recording and confirming."""
        dropped = 0
        async for page in pages(self._releases, {APPLIED: {"$exists": True, "$ne": {}}},
                                {APPLIED: 1}):
            for d in page:
                stale = [k for k, at in (d.get(APPLIED) or {}).items()
                         if (when := utc(at)) is None or when < before]
                if stale:
                    await self._releases.update_one(
                        {"_id": d["_id"]}, {"$unset": {f"{APPLIED}.{k}": "" for k in stale}})
                    dropped += len(stale)
        return dropped

    async def commit(self, creator_id: str, version: int, state: ReleaseState,
                     families: tuple[Family, ...], now: datetime,
                     tops: Mapping[str, Top] | None = None) -> bool:
        """Store ``state`` if nothing was recorded since ``version`` was read; ``tops`` with a
        revenue release (the dominance rule's input, kept until the next one)."""
        return creator_id in await self.commit_many(
            [ReleaseCommit(creator_id, version, state, families, tops)], now)

    async def commit_many(self, commits: Sequence[ReleaseCommit], now: datetime) -> set[str]:
        """:meth:`commit` for several creators in one round trip (two when some compare-and-
        swap lost: then one read says which landed); the creators whose state was stored."""
        if not commits:
            return set()
        token = uuid.uuid4().hex
        writes = []
        for c in commits:
            update: dict[str, Any] = {"$set": {
                "published": nested(c.state.published), "carry": nested(c.state.carry),
                "pending": {k: nested(v) for k, v in c.state.pending.items()},
                "commit": token, **{f"released_at.{f.value}": now for f in c.families}}}
            if c.tops is not None:
                update["$set"]["dominance"] = tops_to_doc(c.tops)
            if c.families:
                update["$inc"] = {f"epoch.{f.value}": 1 for f in c.families}
            writes.append(UpdateOne({"_id": c.creator_id, "version": c.version}, update))
        result = await self._releases.bulk_write(writes, ordered=False)
        creators = sorted({c.creator_id for c in commits})
        if result.matched_count == len(writes):
            return set(creators)
        return {d["_id"] async for d in self._releases.find(
            {"_id": {"$in": creators}, "commit": token}, {"_id": 1})}

    async def initialise(self, creator_id: str, published: Cells, now: datetime,
                         tops: Mapping[str, Top] | None = None) -> StoredRelease:
        """First release of an audience that predates release tracking (no-op if tracked)."""
        try:
            await self._releases.update_one(
                {"_id": creator_id},
                {"$setOnInsert": {"version": 0, "published": nested(published), "pending": {},
                                  "carry": {}, "released_at": {f.value: now for f in Family},
                                  "epoch": {f.value: 1 for f in Family},
                                  "dominance": tops_to_doc(tops or {})}},
                upsert=True)
        except DuplicateKeyError:
            pass  # created concurrently: theirs stands
        found = await self.get(creator_id)
        assert found is not None
        return found

    async def get(self, creator_id: str) -> StoredRelease | None:
        found = await self._releases.find_one({"_id": creator_id}, {APPLIED: 0})
        return release_from_doc(found) if found else None

    async def published(self, creator_ids: Sequence[str]) -> list[CreatorAggregate | None]:
        """The published aggregates in key order (one ``$in`` read of the published part
        only), ``None`` for a creator never released: what discovery may know of audiences."""
        if not creator_ids:
            return []
        found = {d["_id"]: aggregate_from_doc({"_id": d["_id"], **(d.get("published") or {})})
                 async for d in self._releases.find({"_id": {"$in": list(set(creator_ids))}},
                                                    {"published": 1})}
        return [found.get(c) for c in creator_ids]

    async def oldest_release(self) -> datetime | None:
        """When the oldest current release of counts was cut (None: no release yet): one
        index entry (``released_at.counts``), the refresh-age KPI."""
        found = await self._releases.find_one(
            {"released_at.counts": {"$type": "date"}}, {"released_at": 1},
            sort=[("released_at.counts", 1)])
        return utc((found.get("released_at") or {}).get("counts")) if found else None

    async def creator_ids(self) -> AsyncIterator[str]:
        """Every creator with a release, in id order, a page at a time."""
        async for page in pages(self._releases, {}, {"_id": 1}):
            for d in page:
                yield d["_id"]

    async def pending_of(self, pairs: Sequence[tuple[str, str]]
                         ) -> dict[tuple[str, str], dict[str, int]]:
        """The changes held back for some (creator, viewer) pairs (those with none left out),
        in one read of just those viewers' pending entries."""
        if not pairs:
            return {}
        viewers = {viewer_key(v): v for _, v in pairs}
        wanted = set(pairs)
        found: dict[tuple[str, str], dict[str, int]] = {}
        async for d in self._releases.find(
                {"_id": {"$in": sorted({c for c, _ in pairs})}},
                {f"pending.{key}": 1 for key in sorted(viewers)}):
            for key, cells in (d.get("pending") or {}).items():
                pair = (d["_id"], viewers.get(key, ""))
                if pair in wanted:
                    found[pair] = flat(cells)
        return found

    async def published_pages(self) -> AsyncIterator[list[tuple[str, Cells]]]:
        """Every creator's published cells, a page of releases at a time (``_id`` order):
        the daily snapshots and the platform release read them."""
        async for page in pages(self._releases, {}, {"published": 1}):
            yield [(d["_id"], flat(d.get("published") or {})) for d in page]

    async def all(self) -> list[StoredRelease]:
        """Every release document (tests and rebuild checks)."""
        return [release_from_doc(d) async for d in
                self._releases.find({}, {APPLIED: 0}).sort("_id", 1)]
