"""The connection to MongoDB (or the embedded in-process store) and the collection catalogue.

``Store.open`` picks motor when a URL is given and mongomock-motor otherwise; both speak motor's
API, so every repository is the same code on either. ``store.shards.ensure_indexes`` creates every
collection's indexes from the shard-key table.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from store.adapter import CallCounter, CollectionAdapter


class Collections:
    """Collection names, in one place."""

    EVENTS = "events"
    VIEWER_ROLLUPS = "viewer_rollups"
    PAIR_ROLLUPS = "pair_rollups"
    PROFILES = "profiles"
    #: one document per thing counted once (a booking, an eventRef, a liked media), keyed
    #: "viewer|creator|KIND|ref", naming the event that counted it
    INTERACTION_KEYS = "interaction_keys"
    SEGMENTS = "audience_segments"
    SEGMENT_CONFIGURATION = "segment_configuration"
    VIEWER_RISK = "viewer_risk"
    RISK_AUDIT = "risk_audit"
    CREATOR_AGGREGATES = "creator_aggregates"
    AGGREGATE_SNAPSHOTS = "aggregate_snapshots"
    #: what creators read of their aggregate: the last release, and the changes held back
    AUDIENCE_RELEASES = "audience_releases"
    #: one document per segment transition not released yet (``store/releases.py``)
    HELD_CHANGES = "held_changes"
    SEGMENT_PERFORMANCE = "segment_performance"
    IMPRESSIONS = "impressions"
    QUEUE = "segment_computation_queue"
    LOCKS = "locks"
    QUEUE_WORKERS = "queue_workers"
    CREATOR_INDEX = "creator_index"
    PERSISTED_QUERIES = "persisted_queries"
    #: outbox records and queue jobs that failed too often, set aside for an operator
    DEAD_LETTERS = "dead_letters"
    #: the segment change log (history, the change feed) and the counters of its positions
    SEGMENT_CHANGES = "segment_changes"
    SEQUENCES = "sequences"
    #: tombstones of erased events: sha256 of the event id, so a replay is a duplicate
    ERASED_EVENTS = "erased_events"
    #: the platform-wide release: every creator's published figures summed, once a day
    PLATFORM_RELEASES = "platform_releases"




@dataclass
class Store:
    """An open database: the client, the database handle and a driver-call counter."""

    client: Any
    db: Any
    embedded: bool
    #: every round trip, by collection and operation (store/adapter.py)
    counter: CallCounter = field(default_factory=CallCounter)
    #: a simulated network hop per round trip (benches only)
    latency_seconds: float = 0.0

    @classmethod
    def open(cls, url: str | None, db_name: str) -> Store:
        """Connect lazily (motor connects on first use); embedded when ``url`` is empty."""
        if url:
            from motor.motor_asyncio import AsyncIOMotorClient

            client: Any = AsyncIOMotorClient(url, tz_aware=True, serverSelectionTimeoutMS=3000)
            return cls(client=client, db=client[db_name], embedded=False)
        from store.embedded import embedded_client

        client = embedded_client()
        return cls(client=client, db=client[db_name], embedded=True)

    def collection(self, name: str) -> CollectionAdapter:
        """The only handle on a collection repositories get: every call is counted."""
        return CollectionAdapter(self.db[name], name, self.counter, self.latency_seconds,
                                 yields=self.embedded)

    async def admin_command(self, command: dict[str, Any]) -> Any:
        """One command on the admin database (sharding a collection through the router)."""
        return await self.client.admin.command(command)

    async def ping(self) -> bool:
        """True when the store answers a round trip."""
        try:
            self.counter("$cmd", "ping")
            await self.db.command("ping")
        except Exception:
            return False
        return True

    async def drop_all(self) -> None:
        """Drop every collection (tests and benchmarks against a real server)."""
        for name in await self.db.list_collection_names():
            await self.db.drop_collection(name)

    def close(self) -> None:
        close = getattr(self.client, "close", None)
        if callable(close):
            close()


#: documents one page of a sweep reads (every loop over a growing set pages by key range)
PAGE_SIZE = 1000


async def pages(collection: Any, query: dict[str, Any], projection: dict[str, Any] | None = None,
                size: int = PAGE_SIZE, *, after: Any = None
                ) -> AsyncIterator[list[dict[str, Any]]]:
    """``query``'s documents in ``_id`` order, ``size`` at a time: each page one indexed range
    read after the last id seen, so a sweep holds one page in memory, never a cursor open
    for the whole pass, and can resume from the last id it finished (``after``)."""
    while True:
        bounded = dict(query) if after is None else {**query, "_id": {"$gt": after}}
        page = [d async for d in collection.find(bounded, projection).sort("_id", 1).limit(
            size)]
        if not page:
            return
        yield page
        if len(page) < size:
            return
        after = page[-1]["_id"]


def utc(value: datetime | None) -> datetime | None:
    """Stored datetimes come back naive from some drivers; they are always UTC."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
