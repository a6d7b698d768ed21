"""The append-only event ledger: each event stored once, keyed by its event id.

Each document also says whether the event's effects (rollups, listeners) are known to be
applied: ``applied`` is False from the insert until ingestion has finished with the event, so
an event whose process died in between can be found and finished later (``Ingestion.recover``).
Documents written before the field existed have none and count as applied.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pymongo.errors import BulkWriteError, DuplicateKeyError

from domain.events import CallType, Event, EventType
from store.bulk import duplicate_key_failures
from store.database import Collections, Store, utc

#: MongoDB's error code for a duplicate key
DUPLICATE_KEY = 11000

#: the flag an event carries until its rollups and listeners have run (see the module doc)
APPLIED = "applied"
#: when recovery last took the event on: a lease, so two sweeps do not finish it at once
RECOVERY_AT = "recovery_at"
#: the token of the recovery pass that took an event on (which events a batch took)
RECOVERY_BY = "recovery_by"
#: canonical hash of the payload the client sent, and whether it sent occurredAt: a replay of
#: the id is compared with them (``domain.events.conflicting_replay``)
PAYLOAD_HASH = "payload_hash"
OCCURRED_AT_SENT = "occurred_at_sent"


@dataclass(frozen=True)
class StoredPayload:
    """What a replay of an event id is compared with."""

    payload_hash: str
    occurred_at: datetime
    occurred_at_sent: bool


def event_to_doc(event: Event, received_at: datetime, *, applied: bool = False
                 ) -> dict[str, Any]:
    fields = {k: (list(v) if isinstance(v, tuple) else v) for k, v in event.fields.items()}
    return {"_id": event.event_id, "type": event.type.value, "occurred_at": event.occurred_at,
            "received_at": received_at, "fields": fields, APPLIED: applied,
            PAYLOAD_HASH: event.payload_hash, OCCURRED_AT_SENT: event.occurred_at_sent}


def event_from_doc(doc: dict[str, Any]) -> Event:
    fields = dict(doc["fields"])
    if "call_type" in fields:
        fields["call_type"] = CallType(fields["call_type"])
    if "interests" in fields:
        fields["interests"] = tuple(fields["interests"])
    if "meeting_date" in fields:
        fields["meeting_date"] = utc(fields["meeting_date"])
    occurred_at = utc(doc["occurred_at"])
    assert occurred_at is not None
    return Event(event_id=doc["_id"], type=EventType(doc["type"]), occurred_at=occurred_at,
                 fields=fields, occurred_at_sent=bool(doc.get(OCCURRED_AT_SENT, True)))


def _of_user(user_id: str) -> dict[str, Any]:
    """A user's events: as the viewer, or as the user of a profile event."""
    return {"$or": [{"fields.viewer_id": user_id}, {"fields.user_id": user_id}]}


def tombstone_id(event_id: str) -> str:
    """What an erased event leaves behind: its id's SHA-256, never the id itself."""
    return hashlib.sha256(event_id.encode()).hexdigest()


