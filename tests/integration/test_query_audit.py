"""The query audit: the end-to-end workload (events in through the API, the queue drained, every
read a client makes, the worker's sweeps, the daily run, a rebuild) runs on a store that records
every query, and each one is checked against the shard-key table (``store/shards.py``): shard-key
prefix, an index by equality–sort–range, and a bound. A second test proves the audit can fail.
With ``MONGODB_URL`` set, the hot reads' ``explain()`` plans are checked too (no COLLSCAN).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from api.app import create_app
from api.bootstrap import bootstrap
from api.settings import Settings
from services.container import Services
from services.daily import DailyRun
from services.rebuild import rebuild_all
from services.worker import QueueWorker
from store.database import Collections, Store
from tests.audience import audience
from tests.conftest import Api
from tests.helpers import send
from tests.query_audit import Query, RecordingStore, audit, recording

VIEWERS = [f"v{n}" for n in range(12)]
CREATORS = ["c-big", "c-small", "c-far"]
PAGE = "query($n: Int) { mySegments(first: $n) { edges { node { creatorId budget } } } }"


async def workload(api: Api, services: Services) -> None:
    """What clients, workers and operators do, touching every repository."""
    for n, creator in enumerate(CREATORS):
        await send(api, "locationUpdated", userId=creator, latitude=48.0 + n, longitude=2.0)
        await send(api, "profileInterestsUpdated", userId=creator, interests=["music"])
    for i, viewer in enumerate(VIEWERS):
        await send(api, "locationUpdated", userId=viewer, latitude=48.1, longitude=2.1)
        for creator in CREATORS[: 1 + i % 3]:
            await send(api, "firstInteraction", viewerId=viewer, creatorId=creator)
            await send(api, "mediaLiked", viewerId=viewer, creatorId=creator)
            await send(api, "chatCompleted", viewerId=viewer, creatorId=creator)
            await send(api, "transactionCompleted", viewerId=viewer, creatorId=creator,
                       tokens=300 * (i + 1))
        await send(api, "meetingBooked", viewerId=viewer, creatorId="c-big")
    # a creator-wide job (the creator moved) and a viewer-wide one
    await send(api, "locationUpdated", userId="c-big", latitude=47.0, longitude=2.0)
    await send(api, "profileInterestsUpdated", userId="v0", interests=["music", "art"])
    await api.as_service("mutation { processSegmentQueue(batchSize: 1000) { processed } }")

    for viewer in VIEWERS[:3]:
        for query, variables in (
                (PAGE, {"n": 5}),
                ('{ mySegment(creatorId: "c-big") { budget } }', None),
                ("{ segmentRecommendations(limit: 5) { creatorId } }", None),
                ("query($c: [ID!]!) { filterDiscoveryFeed(candidates: $c) { creatorId } }",
                 {"c": CREATORS})):
            body = await api.post(query, variables, sub=viewer, roles=("viewer",))
            assert not body.get("errors"), body
    await api.as_service("mutation { flushDiscoveryImpressions }")
    await send(api, "transactionCompleted", viewerId="v0", creatorId="c-big", tokens=50)
    await audience(api, "c-big")
    body = await api.post('{ creatorAudience(creatorId: "c-big") { segmentPerformance('
                          'segmentType: BUDGET, segmentValue: "HIGH", days: 7) { days } } }',
                          sub="c-big", roles=("creator",))
    assert not body.get("errors"), body
    for admin in ("{ segmentHealth { pendingJobs failedJobs } }",
                  "{ deadLetters { key } }",
                  '{ segment(viewerId: "v1", creatorId: "c-big") { budget } }'):
        body = await api.post(admin, sub="boss", roles=("admin",))
        assert not body.get("errors"), body
    assert (await api.http.get("/metrics")).status_code == 200

    later = datetime.now(UTC) + timedelta(hours=1)
    worker = QueueWorker(services, "audit", clock=lambda: later)
    await worker.run_once(drain=True)  # the sweeps: redelivery, stranded-event recovery
    await worker.drain()
    await DailyRun(services, "audit", lambda: later).run(later.date())
    await rebuild_all(services)


@pytest.fixture
async def recorded(settings: Settings, store: Store) -> RecordingStore:
    rec = recording(store)
    application = create_app(settings, store=rec)
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            services = bootstrap(rec, config_cache_seconds=0)
            await workload(Api(http), services)
    return rec


async def test_every_query_of_the_workload_is_targeted_indexed_and_bounded(recorded):
    log = recorded.log
    assert len(log) > 500 and {q.collection for q in log} >= {
        Collections.EVENTS, Collections.PAIR_ROLLUPS, Collections.SEGMENTS,
        Collections.CREATOR_AGGREGATES, Collections.AUDIENCE_RELEASES, Collections.QUEUE,
        Collections.CREATOR_INDEX, Collections.IMPRESSIONS, Collections.SEGMENT_PERFORMANCE,
        Collections.AGGREGATE_SNAPSHOTS, Collections.DEAD_LETTERS}
    assert "?" not in {q.origin for q in log}, [str(q) for q in log if q.origin == "?"][:5]
    findings = audit(log)
    assert findings == [], "\n".join(findings)


@pytest.mark.parametrize(("query", "rule"), [
    (Query(Collections.SEGMENTS, "find", {"creator_id": "c"}, "Bad.by_creator", limit=10),
     "shard key"),
    (Query(Collections.SEGMENTS, "find", {"viewer_id": "v"}, "Bad.sorted",
           sort=[("budget", 1)], limit=10), "no index"),
    (Query(Collections.PAIR_ROLLUPS, "find", {"viewer_id": "v"}, "Bad.unbounded"),
     "unbounded"),
    (Query(Collections.SEGMENTS, "update_one", {"_id": "v|c", "viewer_id": "v"}, "Bad.upsert",
           limit=1, upsert=True), "shard key"),
    (Query(Collections.QUEUE, "find", {"status": "pending"}, "Bad.sort_before_equality",
           sort=[("due_at", 1), ("priority", -1)], limit=5), "no index"),
    (Query(Collections.SEGMENTS, "distinct", {"viewer_id": "v"}, "Bad.distinct"), "distinct"),
])
def test_the_audit_finds_a_bad_query(query, rule):
    findings = audit([query])
    assert any(f.startswith(rule) for f in findings), findings


def test_the_audit_passes_a_good_query():
    good = Query(Collections.SEGMENTS, "find", {"viewer_id": "v", "creator_id": {"$gt": "c"}},
                 "Good.page", sort=[("creator_id", 1)], limit=20)
    assert audit([good]) == []


@pytest.mark.skipif(not __import__("os").environ.get("MONGODB_URL"),
                    reason="explain() plans need a real MongoDB (MONGODB_URL)")
async def test_hot_reads_use_an_index_on_a_real_server(recorded):
    seen: set[tuple[str, str]] = set()
    for query in recorded.log:
        if query.op != "find" or (query.collection, query.origin) in seen or not query.filter:
            continue
        seen.add((query.collection, query.origin))
        cursor = recorded.db[query.collection].find(query.filter)
        if query.sort:
            cursor = cursor.sort(query.sort)
        if query.limit:
            cursor = cursor.limit(query.limit)
        plan: Any = await cursor.explain()
        text = str(plan.get("queryPlanner", {}).get("winningPlan"))
        assert "COLLSCAN" not in text, f"{query}: {text}"
