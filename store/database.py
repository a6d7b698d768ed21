"""The connection to MongoDB (or the embedded in-process store) and the collection catalogue.

``Store.open`` picks motor when a URL is given and mongomock-motor otherwise; both speak motor's
API, so every repository is the same code on either. ``ensure_indexes`` is the one place that
knows every collection's indexes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pymongo import ASCENDING, DESCENDING, IndexModel

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


INDEXES: dict[str, list[IndexModel]] = {
    Collections.EVENTS: [
        IndexModel([("occurred_at", ASCENDING)]),
        # events whose effects a crash may have left unapplied (Ingestion.recover): partial,
        # so the index holds only the few in flight, not the whole ledger
        IndexModel([("applied", ASCENDING), ("received_at", ASCENDING)],
                   partialFilterExpression={"applied": False}),
        # a user's own events (myData): as the viewer, or as the user of a profile event
        IndexModel([("fields.viewer_id", ASCENDING), ("_id", ASCENDING)]),
        IndexModel([("fields.user_id", ASCENDING), ("_id", ASCENDING)], sparse=True),
    ],
    # Pair documents are keyed by "viewer|creator" in _id, which already makes them unique.
    Collections.PAIR_ROLLUPS: [
        IndexModel([("viewer_id", ASCENDING), ("creator_id", ASCENDING)]),
        IndexModel([("creator_id", ASCENDING)]),
    ],
    Collections.SEGMENTS: [
        IndexModel([("viewer_id", ASCENDING), ("creator_id", ASCENDING)]),
        IndexModel([("creator_id", ASCENDING)]),
        # undelivered changes (the outbox sweep); sparse: almost every outbox is empty
        IndexModel([("outbox.at", ASCENDING)], sparse=True),
    ],
    Collections.RISK_AUDIT: [IndexModel([("viewer_id", ASCENDING), ("at", DESCENDING)])],
    Collections.AGGREGATE_SNAPSHOTS: [
        IndexModel([("creator_id", ASCENDING), ("day", ASCENDING)], unique=True)
    ],
    # creator insights read a window of days of one creator's segment type
    Collections.SEGMENT_PERFORMANCE: [
        IndexModel([("creator_id", ASCENDING), ("segment_type", ASCENDING), ("day", ASCENDING)])
    ],
    Collections.IMPRESSIONS: [  # _id is "viewer|creator"
        IndexModel([("viewer_id", ASCENDING), ("creator_id", ASCENDING)])
    ],
    Collections.QUEUE: [
        IndexModel([("key", ASCENDING), ("status", ASCENDING)]),
        IndexModel([("status", ASCENDING), ("priority", DESCENDING), ("due_at", ASCENDING)]),
        # at most one pending job per unit of work: the coalescing point (sparse: only
        # pending jobs carry the field)
        IndexModel([("pending_key", ASCENDING)], unique=True, sparse=True),
        IndexModel([("viewer_id", ASCENDING), ("status", ASCENDING)]),
        IndexModel([("status", ASCENDING), ("lease_expires_at", ASCENDING)]),
        IndexModel([("status", ASCENDING), ("created_at", ASCENDING)]),
    ],
    Collections.DEAD_LETTERS: [
        IndexModel([("source", ASCENDING), ("at", DESCENDING)]),
        IndexModel([("source", ASCENDING), ("priority", ASCENDING), ("at", DESCENDING)]),
    ],
    # the change feed reads in position order; a viewer's history newest first
    Collections.SEGMENT_CHANGES: [
        IndexModel([("position", ASCENDING)], unique=True),
        IndexModel([("viewer_id", ASCENDING), ("position", DESCENDING)]),
        IndexModel([("viewer_id", ASCENDING), ("creator_id", ASCENDING),
                    ("position", DESCENDING)]),
    ],
    # candidate pools: the most popular creators of a cell, a region, a segment, or of all
    Collections.CREATOR_INDEX: [
        IndexModel([("cell", ASCENDING), ("popularity", DESCENDING)]),
        IndexModel([("region", ASCENDING), ("popularity", DESCENDING)]),
        IndexModel([("segment", ASCENDING), ("popularity", DESCENDING)]),
        IndexModel([("popularity", DESCENDING)]),
    ],
    # the per-caller registration cap counts a caller's queries
    Collections.PERSISTED_QUERIES: [IndexModel([("owner", ASCENDING)])],
}


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
        return CollectionAdapter(self.db[name], name, self.counter, self.latency_seconds)

    async def ensure_indexes(self) -> None:
        for name, models in INDEXES.items():
            await self.collection(name).create_indexes(models)

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


def utc(value: datetime | None) -> datetime | None:
    """Stored datetimes come back naive from some drivers; they are always UTC."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
