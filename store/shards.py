"""Where every collection lives on a sharded cluster: its shard key, why, and the indexes that
follow from it — the one table ``ensure_indexes``, ``audience shard`` (the sharded
compose profile) and the query audit (``tests/integration/test_query_audit.py``) all read.

Rules the table follows (MongoDB's own):

- A hot query carries its collection's shard-key prefix as an equality (or ``$in``), so the
  router sends it to the shards that hold those keys only; an upsert carries the *whole* shard
  key as equalities (the server needs it to place a document it may insert).
- Every query has an index whose prefix holds its equality fields, then its sort fields in
  order, then its range fields (equality–sort–range), so it reads what it returns.
- A collection whose every read is by ``_id`` is sharded on ``{_id: "hashed"}``: writes spread
  evenly and each read is one targeted lookup. ``_id`` is also the only field whose uniqueness
  a sharded cluster enforces across shards, which the ledger's exactly-once relies on.
- Pair documents (a viewer with a creator) are keyed by ``{viewer_id, creator_id}``: every
  request-path read of them is one viewer's (``mySegments``, recent creators, fresh reads), and
  a viewer's pairs form one contiguous key range. The creator-wide reads (a creator job's
  fan-out, the daily pass) are background sweeps, paged, and listed below as scatter-gather.
- Small, coordination-heavy collections (the work queue, locks, heartbeats, thresholds, dead
  letters) stay unsharded on the primary shard: a claim needs one global priority order.

``scatter`` names each query (``Repository.method``) allowed to go without the shard-key prefix
or without a bound, with the reason; the audit fails on any other.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pymongo import ASCENDING, DESCENDING, IndexModel

from store.database import Collections, Store

HASHED = "hashed"
ShardKey = tuple[tuple[str, int | str], ...]

REBUILD = "rebuild and tests only: a whole-collection pass, off the request path"
#: the start-up migration of documents stored before locations became cells: it scans for
#: leftovers (unindexed, paged) until none is left, then finds nothing
MIGRATION = "start-up migration of pre-cell locations: a paged scan until none is left"
ERASURE = ("erasure of one viewer (a rare admin or user request): that viewer's documents on "
           "every shard, through the index named for it")


@dataclass(frozen=True)
class Placement:
    """One collection: its shard key (``None``: unsharded), why, its secondary indexes, and
    the queries allowed to scatter (method → reason)."""

    key: ShardKey | None
    why: str
    indexes: tuple[IndexModel, ...] = ()
    scatter: Mapping[str, str] = field(default_factory=dict)

    @property
    def key_fields(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.key or ())


def _ix(*keys: tuple[str, int], **options: object) -> IndexModel:
    return IndexModel(list(keys), **options)  # type: ignore[arg-type]


_VIEWER_CREATOR = (("viewer_id", ASCENDING), ("creator_id", ASCENDING))

SHARDS: Mapping[str, Placement] = {
    Collections.EVENTS: Placement(
        ((("_id", HASHED),)),
        "the ledger's dedup is a unique _id, enforced cluster-wide only on the shard key; "
        "every per-event read is by id; inserts spread evenly",
        (
            # events a crash may have left unapplied (Ingestion.recover): partial, so the
            # index holds only the few in flight, not the whole ledger
            _ix(("applied", ASCENDING), ("received_at", ASCENDING),
                partialFilterExpression={"applied": False}),
            # a user's own events (myData): as the viewer, or as the user of a profile event
            _ix(("fields.viewer_id", ASCENDING), ("_id", ASCENDING)),
            _ix(("fields.user_id", ASCENDING), ("_id", ASCENDING), sparse=True),
        ),
        {"EventLedger.of_user": "myData (the caller's own events, rare, paged by _id): "
                                "asks every shard, each through the two indexes above",
         "EventLedger.erase_page": ERASURE,
         "store.locations.snap_stored_locations": MIGRATION,
         "EventLedger.stranded": "recovery sweep (worker, once a sweep period): the partial "
                                 "index holds only in-flight events on each shard",
         "EventLedger.count_unapplied": "health figure over the partial index: a few keys",
         "EventLedger.mark_all_applied": "after a rebuild only",
         "EventLedger.replay": REBUILD, "EventLedger.count": REBUILD}),
    Collections.VIEWER_ROLLUPS: Placement(
        ((("_id", HASHED),)),
        "one document per viewer, always read and written by viewer id",
        (),
        {"RollupRepository.prune_spend_days": "daily run: pages every viewer by _id",
         "RollupRepository.snapshot": REBUILD, "RollupRepository.clear": REBUILD}),
    Collections.PAIR_ROLLUPS: Placement(
        _VIEWER_CREATOR,
        "request-path reads are one viewer's pairs (a contiguous key range); the creator's "
        "fan-out is a background job, paged on (creator_id, viewer_id)",
        (_ix(("creator_id", ASCENDING), ("viewer_id", ASCENDING)),),
        {"RollupRepository.viewers_of": "a creator job's fan-out (worker): pages of "
                                        "(creator_id, viewer_id) on every shard",
         "RollupRepository.pair_pages": "daily run and rebuild: pages every pair by _id, "
                                        "resumable",
         "RollupRepository.some_pairs": "admin configuration preview: a bounded sample "
                                        "(limit) in _id order, off the hot path",
         "RollupRepository.count_pairs": "admin configuration preview: one count",
         "RollupRepository.snapshot": REBUILD, "RollupRepository.clear": REBUILD}),
    Collections.PROFILES: Placement(
        ((("_id", HASHED),)),
        "one document per user, read and written by user id",
        (),
        {"store.locations._rewrite": MIGRATION,
         "RollupRepository.snapshot": REBUILD, "RollupRepository.clear": REBUILD}),
    Collections.SEGMENTS: Placement(
        _VIEWER_CREATOR,
        "a viewer's segments are one key range: mySegments pages, recent creators and fresh "
        "reads are single-shard",
        (
            # the creators a viewer recently had segments with (recommendations)
            _ix(("viewer_id", ASCENDING), ("last_updated", DESCENDING)),
            # undelivered changes (the outbox sweep); sparse: almost every outbox is empty
            _ix(("outbox.at", ASCENDING), sparse=True),
            # a revenue release pages one creator's segments (dominance rule's top payers)
            _ix(("creator_id", ASCENDING), ("_id", ASCENDING)),
            # ... or, for a large audience, reads the top payers of each combination
            _ix(("creator_id", ASCENDING), ("budget", ASCENDING), ("intent", ASCENDING),
                ("proximity", ASCENDING), ("revenue_tokens", DESCENDING)),
        ),
        {"SegmentRepository.of_creators": "revenue releases (once per release of >= 10 "
                                          "changed viewers): the releasing creators' "
                                          "segments, paged, on every shard",
         "SegmentRepository.top_revenue": "revenue releases of a large audience: k entries "
                                           "per combination from each shard's index",
         "store.locations.snap_stored_locations": MIGRATION,
         "SegmentRepository.undelivered": "outbox sweep (worker): the sparse index holds "
                                          "only pairs with an unconfirmed change",
         "SegmentRepository.viewer_pages": "platform release (daily run, rebuild): pages "
                                           "every segment by _id, a viewer's contiguous",
         "SegmentRepository.all": REBUILD, "SegmentRepository.count": REBUILD,
         "SegmentRepository.clear": REBUILD}),
    Collections.SEGMENT_CONFIGURATION: Placement(
        None, "one document per threshold kind, read through a cache",
        (), {"ConfigurationRepository.current": "a handful of documents, cached"}),
    Collections.VIEWER_RISK: Placement(((("_id", HASHED),)), "read by viewer id"),
    Collections.RISK_AUDIT: Placement(
        ((("viewer_id", HASHED),)), "read as one viewer's history",
        (_ix(("viewer_id", ASCENDING), ("at", DESCENDING)),)),
    Collections.CREATOR_AGGREGATES: Placement(
        (("creator_id", ASCENDING), ("part", ASCENDING)),
        "a creator's counters are AGGREGATE_PARTS documents by viewer hash (sharded counters): "
        "a hot creator's writes spread over them, and its live sum is one key range; upserts "
        "carry the whole key",
        (),
        {"AggregateRepository.count": "start-up: how many audiences exist against how "
                                      "many releases are tracked (one $group)",
         "AggregateRepository.forget_stale": "daily run: marks of writers that died",
         "AggregateRepository.creator_pages": "start-up and rebuild: pages by _id",
         "CreatorIndexRepository.indexed_creators": "rebuild of the creator index: pages "
                                                     "by _id",
         "AggregateRepository.snapshot": REBUILD, "AggregateRepository.clear": REBUILD}),
    Collections.AGGREGATE_SNAPSHOTS: Placement(
        (("creator_id", ASCENDING), ("day", ASCENDING)),
        "growth reads one creator's days; the key is the unique (creator, day)",
        (_ix(("creator_id", ASCENDING), ("day", ASCENDING), unique=True),)),
    Collections.AUDIENCE_RELEASES: Placement(
        ((("_id", HASHED),)),
        "one document per creator, read and written by creator id",
        # the refresh-age KPI reads the oldest release: one index entry per shard
        (_ix(("released_at.counts", ASCENDING)),),
        {"ReleaseRepository.oldest_release": "/metrics: the oldest release, one index entry "
                                              "from each shard",
         "ReleaseRepository.creator_ids": "daily snapshots and rebuild: pages by _id",
         "ReleaseRepository.published_pages": "platform release (daily run, rebuild): pages "
                                              "every release's published part by _id",
         "ReleaseRepository.all": REBUILD}),
    Collections.HELD_CHANGES: Placement(
        (("creator_id", ASCENDING), ("_id", ASCENDING)),
        "a settle reads one creator's held changes (one key range); inserts of a hot "
        "creator's changes spread over chunks by change id. A change id always belongs to one "
        "creator, so its duplicate lands on the same shard and meets the _id index there",
        (_ix(("creator_id", ASCENDING), ("_id", ASCENDING)),
         # the platform release subtracts some viewers' held changes
         _ix(("creator_id", ASCENDING), ("viewer_id", ASCENDING))),
        {"ReleaseRepository.forget_stale": "daily run: cut changes whose confirmation never "
                                           "came, paged by _id",
         "ReleaseRepository.all": REBUILD}),
    Collections.SEGMENT_PERFORMANCE: Placement(
        ((("creator_id", HASHED),)),
        "insights read a window of one creator's days; a creator's documents live together",
        (_ix(("creator_id", ASCENDING), ("segment_type", ASCENDING), ("day", ASCENDING)),)),
    Collections.IMPRESSIONS: Placement(
        ((("_id", HASHED),)), "read and written by pair id only",
        # erasure removes a viewer's impressions
        (_ix(("viewer_id", ASCENDING)),),
        {"ImpressionRepository.erase_viewer": ERASURE}),
    Collections.ERASED_EVENTS: Placement(
        ((("_id", HASHED),)),
        "tombstones of erased events, read by hash with every ingested batch (targeted); "
        "64 bytes each"),
    Collections.QUEUE: Placement(
        None,
        "claims take the highest priority due job of the whole queue: one global order, "
        "which only an unsharded collection gives in one index scan; jobs are short-lived",
        (
            _ix(("key", ASCENDING), ("status", ASCENDING)),
            # claims: due pending jobs, highest priority first, earliest due first
            _ix(("status", ASCENDING), ("priority", DESCENDING), ("due_at", ASCENDING)),
            # at most one pending job per unit of work: the coalescing point (sparse: only
            # pending jobs carry the field)
            _ix(("pending_key", ASCENDING), unique=True, sparse=True),
            _ix(("viewer_id", ASCENDING), ("status", ASCENDING)),
            _ix(("status", ASCENDING), ("lease_expires_at", ASCENDING)),
            _ix(("status", ASCENDING), ("created_at", ASCENDING)),
            # the most overdue pending job (health)
            _ix(("status", ASCENDING), ("due_at", ASCENDING)),
        ),
        {"QueueRepository.all": REBUILD}),
    Collections.LOCKS: Placement(None, "one document per singleton run (daily:YYYYMMDD)"),
    Collections.PLATFORM_RELEASES: Placement(
        None, "one document, written once a day and read by id (platformInsights)"),
    Collections.QUEUE_WORKERS: Placement(
        None, "one heartbeat per worker process", (_ix(("last_seen", ASCENDING)),)),
    Collections.CREATOR_INDEX: Placement(
        None,
        "candidate pools are top-k reads by cell, region or segment: unsharded, each is one "
        "index range scan; one ~1 KB card per creator fits one shard far past 10M creators",
        (
            _ix(("cell", ASCENDING), ("popularity", DESCENDING), ("_id", ASCENDING)),
            _ix(("region", ASCENDING), ("popularity", DESCENDING), ("_id", ASCENDING)),
            _ix(("segment", ASCENDING), ("popularity", DESCENDING), ("_id", ASCENDING)),
            _ix(("popularity", DESCENDING), ("_id", ASCENDING)),
        ),
        {"store.locations._rewrite": MIGRATION,
         "CreatorIndexRepository.snapshot": REBUILD, "CreatorIndexRepository.clear": REBUILD,
         "CreatorIndexRepository.count": REBUILD}),
    Collections.PERSISTED_QUERIES: Placement(
        ((("_id", HASHED),)), "looked up by hash",
        # the per-caller registration cap counts a caller's queries (bounded by the cap)
        (_ix(("owner", ASCENDING)),),
        {"PersistedQueryRepository.count_owned": "registration only: counts one owner's "
                                                 "queries, at most the cap, on every shard"}),
    Collections.INTERACTION_KEYS: Placement(
        ((("_id", HASHED),)),
        "one claim per (viewer, booking / event / media), always read and written by its key",
        (), {"RollupRepository.clear": REBUILD, "RollupRepository.erase_viewer": ERASURE}),
    Collections.SEGMENT_CHANGES: Placement(
        None,
        "the change feed reads in one global position order (resumable cursors): unsharded, "
        "each page is one index range scan; small records, appended once",
        (
            _ix(("position", ASCENDING), unique=True),
            _ix(("viewer_id", ASCENDING), ("position", DESCENDING)),
            _ix(("viewer_id", ASCENDING), ("creator_id", ASCENDING), ("position", DESCENDING)),
        ),
        {"SegmentChangeLog.count": REBUILD}),
    Collections.SEQUENCES: Placement(None, "one counter document per sequence"),
    Collections.DEAD_LETTERS: Placement(
        None, "few records, read by operators",
        (
            _ix(("source", ASCENDING), ("at", DESCENDING)),
            _ix(("source", ASCENDING), ("priority", ASCENDING), ("at", DESCENDING)),
        )),
}


def indexes(collection: str) -> list[IndexModel]:
    """Every index ``ensure_indexes`` creates on ``collection``: the ranged shard key's own
    (a hashed key's index is created by ``shardCollection``), then the secondary ones."""
    placement = SHARDS[collection]
    out: list[IndexModel] = []
    key = list(placement.key or ())
    if key and all(direction != HASHED for _, direction in key) and key != [("_id", 1)]:
        declared = [list(ix.document["key"].items()) for ix in placement.indexes]
        if key not in declared:
            out.append(IndexModel(key))
    return out + list(placement.indexes)


async def ensure_indexes(store: Store) -> None:
    """Create every collection's indexes as ``SHARDS`` declares them, and drop the rest."""
    for name, placement in SHARDS.items():
        models = indexes(name)
        if models:
            await store.collection(name).create_indexes(models)
        # An index the table no longer declares costs every write and serves no query.
        keep = {ix.document["name"] for ix in models} | {"_id_"}
        shard_key = dict(placement.key or ())
        for info in await store.collection(name).list_indexes():
            if info["name"] not in keep and dict(info["key"]) != shard_key:
                await store.collection(name).drop_index(info["name"])


def shard_commands(db_name: str) -> list[dict[str, object]]:
    """The admin commands that shard ``db_name`` as the table says: enable sharding, then one
    ``shardCollection`` per sharded collection (unsharded ones stay on the primary shard)."""
    commands: list[dict[str, object]] = [{"enableSharding": db_name}]
    for name, placement in SHARDS.items():
        if placement.key:
            commands.append({"shardCollection": f"{db_name}.{name}",
                             "key": dict(placement.key)})
    return commands


async def shard_collections(store: Store, db_name: str) -> list[str]:
    """Create every index (``ensure_indexes``), then shard every collection the table shards,
    through the router ``store`` is connected to; returns the collections sharded. Safe to
    run again: a collection already sharded on the same key is left as it is."""
    from pymongo.errors import OperationFailure

    await ensure_indexes(store)
    done = []
    for command in shard_commands(db_name):
        try:
            await store.admin_command(command)
        except OperationFailure as exc:
            if "already" not in str(exc):  # enabled / sharded by an earlier run
                raise
        if "shardCollection" in command:
            done.append(str(command["shardCollection"]))
    return done


async def initiate_cluster(config: str, shards: list[str], router: Store) -> None:
    """Start a fresh cluster's replica sets and add its shards to ``router`` (the sharded
    compose profile): ``config`` and each of ``shards`` is ``"<replica set>/<host:port>"``, a
    one-member set each. Safe to run again (an initiated set or a known shard is left)."""
    from pymongo.errors import OperationFailure

    for spec, configsvr in [(config, True)] + [(s, False) for s in shards]:
        name, host = spec.split("/", 1)
        member = Store.open(f"mongodb://{host}/?directConnection=true", "admin")
        try:
            await member.admin_command({"replSetInitiate": {
                "_id": name, "configsvr": configsvr, "members": [{"_id": 0, "host": host}]}})
        except OperationFailure as exc:
            if "already initialized" not in str(exc):
                raise
        finally:
            member.close()
    for spec in shards:
        await _retry(lambda spec=spec: router.admin_command({"addShard": spec}))


async def _retry(call: Any, attempts: int = 30) -> Any:
    """Retry while a just-initiated replica set elects its primary (a few seconds)."""
    import asyncio

    from pymongo.errors import PyMongoError

    for attempt in range(attempts):
        try:
            return await call()
        except PyMongoError:
            if attempt == attempts - 1:
                raise
            await asyncio.sleep(1)
