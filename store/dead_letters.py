"""``dead_letters``: records that failed too often to keep retrying, set aside for an operator.

A poison record — an outbox change a listener keeps rejecting, a queue job that keeps failing or
cannot even be decoded — must not stall the sweep that meets it. After its attempts run out it
moves here, with its last error and its raw payload, and the sweep goes on with the next one::

    {_id: "<source>|<record id>", source: "outbox"|"queue", key, error, attempts, at,
     priority, payload}

Writing a dead letter is an idempotent upsert on that ``_id`` (a sweep that dies after it and
retries writes the same letter), so the move is "copy here, then remove there".
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from domain.queue import DeadLetter, DeadLetterSource
from store.database import Collections, Store, utc

__all__ = ["DeadLetter", "DeadLetterRepository", "DeadLetterSource"]


def _from_doc(d: Mapping[str, Any]) -> DeadLetter:
    at = utc(d["at"])
    assert at is not None
    return DeadLetter(id=d["_id"], source=DeadLetterSource(d["source"]), key=d.get("key", ""),
                      error=d.get("error", ""), attempts=int(d.get("attempts", 0)), at=at,
                      priority=d.get("priority"), payload=d.get("payload") or {})


class DeadLetterRepository:
    def __init__(self, store: Store) -> None:
        self._letters = store.collection(Collections.DEAD_LETTERS)

    async def put(self, source: DeadLetterSource, record_id: str, *, key: str, error: str,
                  attempts: int, at: datetime, payload: Mapping[str, Any],
                  priority: int | None = None) -> None:
        """Set a record aside (idempotent: the same record twice is one letter)."""
        await self._letters.replace_one(
            {"_id": f"{source.value}|{record_id}"},
            {"source": source.value, "key": key, "error": error, "attempts": attempts,
             "at": at, "priority": priority, "payload": dict(payload)}, upsert=True)

    async def count(self, source: DeadLetterSource, *, priority: int | None = None,
                    since: datetime | None = None) -> int:
        query: dict[str, Any] = {"source": source.value}
        if priority is not None:
            query["priority"] = priority
        if since is not None:
            query["at"] = {"$gte": since}
        return int(await self._letters.count_documents(query))

    async def recent(self, source: DeadLetterSource, limit: int) -> list[DeadLetter]:
        """The newest letters of one source, newest first (index (source, at))."""
        cursor = self._letters.find({"source": source.value}).sort(
            [("source", 1), ("at", -1)]).limit(limit)
        return [_from_doc(d) async for d in cursor]

    async def prune(self, source: DeadLetterSource, before: datetime) -> int:
        """Drop letters older than ``before`` (the operator had the retention to look)."""
        result = await self._letters.delete_many({"source": source.value,
                                                  "at": {"$lt": before}})
        return int(result.deleted_count)
