"""Rollup repositories: apply an event's counter update atomically; read rollup state.

Counter updates are idempotent per event: each viewer and pair document keeps the ids of the
last ``APPLIED_EVENTS_WINDOW`` events it counted (``applied_events``), and the update's filter
excludes a document that already holds the id, in the same atomic write. Re-applying an event
(crash recovery, ``services/ingest.py``) is therefore exact as long as fewer than that many
later events have touched the same document in between; beyond it, it would count again. The
field is bookkeeping only: no domain conversion reads it and ``snapshot`` leaves it out.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from domain.locations import Cell
from domain.rollups import (
    DaySpend,
    InteractionKind,
    PairRollup,
    Profile,
    ProfileFact,
    RollupUpdate,
    ViewerRollup,
)
from store.bulk import update_each
from store.database import PAGE_SIZE, Collections, Store, pages, utc

PairKey = tuple[str, str]

#: how many of its most recent events a rollup document remembers: a re-applied event is
#: recognised (and not counted again) while it is among them. Recovery runs a minute after a
#: crash, so 64 covers any viewer or pair short of one taking over an event a second; each id
#: costs ~40 bytes per document, and the $slice keeps the array at this length.
APPLIED_EVENTS_WINDOW = 64
APPLIED_EVENTS = "applied_events"


def apply_once_write(doc_id: str, event_id: str, ops: dict[str, Any],
                     shard_key: Mapping[str, Any] | None = None
                     ) -> tuple[dict[str, Any], dict[str, Any]]:
    """The upsert of ``ops`` into ``doc_id`` unless that document already counted ``event_id``
    (among its last ``APPLIED_EVENTS_WINDOW``): the check and the move are one atomic write.
    ``shard_key``: the document's shard-key fields, which an upsert must carry."""
    unseen = {**(shard_key or {}), "_id": doc_id, APPLIED_EVENTS: {"$ne": event_id}}
    update = {**ops, "$push": {APPLIED_EVENTS: {"$each": [event_id],
                                                "$slice": -APPLIED_EVENTS_WINDOW}}}
    return unseen, update


async def apply_once(collection: Any, doc_id: str, event_id: str, ops: dict[str, Any],
                     shard_key: Mapping[str, Any] | None = None) -> None:
    """One :func:`apply_once_write`, on its own (a batch of one)."""
    await update_each(collection, [apply_once_write(doc_id, event_id, ops, shard_key)])


def _newer_fact_write(user_id: str, fact: ProfileFact) -> tuple[dict[str, Any], dict[str, Any]]:
    """Store ``fact`` unless the stored one is newer (same order key: the same fact). A
    duplicate key on the upsert means the stored fact is newer or a concurrent writer created
    the document; ``update_each`` settles both with a plain update (store/bulk.py)."""
    key_field = f"{fact.name}_key"
    newer = {"_id": user_id,
             "$or": [{key_field: {"$lt": fact.order_key}}, {key_field: {"$exists": False}}]}
    return newer, {"$set": {fact.name: fact.value, key_field: fact.order_key}}


Write = tuple[dict[str, Any], dict[str, Any]]


def _merged(writes: Sequence[Write]) -> list[Write]:
    """One write per document for :func:`apply_once_write` writes of first-time events: the
    ``$inc`` summed, ``$min`` / ``$max`` folded, without the "not counted yet" guard (right
    only when none can have been)."""
    by_doc: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {}
    for unseen, update in writes:
        doc = by_doc.get(unseen["_id"])
        if doc is None:
            by_doc[unseen["_id"]] = ({k: v for k, v in unseen.items() if k != APPLIED_EVENTS},
                                     {op: dict(v) for op, v in update.items()
                                      if op != "$push"})
            continue
        _, merged = doc
        for op, fields in update.items():
            if op == "$push":
                continue
            into = merged.setdefault(op, {})
            for name, value in fields.items():
                if op == "$inc":
                    into[name] = into.get(name, 0) + value
                elif op == "$min":
                    into[name] = min(into.get(name, value), value)
                elif op == "$max":
                    into[name] = max(into.get(name, value), value)
                else:  # $setOnInsert: the same for every event of the document
                    into.setdefault(name, value)
    # No applied-event marks: events applied first time by a rebuild or a loader are marked
    # applied in the ledger right after, so recovery never re-applies them.
    return list(by_doc.values())


