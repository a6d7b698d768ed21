"""Segment history through /graphql: own history, the operators' change feed and its cursors."""

from __future__ import annotations

from typing import Any

from tests.conftest import codes
from tests.helpers import send

V, C = "viewer-h", "creator-h"
CHANGE = "id viewerId creatorId dimension from to at cursor"
HISTORY = ("query($c: ID, $n: Int, $a: String) { mySegmentHistory(creatorId: $c, first: $n, "
           f"after: $a) {{ edges {{ cursor node {{ {CHANGE} }} }} pageInfo {{ hasNextPage "
           "endCursor } } }")
FEED = ("query($n: Int, $a: String) { segmentChanges(first: $n, after: $a) { edges { cursor "
        f"node {{ {CHANGE} }} }} pageInfo {{ hasNextPage endCursor }} }} }}")
DRAIN = "mutation { processSegmentQueue(batchSize: 1000) { processed remaining } }"


async def drain(api: Any) -> None:
    body = await api.as_service(DRAIN)
    assert not body.get("errors"), body


async def history(api: Any, viewer: str, **variables: Any) -> dict[str, Any]:
    body = await api.post(HISTORY, variables, sub=viewer, roles=("viewer",))
    assert not body.get("errors"), body
    return body["data"]["mySegmentHistory"]


async def feed(api: Any, **variables: Any) -> dict[str, Any]:
    body = await api.post(FEED, variables, sub="ops", roles=("safety_team",))
    assert not body.get("errors"), body
    return body["data"]["segmentChanges"]


async def test_history_shows_a_low_to_mid_move_newest_first(api):
    await send(api, "transactionCompleted", viewerId=V, creatorId=C, tokens=100)
    await drain(api)
    await send(api, "transactionCompleted", viewerId=V, creatorId=C, tokens=6_000)
    page = await history(api, V, c=C)
    changes = [e["node"] for e in page["edges"]]
    budget = [c for c in changes if c["dimension"] == "BUDGET"]
    assert [(c["from"], c["to"]) for c in budget] == [("LOW", "MID"), (None, "LOW")]
    assert changes[0]["dimension"] == "BUDGET" and changes[0]["to"] == "MID"  # newest first
    assert {c["viewerId"] for c in changes} == {V}
    first = {c["dimension"] for c in changes if c["from"] is None}
    assert first == {"BUDGET", "INTENT", "PROXIMITY", "SHARED_INTERESTS", "VISUAL_ATTRACTION",
                     "LOYAL_FOLLOWER"}


async def test_history_is_the_callers_own_and_filters_by_creator(api):
    await send(api, "profileViewed", viewerId=V, creatorId=C, dwellSeconds=5)
    await send(api, "profileViewed", viewerId=V, creatorId="creator-other", dwellSeconds=5)
    await send(api, "profileViewed", viewerId="someone-else", creatorId=C, dwellSeconds=5)
    mine = await history(api, V)
    assert {e["node"]["creatorId"] for e in mine["edges"]} == {C, "creator-other"}
    assert {e["node"]["viewerId"] for e in mine["edges"]} == {V}
    one = await history(api, V, c=C)
    assert {e["node"]["creatorId"] for e in one["edges"]} == {C}
    assert (await history(api, "nobody"))["edges"] == []


async def test_history_pages_newest_first_without_repeats(api):
    await send(api, "profileViewed", viewerId=V, creatorId=C, dwellSeconds=5)
    await send(api, "transactionCompleted", viewerId=V, creatorId="c2", tokens=10)
    every = [e["node"]["id"] for e in (await history(api, V, n=100))["edges"]]
    seen, after = [], None
    while True:
        page = await history(api, V, n=4, a=after)
        seen += [e["node"]["id"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == every and len(set(seen)) == len(seen) == 12


async def test_feed_paged_three_at_a_time_returns_every_change_once_in_order(api):
    for i in range(3):
        await send(api, "transactionCompleted", viewerId=f"v{i}", creatorId=C, tokens=100)
    await drain(api)
    await send(api, "transactionCompleted", viewerId="v0", creatorId=C, tokens=6_000)
    await drain(api)
    everything = (await feed(api, n=100))["edges"]
    assert len(everything) == 3 * 6 + 1
    seen, after, pages = [], None, 0
    while True:
        page = await feed(api, n=3, a=after)
        pages += 1
        seen += page["edges"]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert [e["node"]["id"] for e in seen] == [e["node"]["id"] for e in everything]
    assert pages == 7
    assert seen[-1]["node"]["dimension"] == "BUDGET" and seen[-1]["node"]["to"] == "MID"
    # A consumer resumes from its last cursor: only what came after it.
    cursor = seen[-1]["cursor"]
    assert (await feed(api, a=cursor))["edges"] == []
    await send(api, "transactionCompleted", viewerId="v1", creatorId=C, tokens=6_000)
    await drain(api)
    resumed = (await feed(api, a=cursor))["edges"]
    assert [(e["node"]["viewerId"], e["node"]["to"]) for e in resumed] == [("v1", "MID")]


async def test_a_recomputation_that_changes_nothing_writes_no_change(api):
    await send(api, "profileViewed", viewerId=V, creatorId=C, dwellSeconds=5)
    await drain(api)
    before = len((await feed(api, n=100))["edges"])
    body = await api.as_service('mutation { refreshSegment(viewerId: "viewer-h", '
                                'creatorId: "creator-h") { budget } }')
    assert not body.get("errors"), body
    assert len((await feed(api, n=100))["edges"]) == before


async def test_viewer_and_creator_and_admin_are_forbidden_on_the_feed(api):
    for roles in (("viewer",), ("creator",), ("admin",)):
        body = await api.post(FEED, {}, sub="x", roles=roles)
        assert codes(body) == ["FORBIDDEN"] and body["data"] is None, body
    body = await api.post(FEED, {}, sub="svc", roles=("service",))
    assert not body.get("errors"), body
    assert codes(await api.post(FEED, {}, sub=None)) == ["UNAUTHENTICATED"]


async def test_a_cursor_not_issued_by_the_api_is_bad_input(api):
    for cursor in ("nonsense", "cG9zaXRpb246LTE=", ""):
        body = await api.post(FEED, {"a": cursor or "x"}, sub="ops", roles=("safety_team",))
        assert codes(body) == ["BAD_USER_INPUT"], body
    body = await api.post(HISTORY, {"n": 101}, sub=V, roles=("viewer",))
    assert codes(body) == ["BAD_USER_INPUT"]