class EventLedger:
    """Stores events once; a second insert of the same id is reported, never applied."""

    def __init__(self, store: Store) -> None:
        self._events = store.collection(Collections.EVENTS)
        self._erased = store.collection(Collections.ERASED_EVENTS)

    async def append(self, event: Event, received_at: datetime, *, applied: bool = False
                     ) -> bool:
        """Store ``event``; False when its id is already in the ledger (a replay).

        ``applied`` is False for live ingestion (``mark_applied`` follows once the event's
        effects are in); loaders that apply everything and rebuild afterwards pass True."""
        try:
            await self._events.insert_one(event_to_doc(event, received_at, applied=applied))
        except DuplicateKeyError:
            return False
        return True

    async def append_many(self, events: Sequence[Event], received_at: datetime, *,
                          applied: bool = False) -> list[bool]:
        """Store a batch in one round trip (``insert_many``, unordered, so one duplicate does
        not stop the rest); per event, False when its id was already in the ledger — before,
        or earlier in the same batch. The duplicates are read from the error's details (code
        11000 at their index); any other write error is raised, and what did go in stays
        unapplied for recovery to finish. ``applied`` as for :meth:`append`."""
        if not events:
            return []
        docs = [event_to_doc(e, received_at, applied=applied) for e in events]
        try:
            await self._events.insert_many(docs, ordered=False)
        except BulkWriteError as exc:
            errors = exc.details.get("writeErrors") or []
            if any(e.get("code") != DUPLICATE_KEY for e in errors):
                raise
            duplicates = {int(e["index"]) for e in errors}
            return [i not in duplicates for i in range(len(events))]
        return [True] * len(events)

    async def mark_applied(self, event_ids: Sequence[str]) -> None:
        """The events' rollups and listeners are done: recovery leaves them alone from now on
        (one round trip for the batch)."""
        if not event_ids:
            return
        await self._events.update_many({"_id": {"$in": list(event_ids)}},
                                       {"$set": {APPLIED: True}, "$unset": {RECOVERY_AT: ""}})

    async def payloads(self, event_ids: Sequence[str]) -> dict[str, StoredPayload]:
        """The stored payload of each of ``event_ids`` that is in the ledger (one round trip).

        A document written before hashes were stored gets its hash computed from its fields;
        one without fields (an erasure tombstone) is left out: any replay of it is a plain
        duplicate."""
        found: dict[str, StoredPayload] = {}
        cursor = self._events.find({"_id": {"$in": list(set(event_ids))}},
                                   {"type": 1, "fields": 1, "occurred_at": 1, PAYLOAD_HASH: 1,
                                    OCCURRED_AT_SENT: 1})
        async for doc in cursor:
            if "fields" not in doc or "type" not in doc:
                continue
            digest = doc.get(PAYLOAD_HASH) or event_from_doc(doc).payload_hash
            occurred_at = utc(doc["occurred_at"])
            assert occurred_at is not None
            found[doc["_id"]] = StoredPayload(digest, occurred_at,
                                              bool(doc.get(OCCURRED_AT_SENT, True)))
        return found

    async def mark_all_applied(self, received_before: datetime) -> int:
        """Everything received before ``received_before`` counts as applied (after a rebuild
        replayed it); returns the events marked."""
        result = await self._events.update_many(
            {APPLIED: False, "received_at": {"$lt": received_before}},
            {"$set": {APPLIED: True}, "$unset": {RECOVERY_AT: ""}})
        return int(result.modified_count)

    @staticmethod
    def _stranded(received_before: datetime) -> dict[str, Any]:
        """Unapplied, received before the cut-off, and not taken on by a recovery since."""
        return {APPLIED: False, "received_at": {"$lt": received_before},
                "$or": [{RECOVERY_AT: {"$exists": False}},
                        {RECOVERY_AT: {"$lt": received_before}}]}

    async def count_unapplied(self, received_before: datetime) -> int:
        """Events still unapplied that were received before ``received_before``."""
        return int(await self._events.count_documents(
            {APPLIED: False, "received_at": {"$lt": received_before}}))

    async def stranded(self, received_before: datetime, limit: int) -> list[str]:
        """Ids of up to ``limit`` events a crash may have stranded, oldest first."""
        cursor = self._events.find(self._stranded(received_before), {"_id": 1}).sort(
            "received_at", 1).limit(limit)
        return [d["_id"] async for d in cursor]

    async def take_for_recovery(self, event_id: str, now: datetime, grace: timedelta
                                ) -> Event | None:
        """Take a stranded event on (atomically: one recoverer at a time, for ``grace``);
        None when it is applied, too recent, or being recovered by someone else."""
        doc = await self._events.find_one_and_update(
            {"_id": event_id, **self._stranded(now - grace)}, {"$set": {RECOVERY_AT: now}})
        return None if doc is None else event_from_doc(doc)

    async def take_many_for_recovery(self, event_ids: Sequence[str], now: datetime,
                                     grace: timedelta) -> list[Event]:
        """:meth:`take_for_recovery` for many events in two round trips: one update marks
        those still stranded with this taker's token, one read returns the ones it took."""
        if not event_ids:
            return []
        token = uuid.uuid4().hex
        await self._events.update_many(
            {"_id": {"$in": sorted(set(event_ids))}, **self._stranded(now - grace)},
            {"$set": {RECOVERY_AT: now, RECOVERY_BY: token}})
        return [event_from_doc(d) async for d in self._events.find(
            {"_id": {"$in": sorted(set(event_ids))}, RECOVERY_BY: token}).sort("_id", 1)]

    async def count(self) -> int:
        return int(await self._events.count_documents({}))

    async def erased(self, event_ids: Sequence[str]) -> set[str]:
        """Which of ``event_ids`` belonged to an erased viewer (one read of the tombstones)."""
        if not event_ids:
            return set()
        by_hash = {tombstone_id(e): e for e in event_ids}
        return {by_hash[d["_id"]] async for d in self._erased.find(
            {"_id": {"$in": sorted(by_hash)}}, {"_id": 1})}

    async def erase_page(self, user_id: str, limit: int, at: datetime) -> int:
        """Erase up to ``limit`` of the user's events, leaving a tombstone (the id's hash)
        for each, written before the events go, so a crash in between only repeats the page;
        how many events were erased (0: none left)."""
        ids = [d["_id"] async for d in self._events.find(
            _of_user(user_id), {"_id": 1}).sort("_id", 1).limit(limit)]
        if not ids:
            return 0
        try:
            await self._erased.insert_many([{"_id": tombstone_id(e), "at": at} for e in ids],
                                           ordered=False)
        except BulkWriteError as exc:  # tombstones of an earlier, interrupted attempt
            duplicate_key_failures(exc)  # anything else is raised
        result = await self._events.delete_many({"_id": {"$in": ids}})
        return int(result.deleted_count)

    async def of_user(self, user_id: str, after_id: str | None, limit: int) -> list[Event]:
        """Up to ``limit`` events about a user (as the viewer or the user), by event id."""
        query = _of_user(user_id)
        if after_id is not None:
            query["_id"] = {"$gt": after_id}
        cursor = self._events.find(query).sort("_id", 1).limit(limit)
        return [event_from_doc(d) async for d in cursor]

    async def replay(self, batch_size: int = 1000) -> AsyncIterator[Event]:
        """Every stored event, in id order (rollups are order-independent)."""
        cursor = self._events.find({}).sort("_id", 1).batch_size(batch_size)
        async for doc in cursor:
            yield event_from_doc(doc)
