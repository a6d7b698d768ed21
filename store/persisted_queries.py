"""Automatic persisted queries shared by every API process: sha256 hash → query text.

A document is keyed by the hash itself (``_id``), so registering is one idempotent upsert and
looking up is one primary-key read. The text never changes for a hash (the hash is of the text),
hence ``$setOnInsert``. Each document names the caller who registered it (``owner``), whose
registrations are capped (api/persisted_queries.py); an index on ``owner`` keeps that count cheap.
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

    async def put(self, sha256: str, query: str, owner: str) -> None:
        """Keep ``query``; ``owner`` (the caller who registered it first) is charged for it."""
        await self._queries.update_one(
            {"_id": sha256},
            {"$setOnInsert": {"query": query, "owner": owner, "created_at": datetime.now(UTC)}},
            upsert=True)

    async def count_owned(self, owner: str, limit: int) -> int:
        """How many queries ``owner`` registered, counted up to ``limit`` (enough to refuse)."""
        return int(await self._queries.count_documents({"owner": owner}, limit=limit))
