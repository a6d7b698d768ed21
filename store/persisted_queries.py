"""Automatic persisted queries shared by every API process: sha256 hash → query text.

A document is keyed by the hash itself (``_id``), so registering is one idempotent upsert and
looking up is one primary-key read. The text never changes for a hash (the hash is of the text),
hence ``$setOnInsert``.
"""

from __future__ import annotations

from datetime import UTC, datetime

from store.database import Collections, Store


class PersistedQueryRepository:
    """The ``persisted_queries`` collection."""

    def __init__(self, store: Store) -> None:
        self._queries = store.collection(Collections.PERSISTED_QUERIES)

    async def get(self, sha256: str) -> str | None:
        document = await self._queries.find_one({"_id": sha256}, {"query": 1})
        if document is None:
            return None
        query = document.get("query")
        return query if isinstance(query, str) else None

    async def put(self, sha256: str, query: str) -> None:
        await self._queries.update_one(
            {"_id": sha256},
            {"$setOnInsert": {"query": query, "created_at": datetime.now(UTC)}},
            upsert=True)
