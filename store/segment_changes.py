"""``segment_changes``: the log of every segment change, in the order it was written.

Each record's ``_id`` is its change id (derived from the transition's id), so a batch written
again after a crash inserts nothing twice: duplicates are refused by the unique ``_id`` and the
rest of the batch still lands (an unordered insert). Each record also carries a ``position``:
a number taken from one counter per batch (``$inc`` by the batch's size), unique and increasing
in the order batches reserve them. Positions are resumable cursors (a consumer reads "after p");
a redelivered batch reserves fresh positions, so positions may skip numbers but never repeat.

Two writers (workers) that reserve ranges at once insert them in either order, so a reader at
the very head of the log may see position p+1 a moment before p lands (the window is one round
trip). With one worker the order is gapless; with several, a consumer that must not miss such a
late record resumes a little behind its cursor and deduplicates by change id, which every record
carries (delivery is at-least-once either way).

A batch costs two round trips: the reservation and the unordered insert.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pymongo import ReturnDocument
from pymongo.errors import BulkWriteError

from domain.segments.changes import SegmentChange
from domain.segments.dimensions import SegmentDimension
from store.database import Collections, Store, utc

_DUPLICATE_KEY = 11000
_SEQUENCE_ID = "segment_changes"


def _to_doc(change: SegmentChange, position: int, written_at: datetime) -> dict[str, Any]:
    return {"_id": change.id, "position": position, "viewer_id": change.viewer_id,
            "creator_id": change.creator_id, "dimension": change.dimension.value,
            "from": change.before, "to": change.after, "at": change.at,
            "written_at": written_at}


def _from_doc(d: dict[str, Any]) -> SegmentChange:
    at = utc(d["at"])
    assert at is not None
    return SegmentChange(id=d["_id"], viewer_id=d["viewer_id"], creator_id=d["creator_id"],
                         dimension=SegmentDimension(d["dimension"]), before=d.get("from"),
                         after=d.get("to"), at=at, position=int(d["position"]))


class SegmentChangeLog:
    def __init__(self, store: Store) -> None:
        self._changes = store.collection(Collections.SEGMENT_CHANGES)
        self._sequences = store.collection(Collections.SEQUENCES)

    async def append(self, changes: Sequence[SegmentChange], written_at: datetime) -> int:
        """Write ``changes`` (one batch) at fresh positions; records already in the log are
        left as they are. Returns how many were new."""
        if not changes:
            return 0
        counter = await self._sequences.find_one_and_update(
            {"_id": _SEQUENCE_ID}, {"$inc": {"value": len(changes)}}, upsert=True,
            return_document=ReturnDocument.AFTER)
        first = int(counter["value"]) - len(changes) + 1
        docs = [_to_doc(c, first + i, written_at) for i, c in enumerate(changes)]
        try:
            await self._changes.insert_many(docs, ordered=False)
        except BulkWriteError as exc:
            errors = exc.details.get("writeErrors") or []
            if any(e.get("code") != _DUPLICATE_KEY for e in errors):
                raise
            return len(docs) - len(errors)
        return len(docs)

    async def after(self, position: int, limit: int) -> list[SegmentChange]:
        """Up to ``limit`` changes after ``position``, in log order."""
        cursor = self._changes.find({"position": {"$gt": position}}).sort(
            "position", 1).limit(limit)
        return [_from_doc(d) async for d in cursor]

    async def for_viewer(self, viewer_id: str, creator_id: str | None, before: int | None,
                         limit: int) -> list[SegmentChange]:
        """Up to ``limit`` of a viewer's changes, newest first, before a position."""
        query: dict[str, Any] = {"viewer_id": viewer_id}
        if creator_id is not None:
            query["creator_id"] = creator_id
        if before is not None:
            query["position"] = {"$lt": before}
        cursor = self._changes.find(query).sort("position", -1).limit(limit)
        return [_from_doc(d) async for d in cursor]

    async def head(self) -> int:
        """The highest position reserved so far (0 for an empty log)."""
        counter = await self._sequences.find_one({"_id": _SEQUENCE_ID})
        return int(counter["value"]) if counter else 0

    async def delete_viewer(self, viewer_id: str) -> int:
        """Delete a viewer's change records (erasure), but the removal records (``to`` null)
        that tell feed consumers the segments are gone."""
        result = await self._changes.delete_many({"viewer_id": viewer_id, "to": {"$ne": None}})
        return int(result.deleted_count)

    async def count(self) -> int:
        return int(await self._changes.count_documents({}))
