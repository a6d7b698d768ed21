"""The worker through the API: priorities, processSegmentQueue, segmentHealth, /metrics,
/readyz, fresh reads over queued work, and the worker running inside the API process."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime

import httpx
import pytest
from pymongo.errors import ServerSelectionTimeoutError

import api.app
from api.app import create_app
from services.daily import DailyRun
from store.database import Collections, Store
from tests.conftest import SECRET, codes
from tests.helpers import my_segment, send

V, C = "viewer-1", "creator-1"
RUN = "mutation($n: Int) { processSegmentQueue(batchSize: $n) { processed claimed retried " \
      "failed remaining durationMs } }"
HEALTH = """{ segmentHealth { checkedAt pendingJobs runningJobs failedJobs failedLast24h
  queue { priority cadence status jobs }
  oldestPendingAgeSeconds maxOverdueSeconds computeSecondsP50 computeSecondsP95 computeSamples
  thresholdCacheHitRate nextDailyRunAt
  lastDailyRun { day status owner pairs finishedAt }
  workers { workerId processed lastSeen }
  recentFailures { key attempts lastError } } }"""


async def stored_segment(services, viewer: str = V, creator: str = C):
    """The stored segment as it is, without the read-your-writes a client read triggers."""
    [segment] = await services.segments.segments.get_many([(viewer, creator)])
    return segment


async def queued(services) -> list[str]:
    return sorted(j.key for j in await services.queue.all())


# --- priorities: what runs in the request, what waits ------------------------------------

async def test_an_immediate_event_computes_its_pair_before_the_mutation_answers(api, services):
    await send(api, "meetingBooked", viewerId=V, creatorId=C)
    segment = await stored_segment(services)
    assert segment is not None and segment.intent.value == "MEETING"
    assert await queued(services) == []


async def test_a_big_purchase_computes_its_pair_and_queues_the_viewers_other_pairs(api,
                                                                                   services):
    await send(api, "firstInteraction", viewerId=V, creatorId="creator-2")
    await send(api, "transactionCompleted", viewerId=V, creatorId=C, tokens=25_000)
    assert (await stored_segment(services)).budget.value == "HIGH"
    assert (await stored_segment(services, creator="creator-2")).budget.value == "LOW"
    assert await queued(services) == [f"viewer:{V}"]
    [job] = await services.queue.all()
    assert job.priority == 7 and job.due_at <= datetime.now(UTC)  # a worker takes it at once


async def test_ordinary_events_are_queued_and_coalesce(api, services):
    for _ in range(3):
        await send(api, "profileViewed", viewerId=V, creatorId=C, dwellSeconds=5)
    assert await stored_segment(services) is None  # not computed in the request
    [job] = await services.queue.all()
    assert (job.key, job.events, job.priority) == (f"pair:{V}|{C}", 3, 2)


# --- read-your-writes ----------------------------------------------------------------------

async def test_a_viewer_reads_their_queued_event_at_once(api, services):
    await send(api, "profileViewed", viewerId=V, creatorId=C, dwellSeconds=0)
    segment = await my_segment(api, V, C)
    assert segment is not None and segment["passion"]["visualAttractionScore"] == 2.0
    assert await queued(services) == []  # the reader ran the job: nobody runs it again


async def test_a_pair_known_only_from_queued_work_is_listed_at_once(api, services):
    await send(api, "firstInteraction", viewerId=V, creatorId="creator-0")
    await send(api, "mediaLiked", viewerId=V, creatorId=C)  # C's pair exists only in the queue
    body = await api.post("{ mySegments { totalCount edges { node { creatorId } } } }", sub=V,
                          roles=("viewer",))
    page = body["data"]["mySegments"]
    assert [e["node"]["creatorId"] for e in page["edges"]] == ["creator-0", C]
    assert page["totalCount"] == 2


async def test_a_creators_move_reaches_a_fans_read_while_the_creator_job_waits(api, services):
    await send(api, "locationUpdated", userId=C, latitude=48.0, longitude=11.0)
    await send(api, "locationUpdated", userId=V, latitude=48.0, longitude=11.0)
    await send(api, "firstInteraction", viewerId=V, creatorId=C)
    await api.as_service(RUN, {"n": 100})
    assert (await my_segment(api, V, C))["proximity"] == "LOCAL"

    await send(api, "locationUpdated", userId=C, latitude=52.0, longitude=11.0)
    assert (await my_segment(api, V, C))["proximity"] == "REMOTE"
    body = await api.post("{ mySegments { edges { node { proximity } } } }", sub=V,
                          roles=("viewer",))
    assert body["data"]["mySegments"]["edges"] == [{"node": {"proximity": "REMOTE"}}]
    # The creator-wide job may cover millions of pairs: readers leave it to the workers.
    assert f"creator:{C}" in await queued(services)


# --- processSegmentQueue -------------------------------------------------------------------

@pytest.mark.parametrize(("role", "allowed"), [("service", True), ("admin", True),
                                               ("viewer", False), ("creator", False),
                                               ("safety_team", False)])
async def test_process_segment_queue_roles(api, role, allowed):
    body = await api.post(RUN, {"n": 10}, sub="x", roles=(role,))
    if allowed:
        assert not body.get("errors") and body["data"]["processSegmentQueue"]["processed"] == 0
    else:
        assert codes(body) == ["FORBIDDEN"] and body["data"]["processSegmentQueue"] is None


@pytest.mark.parametrize("size", [0, -1, 1001])
async def test_process_segment_queue_bounds_its_batch(api, size):
    body = await api.as_service(RUN, {"n": size})
    assert codes(body) == ["BAD_USER_INPUT"]
    assert body["errors"][0]["extensions"]["field"] == "batchSize"


async def test_process_segment_queue_drains_work_that_is_not_due_yet(api, services):
    for creator in ("c-1", "c-2", "c-3"):
        await send(api, "mediaLiked", viewerId=V, creatorId=creator)  # due next hour
    body = await api.as_service(RUN, {"n": 1})
    run = body["data"]["processSegmentQueue"]
    assert (run["processed"], run["claimed"], run["remaining"]) == (1, 1, 2)
    body = await api.post(RUN, {"n": 1000}, sub="boss", roles=("admin",))
    run = body["data"]["processSegmentQueue"]
    assert (run["processed"], run["remaining"], run["failed"]) == (2, 0, 0)
    for creator in ("c-1", "c-2", "c-3"):
        assert await stored_segment(services, creator=creator) is not None
        assert (await services.aggregates.get(creator)).total == 1


async def test_higher_priorities_are_processed_first(api, services):
    await send(api, "mediaLiked", viewerId=V, creatorId="low")  # 2, hourly
    await send(api, "chatCompleted", viewerId=V, creatorId="medium")  # 5, five minutes
    await send(api, "transactionCompleted", viewerId="big", creatorId=C, tokens=500)  # 7
    await api.as_service(RUN, {"n": 1})
    assert await queued(services) == [f"pair:{V}|low", f"pair:{V}|medium"]
    await api.as_service(RUN, {"n": 1})
    assert await queued(services) == [f"pair:{V}|low"]


# --- segmentHealth and /metrics -----------------------------------------------------------

@pytest.mark.parametrize("role", ["viewer", "creator", "safety_team", "service"])
async def test_segment_health_is_admin_only(api, role):
    body = await api.post("{ segmentHealth { pendingJobs } }", sub="x", roles=(role,))
    assert codes(body) == ["FORBIDDEN"] and body["data"]["segmentHealth"] is None


async def test_segment_health_reports_the_queue(api, services):
    await send(api, "meetingBooked", viewerId=V, creatorId=C)  # computed inline: timings
    for viewer in ("a", "b"):
        await send(api, "profileViewed", viewerId=viewer, creatorId=C, dwellSeconds=1)
    await send(api, "chatCompleted", viewerId="a", creatorId=C)
    body = await api.post(HEALTH, sub="boss", roles=("admin",))
    assert not body.get("errors"), body
    health = body["data"]["segmentHealth"]
    assert health["queue"] == [
        {"priority": 5, "cadence": "BATCH_5_MIN", "status": "PENDING", "jobs": 1},
        {"priority": 2, "cadence": "BATCH_HOURLY", "status": "PENDING", "jobs": 1}]
    assert (health["pendingJobs"], health["runningJobs"], health["failedJobs"]) == (2, 0, 0)
    assert health["failedLast24h"] == 0
    assert 0 <= health["oldestPendingAgeSeconds"] < 60
    assert health["maxOverdueSeconds"] == 0  # queued work is not due before its boundary
    assert 0 < health["computeSecondsP50"] <= health["computeSecondsP95"]
    assert health["computeSamples"] >= 1
    assert 0 <= health["thresholdCacheHitRate"] <= 1
    assert health["lastDailyRun"] is None and health["nextDailyRunAt"].endswith("02:00:00+00:00")

    day = datetime.now(UTC).date()
    await DailyRun(services, "nightly", lambda: datetime.now(UTC)).run(day)
    health = (await api.post(HEALTH, sub="boss", roles=("admin",)))["data"]["segmentHealth"]
    assert health["lastDailyRun"]["day"] == day.isoformat()
    assert health["lastDailyRun"]["status"] == "FINISHED"
    assert health["lastDailyRun"]["owner"] == "nightly"


def gauge(text: str, name: str, **labels: str) -> float:
    label = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    pattern = rf"^{name}{{{label}}} (\S+)$" if labels else rf"^{name} (\S+)$"
    found = re.search(pattern, text, re.MULTILINE)
    assert found, f"{name} {labels} not in /metrics"
    return float(found.group(1))


async def test_metrics_carry_the_queue_figures(api):
    for creator in ("c-1", "c-2"):
        await send(api, "mediaLiked", viewerId=V, creatorId=creator)
    text = (await api.http.get("/metrics")).text
    assert gauge(text, "audience_store_up") == 1
    assert gauge(text, "audience_queue_depth", priority="2", status="pending") == 2
    assert gauge(text, "audience_queue_depth", priority="all", status="failed") == 0
    assert gauge(text, "audience_queue_failed_last_24h") == 0
    assert gauge(text, "audience_queue_oldest_pending_age_seconds") >= 0
    assert 0 <= gauge(text, "audience_threshold_cache_hit_ratio") <= 1

    await api.as_service(RUN, {"n": 100})
    text = (await api.http.get("/metrics")).text
    assert 'audience_queue_depth{priority="2",status="pending"}' not in text  # emptied
    assert gauge(text, "audience_queue_depth", priority="all", status="pending") == 0


# --- readiness ----------------------------------------------------------------------------

class _Unanswering:
    """A database handle whose server never answers (every command times out)."""

    def __init__(self, db, hang: bool = False) -> None:
        self._db = db
        self._hang = hang

    def __getitem__(self, name: str):
        return self._db[name]

    def __getattr__(self, name: str):
        return getattr(self._db, name)

    async def command(self, *args, **kwargs):
        if self._hang:
            await asyncio.sleep(3600)
        raise ServerSelectionTimeoutError("no servers available")


@pytest.mark.parametrize("hang", [False, True], ids=["refuses", "hangs"])
async def test_readyz_fails_when_the_store_does_not_answer(settings, store, monkeypatch,
                                                           hang):
    monkeypatch.setattr(api.app, "READY_TIMEOUT_SECONDS", 0.05)
    application = create_app(settings, store=store)
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            assert (await http.get("/readyz")).status_code == 200
            store.db = _Unanswering(store.db, hang)
            response = await http.get("/readyz")
            assert response.status_code == 503
            assert response.json() == {"status": "unavailable"}
            assert (await http.get("/healthz")).status_code == 200  # alive, just not ready


# --- the worker inside the API process ----------------------------------------------------

async def wait_until(condition) -> None:
    """Poll ``condition`` (the work happens in another task we cannot await) for 5 s."""
    for _ in range(250):
        if await condition():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("timed out")


async def test_the_embedded_api_runs_its_worker_in_process(make_api, store: Store):
    async with make_api(audience_inline_worker=True, audience_worker_poll_seconds=0.02) as api_:
        await send(api_, "firstInteraction", viewerId=V, creatorId="creator-2")
        await send(api_, "transactionCompleted", viewerId=V, creatorId=C, tokens=25_000)

        async def fan_out_done() -> bool:
            left = await store.db[Collections.QUEUE].count_documents({})
            doc = await store.db[Collections.SEGMENTS].find_one(
                {"viewer_id": V, "creator_id": "creator-2"})
            return left == 0 and doc["budget"] == "HIGH"

        await wait_until(fan_out_done)  # nobody read it: the in-process worker did the work
        body = await api_.post("{ segmentHealth { workers { workerId } } }", sub="boss",
                               roles=("admin",))
        [worker] = body["data"]["segmentHealth"]["workers"]
        assert worker["workerId"].startswith("api:")
    # Leaving the block stopped the worker with the app: no task is left running.
    assert not [t for t in asyncio.all_tasks() if "run_forever" in repr(t.get_coro())]


async def test_the_in_process_worker_is_off_when_workers_are_separate(make_api, store):
    async with make_api(audience_inline_worker=False, audience_worker_poll_seconds=0.02) as a:
        await send(a, "transactionCompleted", viewerId=V, creatorId=C, tokens=25_000)
        await asyncio.sleep(0.2)
        assert await store.db[Collections.QUEUE].count_documents({}) == 1


def test_the_inline_worker_defaults_to_the_embedded_store(settings):
    assert settings.model_copy(update={"audience_inline_worker": None,
                                       "mongodb_url": None}).inline_worker is True
    assert settings.model_copy(update={"audience_inline_worker": None,
                                       "mongodb_url": "mongodb://db"}).inline_worker is False


# --- the command line ---------------------------------------------------------------------

def test_the_worker_command_needs_a_store_it_can_share(monkeypatch, capsys):
    from api.cli import main

    monkeypatch.delenv("MONGODB_URL", raising=False)
    assert main(["worker", "--once"]) == 2
    assert "MONGODB_URL" in capsys.readouterr().err


@pytest.mark.parametrize("size", ["0", "1001"])
def test_the_worker_command_bounds_its_batch(monkeypatch, capsys, size):
    from api.cli import main

    monkeypatch.setenv("MONGODB_URL", "mongodb://127.0.0.1:1")  # refused before connecting
    monkeypatch.setenv("AUDIENCE_JWT_SECRET", SECRET)
    assert main(["worker", "--once", "--batch-size", size]) == 2
    assert "--batch-size" in capsys.readouterr().err