def _newest_facts(writes: Sequence[Write]) -> list[Write]:
    """Of several facts of one name for one user, only the newest needs writing."""
    newest: dict[tuple[str, str], Write] = {}
    for newer, update in writes:
        [(field, _)] = [(k, v) for k, v in update["$set"].items() if k.endswith("_key")]
        key = (newer["_id"], field)
        kept = newest.get(key)
        if kept is None or kept[1]["$set"][field] < update["$set"][field]:
            newest[key] = (newer, update)
    return list(newest.values())


@dataclass(frozen=True)
class RollupItem:
    """One stored event's counter update and the documents it names."""

    update: RollupUpdate
    viewer_id: str | None
    creator_id: str | None
    user_id: str | None
    event_id: str


def pair_id(viewer_id: str, creator_id: str) -> str:
    """Document id of a (viewer, creator) pair; ids never contain ``|``."""
    return f"{viewer_id}|{creator_id}"


def pair_filter(keys: Sequence[PairKey]) -> dict[str, Any]:
    """The filter of some pair documents: their ids, and their viewers (the shard key's
    prefix, ``store/shards.py``), so the router asks only the shards holding those viewers."""
    return {"viewer_id": {"$in": sorted({v for v, _ in keys})},
            "_id": {"$in": sorted({pair_id(v, c) for v, c in keys})}}


def _interactions(doc: dict[str, Any]) -> dict[InteractionKind, int]:
    raw = doc.get("interactions") or {}
    return {InteractionKind(k): int(v) for k, v in raw.items() if k in InteractionKind.__members__}


def viewer_from_doc(doc: dict[str, Any]) -> ViewerRollup:
    days = {day: DaySpend(int(v.get("tokens", 0)), int(v.get("purchases", 0)))
            for day, v in (doc.get("spend_days") or {}).items()}
    return ViewerRollup(viewer_id=doc["_id"], spend_days=days, interactions=_interactions(doc),
                        spend_tokens=int(doc.get("spend_tokens", 0)),
                        purchases=int(doc.get("purchases", 0)))


def pair_from_doc(doc: dict[str, Any]) -> PairRollup:
    return PairRollup(
        viewer_id=doc["viewer_id"], creator_id=doc["creator_id"],
        events=int(doc.get("events", 0)),
        spend_tokens=int(doc.get("spend_tokens", 0)), purchases=int(doc.get("purchases", 0)),
        revenue_tokens=int(doc.get("revenue_tokens", 0)), interactions=_interactions(doc),
        chat_messages=int(doc.get("chat_messages", 0)),
        messages_sent=int(doc.get("messages_sent", 0)),
        message_chars=int(doc.get("message_chars", 0)),
        call_minutes=int(doc.get("call_ms", 0)) / 60_000,
        meetings_completed=int(doc.get("meetings_completed", 0)),
        events_attended=int(doc.get("events_attended", 0)),
        profile_views=int(doc.get("profile_views", 0)),
        dwell_seconds=int(doc.get("dwell_ms", 0)) / 1000, likes=int(doc.get("likes", 0)),
        visit_days={d: int(n) for d, n in (doc.get("visit_days") or {}).items()},
        first_seen_at=utc(doc.get("first_seen_at")), last_seen_at=utc(doc.get("last_seen_at")),
        last_interaction_at=utc(doc.get("last_interaction_at")),
        last_paid_at=utc(doc.get("last_paid_at")), last_visit_at=utc(doc.get("last_visit_at")),
    )


def profile_from_doc(doc: dict[str, Any]) -> Profile:
    loc = doc.get("location")
    cell = Cell(loc["cell"]) if isinstance(loc, dict) and loc.get("cell") else None
    return Profile(user_id=doc["_id"], location=cell, interests=tuple(doc.get("interests") or ()))


