"""Rebuilding from the ledger gives exactly the incremental state; the demo world loads.

The property test drives random streams of valid events (all 13 kinds, small id pools so pairs
and profiles repeat, replayed event ids) through ``Ingestion.record`` into a fresh store, then
replays the ledger with ``rebuild_rollups`` and demands the very same rollup documents.
"""

from __future__ import annotations

import asyncio
import os
import re
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from api.app import create_app
from api.bootstrap import bootstrap
from api.settings import Settings
from domain.events import ConflictingReplay, Event, EventType, parse_event
from services.container import Services
from services.demo import demo_events, load_demo_world
from services.rebuild import rebuild_rollups
from store.database import Store
from tests.conftest import token, wait_until_ready

#: a fixed "now" so examples are reproducible; histories reach back ~60 days from it
NOW = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
HISTORY_MS = 60 * 24 * 3600 * 1000

VIEWERS = ("v0", "v1", "v2")
CREATORS = ("c0", "c1")

# --- strategies: raw field values per event kind, as a client would send them ---------------

ids = st.sampled_from(("x1", "x2", "x3"))
tokens = st.integers(1, 50_000)
#: tokens an interaction may carry: 0 is a free one
fees = st.integers(0, 50_000)
#: any microsecond: parse_event truncates to the milliseconds MongoDB stores
moments = st.integers(0, HISTORY_MS * 1000).map(lambda us: NOW - timedelta(microseconds=us))
#: any decimal amount: fractional counters are summed as whole milliseconds
quarters = st.floats(0, 1440, allow_nan=False, allow_infinity=False)
coordinate = st.integers(-89_999, 89_999).map(lambda n: n / 1000)
tags = st.lists(st.sampled_from(("music", "Music", "travel", " yoga ", "gaming", "art")),
                max_size=5)


def _pair() -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries({"viewer_id": st.sampled_from(VIEWERS),
                                  "creator_id": st.sampled_from(CREATORS)})


