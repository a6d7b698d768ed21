"""Erasure through /graphql (contract §9): a viewer's data gone, their part of every audience
taken out, a replay of an erased event id a duplicate, a rebuild afterwards the same state."""

from __future__ import annotations

from typing import Any

from services.rebuild import rebuild_all
from store.database import Collections
from store.ledger import tombstone_id
from tests.conftest import codes
from tests.e2e.test_history import drain
from tests.helpers import send
from tests.queue_support import derived_state

V = "viewer-erased"
RECEIPT = "{ viewerId erased events segments }"
ERASE = f'mutation($v: ID!) {{ eraseViewer(viewerId: $v) {RECEIPT} }}'
MY_DATA = """{ myData { profile { interests } events(first: 50) { edges { node { eventId } } }
  segments { creatorId } history(first: 50) { edges { node { creatorId dimension from to } } }
} }"""


async def world(api: Any) -> list[str]:
    """V and eleven others in c1's audience, V also with c2; returns V's event ids."""
    sent = [await send(api, "locationUpdated", userId=V, latitude=48.1, longitude=11.5),
            await send(api, "profileInterestsUpdated", userId=V, interests=["art"]),
            await send(api, "transactionCompleted", viewerId=V, creatorId="c1", tokens=25_000),
            await send(api, "mediaLiked", viewerId=V, creatorId="c1", mediaId="m1"),
            await send(api, "profileViewed", viewerId=V, creatorId="c2", dwellSeconds=5)]
    for i in range(11):
        await send(api, "transactionCompleted", viewerId=f"fan{i}", creatorId="c1", tokens=500)
    await drain(api)
    return [r["eventId"] for r in sent]


async def erase(api: Any, viewer: str = V) -> dict[str, Any]:
    body = await api.as_service(ERASE, {"v": viewer})
    assert not body.get("errors"), body
    return body["data"]["eraseViewer"]


async def test_erasure_removes_the_viewer_and_their_part_of_every_audience(api, services):
    ids = await world(api)
    [before] = [a for a in await services.aggregates.snapshot() if a["_id"] == "c1"]
    assert await erase(api) == {"viewerId": V, "erased": True, "events": 5, "segments": 2}

    body = await api.post(MY_DATA, sub=V, roles=("viewer",))
    data = body["data"]["myData"]
    assert data["profile"] is None and data["events"]["edges"] == [] and data["segments"] == []
    # what is left says only that the segments are gone: no value of theirs is kept
    history = [e["node"] for e in data["history"]["edges"]]
    assert history and {(h["from"], h["to"]) for h in history} == {(None, None)}
    assert {h["creatorId"] for h in history} == {"c1", "c2"}

    db = services.store.db
    for collection in (Collections.PAIR_ROLLUPS, Collections.SEGMENTS, Collections.IMPRESSIONS):
        assert await db[collection].count_documents({"viewer_id": V}) == 0
    for collection in (Collections.VIEWER_ROLLUPS, Collections.PROFILES):
        assert await db[collection].count_documents({"_id": V}) == 0
    assert await db[Collections.EVENTS].count_documents({"_id": {"$in": ids}}) == 0
    assert await db[Collections.INTERACTION_KEYS].count_documents(
        {"_id": {"$regex": f"^{V}\\|"}}) == 0
    # tombstones hold hashes, never the ids
    assert await db[Collections.ERASED_EVENTS].count_documents(
        {"_id": {"$in": [tombstone_id(i) for i in ids]}}) == 5
    assert await db[Collections.ERASED_EVENTS].count_documents({"_id": {"$in": ids}}) == 0

    [after] = [a for a in await services.aggregates.snapshot() if a["_id"] == "c1"]
    assert after["total"] == before["total"] - 1
    assert after["revenue_tokens"] == before["revenue_tokens"] - 25_000
    # nothing left of the viewer anywhere: a rebuild from the ledger gives the same state
    state = await derived_state(services)
    await rebuild_all(services)
    assert await derived_state(services) == state


async def test_a_replayed_erased_event_is_a_duplicate_that_changes_nothing(api, services):
    ids = await world(api)
    await erase(api)
    state = await derived_state(services)
    replay = await send(api, "transactionCompleted", eventId=ids[2], viewerId=V,
                        creatorId="c1", tokens=25_000)
    assert replay["duplicate"] is True
    body = await api.as_service(
        "mutation($e: [EventInput!]!) { recordEvents(events: $e) { eventId duplicate } }",
        {"e": [{"mediaLiked": {"eventId": ids[3], "viewerId": V, "creatorId": "c1",
                               "mediaId": "m1"}},
               {"mediaLiked": {"eventId": "new-one", "viewerId": "fan0", "creatorId": "c1",
                               "mediaId": "m9"}}]})
    assert body["data"]["recordEvents"] == [{"eventId": ids[3], "duplicate": True},
                                            {"eventId": "new-one", "duplicate": False}]
    await drain(api)
    segments, _ = await derived_state(services)
    assert [s for s in segments if s["viewer_id"] == V] == []
    assert [s for s in state[0] if s["viewer_id"] == V] == []


async def test_erasing_twice_is_fine_and_each_call_says_what_it_removed(api):
    await world(api)
    first = await erase(api)
    assert (first["events"], first["segments"]) == (5, 2)
    assert await erase(api) == {"viewerId": V, "erased": True, "events": 0, "segments": 0}
    assert await erase(api, "never-seen") == {"viewerId": "never-seen", "erased": True,
                                              "events": 0, "segments": 0}


async def test_who_may_erase(api):
    await world(api)
    for roles in (("viewer",), ("creator",), ("safety_team",)):
        body = await api.post(ERASE, {"v": V}, sub="someone", roles=roles)
        assert codes(body) == ["FORBIDDEN"], roles
    body = await api.post(ERASE, {"v": "fan0"}, sub="ops", roles=("admin",))
    assert body["data"]["eraseViewer"]["segments"] == 1
    body = await api.post(f"mutation {{ eraseMyData {RECEIPT} }}", sub=V, roles=("viewer",))
    assert body["data"]["eraseMyData"] == {"viewerId": V, "erased": True, "events": 5,
                                           "segments": 2}
    body = await api.post(f"mutation {{ eraseMyData {RECEIPT} }}", sub=None)
    assert codes(body) == ["UNAUTHENTICATED"]
    body = await api.as_service(ERASE, {"v": ""})
    assert codes(body) == ["BAD_USER_INPUT"]