class RollupRepository:
    """Per-viewer, per-pair and per-profile rollups."""

    def __init__(self, store: Store) -> None:
        self._viewers = store.collection(Collections.VIEWER_ROLLUPS)
        self._pairs = store.collection(Collections.PAIR_ROLLUPS)
        self._profiles = store.collection(Collections.PROFILES)
        self._keys = store.collection(Collections.INTERACTION_KEYS)

    async def apply(self, update: RollupUpdate, viewer_id: str | None,
                    creator_id: str | None, user_id: str | None, *, event_id: str) -> None:
        """Apply one event's update: a batch of one (see :meth:`apply_many`)."""
        await self.apply_many([RollupItem(update, viewer_id, creator_id, user_id, event_id)])

    async def apply_many(self, items: Sequence[RollupItem], *, first_time: bool = False
                         ) -> None:
        """Apply a batch of events' updates: one round trip per collection touched (plus one
        to read the winners of "once per key" claims), whatever the number of events.

        Each document's move is still its own atomic single-document update, idempotent per
        event id (see the module doc), so applying the same events again, in whole or after a
        crash half-way, moves each document at most once per event. The counters an update
        holds "once per key" move only for the event that claims the key.

        ``first_time``: none of these events has touched any document yet, and nobody else
        applies them meanwhile (a rebuild or a loader, from empty rollups): the moves of one
        document are then merged into a single write, marked with all their ids."""
        winners = await self._claim_many([(i.update.once_key, i.event_id)
                                          for i in items if i.update.once_key])
        viewer_writes: list[tuple[dict[str, Any], dict[str, Any]]] = []
        pair_writes: list[tuple[dict[str, Any], dict[str, Any]]] = []
        profile_writes: list[tuple[dict[str, Any], dict[str, Any]]] = []
        for item in items:
            update, viewer_id, creator_id = item.update, item.viewer_id, item.creator_id
            viewer_inc, pair_inc = dict(update.viewer_inc), dict(update.pair_inc)
            if update.once_key and winners.get(update.once_key) == item.event_id:
                for name, delta in update.once_viewer_inc.items():
                    viewer_inc[name] = viewer_inc.get(name, 0) + delta
                for name, delta in update.once_pair_inc.items():
                    pair_inc[name] = pair_inc.get(name, 0) + delta
            if viewer_inc and viewer_id:
                viewer_writes.append(apply_once_write(viewer_id, item.event_id,
                                                      {"$inc": viewer_inc}))
            if pair_inc and viewer_id and creator_id:
                ops: dict[str, Any] = {
                    "$inc": pair_inc,
                    "$setOnInsert": {"viewer_id": viewer_id, "creator_id": creator_id},
                }
                if update.pair_min:
                    ops["$min"] = dict(update.pair_min)
                if update.pair_max:
                    ops["$max"] = dict(update.pair_max)
                pair_writes.append(apply_once_write(
                    pair_id(viewer_id, creator_id), item.event_id, ops,
                    {"viewer_id": viewer_id, "creator_id": creator_id}))
            if update.profile_fact and item.user_id:
                # already idempotent: a fact is only ever replaced by a newer one
                profile_writes.append(_newer_fact_write(item.user_id, update.profile_fact))
        if first_time:
            viewer_writes, pair_writes = _merged(viewer_writes), _merged(pair_writes)
            profile_writes = _newest_facts(profile_writes)
        for collection, writes in ((self._viewers, viewer_writes), (self._pairs, pair_writes),
                                   (self._profiles, profile_writes)):
            if writes:
                await update_each(collection, writes)

    async def _claim_many(self, claims: Sequence[tuple[str, str]]) -> dict[str, str]:
        """The event that counts for each key: the first event to claim a key keeps it.

        The claim names its event, so re-applying that event (crash recovery) still counts it
        (``apply_once`` keeps that to once), and a rebuild, whichever event it meets first,
        counts each key exactly once as live ingestion did. Two round trips: the claims (a
        duplicate key only means a concurrent first claim won), then the winners."""
        if not claims:
            return {}
        await update_each(self._keys, [({"_id": key}, {"$setOnInsert": {"event_id": event}})
                                       for key, event in claims], upsert_retries=0)
        keys = sorted({key for key, _ in claims})
        return {d["_id"]: d.get("event_id")
                async for d in self._keys.find({"_id": {"$in": keys}}, {"event_id": 1})}

    async def viewers(self, viewer_ids: Sequence[str]) -> list[ViewerRollup | None]:
        """Viewer rollups in key order, ``None`` for a viewer with none."""
        found = {d["_id"]: viewer_from_doc(d)
                 async for d in self._viewers.find({"_id": {"$in": list(set(viewer_ids))}},
                                                   {APPLIED_EVENTS: 0})}
        return [found.get(v) for v in viewer_ids]

    async def pairs(self, keys: Sequence[PairKey]) -> list[PairRollup | None]:
        ids = [pair_id(v, c) for v, c in keys]
        found = {d["_id"]: pair_from_doc(d)
                 async for d in self._pairs.find(pair_filter(keys), {APPLIED_EVENTS: 0})}
        return [found.get(i) for i in ids]

    async def profiles(self, user_ids: Sequence[str]) -> list[Profile | None]:
        found = {d["_id"]: profile_from_doc(d)
                 async for d in self._profiles.find({"_id": {"$in": list(set(user_ids))}})}
        return [found.get(u) for u in user_ids]

    async def creators_of(self, viewer_id: str, limit: int, after: str | None = None
                          ) -> list[str]:
        """Up to ``limit`` creators the viewer has a pair with, in id order after ``after``
        (one page of the viewer's key range)."""
        query: dict[str, Any] = {"viewer_id": viewer_id}
        if after is not None:
            query["creator_id"] = {"$gt": after}
        cursor = self._pairs.find(query, {"creator_id": 1}).sort("creator_id", 1).limit(limit)
        return [d["creator_id"] async for d in cursor]

    async def viewers_of(self, creator_id: str, limit: int, after: str | None = None
                         ) -> list[str]:
        """Up to ``limit`` viewers of the creator, in id order after ``after`` (one page of
        the index (creator_id, viewer_id))."""
        query: dict[str, Any] = {"creator_id": creator_id}
        if after is not None:
            query["viewer_id"] = {"$gt": after}
        cursor = self._pairs.find(query, {"viewer_id": 1}).sort("viewer_id", 1).limit(limit)
        return [d["viewer_id"] async for d in cursor]

    async def some_pairs(self, limit: int) -> list[PairKey]:
        """Up to ``limit`` pairs, in ``_id`` order (a bounded sample for previews)."""
        cursor = self._pairs.find({}, {"viewer_id": 1, "creator_id": 1}).sort(
            "_id", 1).limit(limit)
        return [(d["viewer_id"], d["creator_id"]) async for d in cursor]

    async def erase_viewer(self, viewer_id: str) -> None:
        """Remove every counter of a viewer: their rollup, pairs, profile and the claims of
        what they counted once (keys ``viewer|…``: ids never contain ``|``, so the range
        ``viewer|`` .. ``viewer}`` holds exactly theirs)."""
        await self._pairs.delete_many({"viewer_id": viewer_id})
        await self._keys.delete_many({"_id": {"$gte": f"{viewer_id}|", "$lt": f"{viewer_id}}}"}})
        await self._viewers.delete_one({"_id": viewer_id})
        await self._profiles.delete_one({"_id": viewer_id})

    async def estimated_pairs(self) -> int:
        """Pairs with an interaction, from the collection's metadata (the coverage KPI)."""
        return await self._pairs.estimated_document_count()

    async def count_pairs(self) -> int:
        return int(await self._pairs.count_documents({}))

    async def pair_pages(self, after: str | None = None, size: int = PAGE_SIZE
                         ) -> AsyncIterator[tuple[str, list[PairKey]]]:
        """Every pair, a page at a time, each with the last document id it holds (to resume
        after it): memory holds one page, whatever the number of pairs."""
        async for page in pages(self._pairs, {}, {"viewer_id": 1, "creator_id": 1}, size,
                                after=after):
            yield page[-1]["_id"], [(d["viewer_id"], d["creator_id"]) for d in page]

    async def all_pairs(self) -> Iterable[PairKey]:
        """Every pair in one list (tests and small tools; sweeps use ``pair_pages``)."""
        return [key async for _, page in self.pair_pages() for key in page]

    async def prune_spend_days(self, before_day: str) -> int:
        """Drop spend day-buckets older than ``before_day`` (``YYYYMMDD``) so viewer documents
        stay bounded; lifetime totals are kept. Daily run only: a rebuild replays every day,
        so pruned and rebuilt rollups differ in buckets no window can reach. Returns viewers
        touched."""
        touched = 0
        async for page in pages(self._viewers, {}, {"spend_days": 1}):
            for d in page:
                old = [day for day in (d.get("spend_days") or {}) if day < before_day]
                if old:
                    await self._viewers.update_one(
                        {"_id": d["_id"]}, {"$unset": {f"spend_days.{day}": "" for day in old}})
                    touched += 1
        return touched

    async def snapshot(self) -> dict[str, list[dict[str, Any]]]:
        """Every rollup document, sorted by id (to compare rebuilt and incremental state)."""
        out: dict[str, list[dict[str, Any]]] = {}
        for name, coll in (("viewers", self._viewers), ("pairs", self._pairs),
                           ("profiles", self._profiles)):
            # applied_events is left out: a rebuild replays in id order, not arrival order
            out[name] = [d async for d in coll.find({}, {APPLIED_EVENTS: 0}).sort("_id", 1)]
        return out

    async def clear(self) -> None:
        for coll in (self._viewers, self._pairs, self._profiles, self._keys):
            await coll.delete_many({})