def _with_pair(**extra: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    return st.tuples(_pair(), st.fixed_dictionaries(extra)).map(lambda t: {**t[0], **t[1]})


FIELDS: Mapping[EventType, st.SearchStrategy[dict[str, Any]]] = {
    EventType.TRANSACTION_COMPLETED: _with_pair(
        tokens=tokens, kind=st.sampled_from(("chat_payment", "Tip", "subscription"))),
    EventType.CHAT_COMPLETED: _with_pair(chat_id=ids, tokens=fees,
                                         message_count=st.integers(0, 500)),
    EventType.CHAT_MESSAGE_SENT: _with_pair(chat_id=ids, message_length=st.integers(0, 2000)),
    EventType.CALL_COMPLETED: _with_pair(call_id=ids, duration_minutes=quarters, tokens=fees,
                                         call_type=st.sampled_from(("VOICE", "VIDEO", "video"))),
    EventType.MEETING_BOOKED: _with_pair(booking_id=ids, tokens=fees, meeting_date=moments),
    EventType.MEETING_COMPLETED: _with_pair(booking_id=ids),
    EventType.EVENT_REGISTERED: _with_pair(event_ref=ids, tokens=fees),
    EventType.EVENT_ATTENDED: _with_pair(event_ref=ids),
    EventType.LOCATION_UPDATED: st.fixed_dictionaries(
        {"user_id": st.sampled_from(VIEWERS + CREATORS), "latitude": coordinate,
         "longitude": coordinate}),
    EventType.PROFILE_INTERESTS_UPDATED: st.fixed_dictionaries(
        {"user_id": st.sampled_from(VIEWERS + CREATORS), "interests": tags}),
    EventType.PROFILE_VIEWED: _with_pair(dwell_seconds=quarters),
    EventType.MEDIA_LIKED: _with_pair(media_id=ids),
    EventType.FIRST_INTERACTION: _pair(),
}
assert set(FIELDS) == set(EventType)  # every kind is exercised


@st.composite
def events(draw: st.DrawFn, when: st.SearchStrategy[datetime] = moments) -> Event:
    """One valid event; ids come from a small pool so replays (duplicates) are common."""
    kind = draw(st.sampled_from(sorted(EventType)))
    event_id = f"e{draw(st.integers(0, 25))}"
    return parse_event(kind, event_id, draw(when), draw(FIELDS[kind]), now=NOW)


async def _fresh_services() -> Services:
    # A private database per example (embedded, or on MONGODB_URL when the suite runs against
    # a real server): state never leaks between examples.
    store = Store.open(os.environ.get("MONGODB_URL") or None, f"rebuild_{uuid.uuid4().hex[:10]}")
    services = bootstrap(store)
    await services.start()
    return services


async def _discard(services: Services) -> None:
    if not services.store.embedded:
        await services.store.client.drop_database(services.store.db.name)
    services.store.close()


async def _incremental_then_rebuilt(stream: list[Event]) -> tuple[Any, Any, int]:
    services = await _fresh_services()
    try:
        for event in stream:
            try:
                await services.ingestion.record(event)
            except ConflictingReplay:
                pass  # a reused id with another payload: refused, changes nothing
        incremental = await services.rollups.snapshot()
        replayed = await rebuild_rollups(services)
        return incremental, await services.rollups.snapshot(), replayed
    finally:
        await _discard(services)


@hypothesis_settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(stream=st.lists(events(), min_size=1, max_size=40))
def test_rebuilding_from_the_ledger_reproduces_the_incremental_rollups(stream):
    incremental, rebuilt, replayed = asyncio.run(_incremental_then_rebuilt(stream))
    assert replayed == len({e.event_id for e in stream})  # duplicates were stored once
    assert rebuilt == incremental


def test_rebuild_is_exact_for_sub_millisecond_times():
    """Clients may send sub-millisecond times. Within one millisecond, the later of two
    locations wins incrementally, while a rebuild sees equal times and picks by event id."""
    tick = NOW - timedelta(seconds=1)
    later = parse_event(EventType.LOCATION_UPDATED, "b", tick + timedelta(microseconds=900),
                        {"user_id": "v0", "latitude": 1.0, "longitude": 1.0}, now=NOW)
    earlier = parse_event(EventType.LOCATION_UPDATED, "c", tick + timedelta(microseconds=100),
                          {"user_id": "v0", "latitude": 2.0, "longitude": 2.0}, now=NOW)
    incremental, rebuilt, _ = asyncio.run(_incremental_then_rebuilt([later, earlier]))
    assert rebuilt["profiles"][0]["location"] == incremental["profiles"][0]["location"]
    assert rebuilt == incremental


def test_rebuild_is_exact_for_decimal_float_counters():
    views = [parse_event(EventType.PROFILE_VIEWED, event_id, NOW,
                         {"viewer_id": "v0", "creator_id": "c0", "dwell_seconds": dwell},
                         now=NOW)
             for event_id, dwell in (("c", 0.1), ("b", 0.2), ("a", 0.3))]
    incremental, rebuilt, _ = asyncio.run(_incremental_then_rebuilt(views))
    assert rebuilt == incremental


# --- the demo world --------------------------------------------------------------------------

SMALL = {"creators": 10, "viewers": 60}


def test_demo_events_are_deterministic_valid_and_cover_every_kind():
    first = list(demo_events(seed=11, now=NOW, **SMALL))
    again = list(demo_events(seed=11, now=NOW, **SMALL))
    other = list(demo_events(seed=12, now=NOW, **SMALL))
    assert first == again
    assert first != other
    assert {e.type for e in first} == set(EventType)
    assert len({e.event_id for e in first}) == len(first)
    assert all(NOW - timedelta(days=90) <= e.occurred_at <= NOW for e in first)
    assert [e.occurred_at for e in first] == sorted(e.occurred_at for e in first)
    users = {u for e in first for u in (e.user_id, e.viewer_id, e.creator_id) if u}
    assert all(re.fullmatch(r"creator-\d{3}|viewer-\d{4}", u) for u in users)


def test_demo_world_has_every_spending_profile():
    """Heavy (> 5 purchases in 30 days), mid, low/none and lapsed (only older) spenders."""
    recent: dict[str, int] = {}
    older: dict[str, int] = {}
    stream = list(demo_events(creators=30, viewers=300, seed=7, now=NOW))
    for e in stream:
        if e.type is EventType.TRANSACTION_COMPLETED and e.viewer_id:
            window = recent if e.occurred_at > NOW - timedelta(days=29) else older
            window[e.viewer_id] = window.get(e.viewer_id, 0) + 1
    viewers = {e.viewer_id for e in stream if e.viewer_id}
    assert any(n > 5 for n in recent.values())
    assert any(2 <= n <= 5 for n in recent.values())
    assert any(v not in recent for v in viewers)
    assert any(v in older and v not in recent for v in viewers)


async def test_demo_world_loads_the_same_world_for_the_same_seed():
    snapshots = []
    counts = []
    for _ in range(2):
        services = await _fresh_services()
        counts.append(await load_demo_world(services, seed=5, now=NOW, **SMALL))
        assert await services.ledger.count() == counts[-1]
        snapshots.append(await services.rollups.snapshot())
        await _discard(services)
    assert counts[0] == counts[1] > 0
    assert snapshots[0] == snapshots[1]
    assert len(snapshots[0]["pairs"]) > SMALL["viewers"]


async def test_demo_world_is_not_loaded_into_a_store_that_holds_events(services):
    event = parse_event(EventType.FIRST_INTERACTION, "real-1", None,
                        {"viewer_id": "v1", "creator_id": "c1"}, now=datetime.now(UTC))
    await services.ingestion.record(event)
    assert await load_demo_world(services, **SMALL) == 0
    assert await services.ledger.count() == 1


async def test_server_started_with_the_demo_world_answers_queries(settings, store):
    demo = Settings(**{**settings.model_dump(), "audience_demo": True,
                       "audience_demo_creators": 4, "audience_demo_viewers": 20})
    app = create_app(demo, store=store)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            assert (await http.get("/healthz")).status_code == 200  # at once: loads behind
            await wait_until_ready(http, 30)  # the demo world loads in the background
            response = await http.post(
                "/graphql", json={"query": "{ me { userId } }"},
                headers={"Authorization": f"Bearer {token('viewer-0001', 'viewer')}"})
    assert response.status_code == 200
    assert response.json()["data"]["me"] == {"userId": "viewer-0001"}
    services = bootstrap(store)
    assert await services.ledger.count() > 0



async def test_healthz_answers_while_the_demo_world_is_still_loading(settings, store):
    # The embedded store answers synchronously; its adapter yields to the event loop on every
    # round trip, so a health check is served between two of the loader's calls instead of
    # after the whole world: /readyz still says "not yet" when /healthz has answered.
    demo = Settings(**{**settings.model_dump(), "audience_demo": True,
                       "audience_demo_creators": 20, "audience_demo_viewers": 200})
    app = create_app(demo, store=store)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            await asyncio.sleep(0.05)  # the loader is under way
            assert (await http.get("/healthz")).status_code == 200
            assert (await http.get("/readyz")).status_code == 503
            await wait_until_ready(http)
    assert await bootstrap(store).ledger.count() > 0
