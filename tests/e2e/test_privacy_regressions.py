"""Regression tests for the privacy failures seen in issue 11, through /graphql with real tokens.

Case 1: a stranger watching discovery for a creator saw the boost, confidence and reasons move
the moment one fan booked a meeting. Case 6 (impressions): ``filterDiscoveryFeed`` with random
ids wrote impression rows for them. (Case 2, locating users, is ``test_trilateration.py``.)
"""

from __future__ import annotations

import uuid
from typing import Any

from store.database import Collections
from tests.audience import join, record

CREATOR, STRANGER = "creator-141", "stranger-9"
WATCH = """query($c: ID!) {
  creatorVisibilityBoost(creatorId: $c)
  engagementSuggestion(creatorId: $c) { suggestedType confidence reasoning }
  filterDiscoveryFeed(candidates: [$c]) { matchScore boost finalScore
    reasons { factor points description } boosts { factor percent description } }
  segmentRecommendations(limit: 20) { creatorId matchScore boost }
}"""


def _loc(user: str, lat: float, lon: float) -> dict[str, Any]:
    return {"locationUpdated": {"eventId": uuid.uuid4().hex, "userId": user, "latitude": lat,
                                "longitude": lon}}


async def _watch(api: Any) -> dict[str, Any]:
    body = await api.post(WATCH, {"c": CREATOR}, sub=STRANGER, roles=("viewer",))
    assert not body.get("errors"), body
    return body["data"]


async def test_a_fans_meeting_moves_nothing_a_stranger_sees_until_a_release(api):
    await record(api, [_loc(CREATOR, 48.8566, 2.3522), _loc(STRANGER, 48.86, 2.36)])
    # a released audience that is one meeting-seeker short of the +40 % MEETING boost
    await join(api, CREATOR, [(f"fan-{i}", ("HIGH", "MEETING" if i < 2 else "CHAT", "LOCAL"))
                              for i in range(10)])
    await record(api, [{"meetingBooked": {"eventId": uuid.uuid4().hex, "bookingId": "s",
                                          "viewerId": STRANGER, "creatorId": "creator-other",
                                          "tokens": 10, "meetingDate": "2027-01-01T12:00:00Z"}}])
    before = await _watch(api)
    await join(api, CREATOR, [("fan-late", ("HIGH", "MEETING", "LOCAL"))])
    assert await _watch(api) == before


async def test_random_ids_in_a_feed_write_no_impressions(api, services):
    await record(api, [_loc(CREATOR, 48.8566, 2.3522), _loc(STRANGER, 48.86, 2.36)])
    await join(api, CREATOR, [("fan-1", ("LOW", "CHAT", "LOCAL"))])
    randoms = [uuid.uuid4().hex for _ in range(50)]
    body = await api.post("query($c: [ID!]!) { filterDiscoveryFeed(candidates: $c) "
                          "{ creatorId } reorderDiscoveryQueue(creatorIds: $c) }",
                          {"c": [*randoms, CREATOR]}, sub=STRANGER, roles=("viewer",))
    assert not body.get("errors"), body
    assert [r["creatorId"] for r in body["data"]["filterDiscoveryFeed"]] == [CREATOR]
    assert body["data"]["reorderDiscoveryQueue"] == [CREATOR]
    for name in ("creatorVisibilityBoost", "engagementSuggestion { confidence }"):
        got = await api.post(f'{{ {name.split()[0]}(creatorId: "{randoms[0]}") '
                             f'{" ".join(name.split()[1:])} }}', sub=STRANGER,
                             roles=("viewer",))
        assert not got.get("errors"), got
        assert got["data"][name.split()[0]] in (1.0, None)
    flushed = await api.as_service("mutation { flushDiscoveryImpressions }")
    assert not flushed.get("errors"), flushed
    stored = [d async for d in services.store.collection(Collections.IMPRESSIONS).find({})]
    assert stored and {d["creator_id"] for d in stored} == {CREATOR}
