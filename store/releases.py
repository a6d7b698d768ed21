"""``audience_releases`` and ``held_changes``: per creator, the released aggregate, and the
changes held back until the next release.

The release document is written when a release is cut (or held changes are folded into it),
never once per change, so a creator with a huge audience does not make it the hottest write::

    audience_releases {_id: creator_id, version, published: {<cells>}, carry: {<cells>},
                       pending: {<viewer key>: {<cells>}}, consumed: [<held change id>],
                       released_at: {counts, revenue}, epoch: {counts, revenue}, dominance}
    held_changes      {_id: change id, creator_id, viewer_id, cells: {<cells>}, at,
                       cut: <version>?, confirmed: true?}

Each transition's delta is inserted as its own small held change (``insert_many``: a
redelivered change meets its own ``_id`` and moves nothing). A creator's state is its release
document plus its held changes not cut yet: pending = the document's ``pending`` (what earlier
releases left: fewer than ten viewers per unreleased family) plus each held change under its
viewer. A commit stores the next state only if ``version`` is still the one read
(compare-and-swap, one document) and names the held changes it folded in (``consumed``); they
are marked ``cut`` right after. A reader skips a held change named in ``consumed`` even before
its mark lands, and the next commit names it again, so a crash between the two writes never
counts a change twice. A held change is deleted once it is cut and confirmed (the segment
outbox confirms a change when every stage has taken it; until then it may be redelivered, and
its stored ``_id`` is what makes that a no-op). The rules (when to release, what moves) are
``domain.insights.releases``.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pymongo import DeleteMany, UpdateMany, UpdateOne
from pymongo.errors import BulkWriteError, DuplicateKeyError

from domain.insights.aggregates import CreatorAggregate
from domain.insights.dominance import Top, tops_from_doc, tops_to_doc
from domain.insights.releases import Cells, Family, ReleaseState, add, flat, nested
from store.aggregates import aggregate_from_cells, aggregate_from_doc
from store.bulk import duplicate_key_failures, insert_new, update_each
from store.database import Collections, Store, pages, utc

#: held changes read per creator for one settle: a release over part of them is still a
#: release of ≥ 10 viewers' changes, and the rest wait for the next one
HELD_READ = 2_000


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
    #: the held changes the next commit consumes: those folded into ``state.pending``, and
    #: any a crashed commit consumed but did not mark
    held: tuple[str, ...] = ()
    #: whether a release document is stored (``False``: only held changes so far)
    exists: bool = True

    @property
    def aggregate(self) -> CreatorAggregate:
        """The released aggregate, as the live one is read."""
        return aggregate_from_cells(self.creator_id, self.state.published)


def release_from_doc(d: Mapping[str, Any], held: Sequence[Mapping[str, Any]] = ()
                     ) -> StoredRelease:
    """The release document with its held changes folded in (those it consumed skipped);
    without ``held``, the document alone (what was published)."""
    when = d.get("released_at") or {}
    consumed = set(d.get("consumed") or ())
    pending: dict[str, Cells] = {k: flat(v) for k, v in (d.get("pending") or {}).items()}
    for h in held:
        if h["_id"] not in consumed:
            key = viewer_key(h["viewer_id"])
            pending[key] = add(pending.get(key, {}), flat(h.get("cells") or {}))
    return StoredRelease(
        creator_id=d["_id"],
        state=ReleaseState(published=flat(d.get("published") or {}), pending=pending,
                           carry=flat(d.get("carry") or {})),
        version=int(d.get("version", 0)),
        released_at={f: utc(when.get(f.value)) for f in Family},
        tops=tops_from_doc(d.get("dominance")),
        held=tuple(h["_id"] for h in held),
        exists="version" in d)


@dataclass(frozen=True)
class ReleaseCommit:
    """A release cut from the state read at ``version`` (stored only if still current)."""

    creator_id: str
    version: int
    state: ReleaseState
    families: tuple[Family, ...]
    tops: Mapping[str, Top] | None = None
    #: the held changes folded into ``state`` (``StoredRelease.held``)
    held: tuple[str, ...] = ()


@dataclass(frozen=True)
class HeldChange:
    """One transition's delta for a creator's release, held back under its viewer."""

    creator_id: str
    viewer_id: str
    delta: Cells
    change_id: str
    at: datetime


def _grouped(changes: Iterable[tuple[str, str]]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for creator, change_id in changes:
        if change_id:
            grouped.setdefault(creator, []).append(change_id)
    return grouped


class ReleaseRepository:
    def __init__(self, store: Store) -> None:
        self._releases = store.collection(Collections.AUDIENCE_RELEASES)
        self._held = store.collection(Collections.HELD_CHANGES)

    # --- holding changes back -----------------------------------------------------------------
    async def record(self, creator_id: str, viewer_id: str, delta: Cells, change_id: str,
                     at: datetime) -> StoredRelease | None:
        """Hold ``delta`` back under the viewer; ``None`` when this change was recorded before."""
        change_id = change_id or uuid.uuid4().hex
        if not await insert_new(self._held, [_held_doc(
                HeldChange(creator_id, viewer_id, delta, change_id, at))]):
            return None
        [stored] = await self.states([creator_id])
        return stored

    async def record_many(self, changes: Sequence[HeldChange]) -> list[StoredRelease]:
        """Hold each change back as its own document (once by its id), in one round trip; then
        the states of the creators touched, in two reads, for the caller to settle."""
        if not changes:
            return []
        await insert_new(self._held, [_held_doc(c) for c in changes if c.delta])
        stored = await self.states(sorted({c.creator_id for c in changes}))
        untracked = [s.creator_id for s in stored if not s.exists]
        if untracked:
            # a creator's first change ever: its (empty) release document, once, so the
            # creator is tracked from the start (daily snapshots, no first release from live)
            await update_each(self._releases, [({"_id": c}, {"$setOnInsert": _empty_release()})
                                               for c in untracked])
            stored = [dataclasses.replace(s, exists=True) for s in stored]
        return stored

    async def states(self, creator_ids: Sequence[str]) -> list[StoredRelease]:
        """The creators' states (release document + held changes), in ``creator_ids`` order:
        one ``$in`` read of each collection. A creator never released has version 0."""
        if not creator_ids:
            return []
        wanted = sorted(set(creator_ids))
        docs = {d["_id"]: d async for d in self._releases.find({"_id": {"$in": wanted}})}
        held = await _by_creator(self._held.find(
            {"creator_id": {"$in": wanted}, "cut": {"$exists": False}},
            {"creator_id": 1, "viewer_id": 1, "cells": 1}).sort(
                [("creator_id", 1), ("_id", 1)]).limit(HELD_READ * len(wanted)))
        return [release_from_doc(docs.get(c) or {"_id": c}, held.get(c, ())) for c in creator_ids]

    async def forget(self, creator_id: str, change_id: str) -> None:
        """The change is confirmed (it can no longer be redelivered): see :meth:`forget_many`."""
        await self.forget_many([(creator_id, change_id)])

    async def forget_many(self, changes: Sequence[tuple[str, str]]) -> None:
        """Confirmed changes ((creator, change id) ...): those already cut are deleted, the
        others marked confirmed (the cut that takes them deletes them), in one round trip."""
        grouped = _grouped(changes)
        if not grouped:
            return
        writes: list[Any] = []
        for creator, ids in grouped.items():
            mine = {"creator_id": creator, "_id": {"$in": ids}}
            writes += [DeleteMany({**mine, "cut": {"$exists": True}}),
                       UpdateMany(mine, {"$set": {"confirmed": True}})]
        await self._held.bulk_write(writes, ordered=True)

    async def forget_stale(self, before: datetime) -> int:
        """Delete held changes cut long ago whose confirmation never came (a writer died
        between the two, or confirmed while a cut was marking them): daily, paged."""
        dropped = 0
        async for page in pages(self._held, {"cut": {"$exists": True}, "at": {"$lt": before}},
                                {"_id": 1}):
            result = await self._held.delete_many({"_id": {"$in": [d["_id"] for d in page]}})
            dropped += int(result.deleted_count)
        return dropped

    # --- cutting releases ---------------------------------------------------------------------
    async def commit(self, creator_id: str, version: int, state: ReleaseState,
                     families: tuple[Family, ...], now: datetime,
                     tops: Mapping[str, Top] | None = None, held: tuple[str, ...] = ()) -> bool:
        """Store ``state`` if no other commit landed since ``version`` was read; ``tops`` with a
        revenue release (the dominance rule's input, kept until the next one)."""
        return creator_id in await self.commit_many(
            [ReleaseCommit(creator_id, version, state, families, tops, held)], now)

    async def commit_many(self, commits: Sequence[ReleaseCommit], now: datetime) -> set[str]:
        """:meth:`commit` for several creators in one round trip (two when some compare-and-
        swap lost: then one read says which landed), then one marking the held changes they
        consumed; the creators whose state was stored."""
        if not commits:
            return set()
        token = uuid.uuid4().hex
        writes = []
        for c in commits:
            update: dict[str, Any] = {
                "$set": {"published": nested(c.state.published), "carry": nested(c.state.carry),
                         "pending": {k: nested(v) for k, v in c.state.pending.items()},
                         "consumed": list(c.held), "commit": token,
                         **{f"released_at.{f.value}": now for f in c.families}},
                "$inc": {"version": 1, **{f"epoch.{f.value}": 1 for f in c.families}}}
            if c.tops is not None:
                update["$set"]["dominance"] = tops_to_doc(c.tops)
            # a first release creates the document; a lost race meets its _id (version moved)
            writes.append(UpdateOne({"_id": c.creator_id, "version": c.version}, update,
                                    upsert=c.version == 0))
        creators = sorted({c.creator_id for c in commits})
        try:
            result = await self._releases.bulk_write(writes, ordered=False)
            landed_all = result.matched_count + result.upserted_count == len(writes)
        except BulkWriteError as error:
            duplicate_key_failures(error)  # re-raises anything but a lost first release
            landed_all = False
        committed = set(creators) if landed_all else {d["_id"] async for d in self._releases.find(
            {"_id": {"$in": creators}, "commit": token}, {"_id": 1})}
        await self._mark_cut([c for c in commits if c.creator_id in committed])
        return committed

    async def _mark_cut(self, commits: Sequence[ReleaseCommit]) -> None:
        """Mark the consumed held changes cut, and delete those already confirmed."""
        writes: list[Any] = []
        for c in commits:
            if c.held:
                mine = {"creator_id": c.creator_id, "_id": {"$in": list(c.held)}}
                writes += [UpdateMany(mine, {"$set": {"cut": c.version + 1}}),
                           DeleteMany({**mine, "confirmed": True})]
        if writes:
            await self._held.bulk_write(writes, ordered=True)

    async def initialise(self, creator_id: str, published: Cells, now: datetime,
                         tops: Mapping[str, Top] | None = None) -> StoredRelease:
        """First release of an audience that predates release tracking (no-op if tracked)."""
        try:
            await self._releases.update_one(
                {"_id": creator_id},
                {"$setOnInsert": {**_empty_release(), "published": nested(published),
                                  "released_at": {f.value: now for f in Family},
                                  "epoch": {f.value: 1 for f in Family},
                                  "dominance": tops_to_doc(tops or {})}},
                upsert=True)
        except DuplicateKeyError:
            pass  # created concurrently: theirs stands
        found = await self.get(creator_id)
        assert found is not None
        return found

    # --- reading --------------------------------------------------------------------------------
    async def get(self, creator_id: str) -> StoredRelease | None:
        """The creator's whole state (release and held changes), ``None`` if neither exists."""
        [stored] = await self.states([creator_id])
        return stored if stored.exists or stored.held else None

    async def released(self, creator_id: str) -> StoredRelease | None:
        """What the creator reads: the release document alone (one read; pending left out)."""
        found = await self._releases.find_one({"_id": creator_id}, {"pending": 0, "consumed": 0})
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
        """The changes held back for some (creator, viewer) pairs (those with none left out):
        one read of just those viewers' pending entries, one of their held changes."""
        if not pairs:
            return {}
        viewers = {viewer_key(v): v for _, v in pairs}
        wanted = set(pairs)
        creators = sorted({c for c, _ in pairs})
        found: dict[tuple[str, str], dict[str, int]] = {}
        consumed: set[str] = set()
        async for d in self._releases.find(
                {"_id": {"$in": creators}},
                {"consumed": 1, **{f"pending.{key}": 1 for key in sorted(viewers)}}):
            consumed.update(d.get("consumed") or ())
            for key, cells in (d.get("pending") or {}).items():
                pair = (d["_id"], viewers.get(key, ""))
                if pair in wanted and (held := flat(cells)):
                    found[pair] = held
        async for h in self._held.find(
                {"creator_id": {"$in": creators},
                 "viewer_id": {"$in": sorted(set(viewers.values()))},
                 "cut": {"$exists": False}}, {"creator_id": 1, "viewer_id": 1, "cells": 1}):
            pair = (h["creator_id"], h["viewer_id"])
            if pair in wanted and h["_id"] not in consumed:
                found[pair] = add(found.get(pair, {}), flat(h.get("cells") or {}))
        return {pair: cells for pair, cells in found.items() if cells}

    async def published_pages(self) -> AsyncIterator[list[tuple[str, Cells]]]:
        """Every creator's published cells, a page of releases at a time (``_id`` order):
        the daily snapshots and the platform release read them."""
        async for page in pages(self._releases, {}, {"published": 1}):
            yield [(d["_id"], flat(d.get("published") or {})) for d in page]

    async def all(self) -> list[StoredRelease]:
        """Every creator's whole state, held changes included (tests and rebuild checks)."""
        docs = {d["_id"]: d async for d in self._releases.find({}).sort("_id", 1)}
        held = await _by_creator(self._held.find({"cut": {"$exists": False}}).sort(
            [("creator_id", 1), ("_id", 1)]))
        return [release_from_doc(docs.get(c) or {"_id": c}, held.get(c, ()))
                for c in sorted(set(docs) | set(held))]


async def _by_creator(held: AsyncIterator[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Held change documents grouped by creator, in the order read."""
    grouped: dict[str, list[dict[str, Any]]] = {}
    async for h in held:
        grouped.setdefault(h["creator_id"], []).append(h)
    return grouped


def _empty_release() -> dict[str, Any]:
    return {"version": 0, "published": {}, "pending": {}, "carry": {}, "consumed": []}


def _held_doc(change: HeldChange) -> dict[str, Any]:
    return {"_id": change.change_id or uuid.uuid4().hex, "creator_id": change.creator_id,
            "viewer_id": change.viewer_id, "cells": nested(change.delta), "at": change.at}
