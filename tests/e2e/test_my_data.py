"""myData through /graphql: everything stored about the caller, and only the caller's."""

from __future__ import annotations

from domain.locations import DEFAULT_GRID
from tests.conftest import codes
from tests.e2e.test_history import drain
from tests.helpers import send

MY_DATA = """query($n: Int, $a: String) { myData { userId locationCell
  profile { interests locationCell }
  events(first: $n, after: $a) { edges { cursor node { eventId type occurredAt fields } }
                                 pageInfo { hasNextPage endCursor } }
  segments { creatorId budget }
  history(first: 50) { edges { node { creatorId dimension from to } } } } }"""
V = "viewer-md"


async def my_data(api, sub=V, roles=("viewer",), **variables):
    body = await api.post(MY_DATA, variables, sub=sub, roles=roles)
    assert not body.get("errors"), body
    return body["data"]["myData"]


async def world(api) -> None:
    await send(api, "locationUpdated", userId=V, latitude=48.137154, longitude=11.576124)
    await send(api, "profileInterestsUpdated", userId=V, interests=["art", "music"])
    await send(api, "transactionCompleted", viewerId=V, creatorId="c1", tokens=100)
    await send(api, "profileViewed", viewerId=V, creatorId="c2", dwellSeconds=5)
    await send(api, "transactionCompleted", viewerId="other", creatorId="c1", tokens=9_000)
    await send(api, "locationUpdated", userId="other", latitude=40.0, longitude=-3.0)
    await drain(api)


async def test_my_data_holds_my_events_segments_history_and_profile(api):
    await world(api)
    data = await my_data(api)
    assert data["userId"] == V
    assert data["profile"]["interests"] == ["art", "music"]
    # the stored H3 cell of the default grid (about 5 km), never the reported point
    assert data["locationCell"] == data["profile"]["locationCell"] == DEFAULT_GRID.snap(
        48.137154, 11.576124).index
    events = [e["node"] for e in data["events"]["edges"]]
    assert sorted(e["type"] for e in events) == sorted(
        ["locationUpdated", "profileInterestsUpdated", "transactionCompleted",
         "profileViewed"])  # the mutation that sent each
    assert {e["creatorId"] for e in data["segments"]} == {"c1", "c2"}
    history = [e["node"] for e in data["history"]["edges"]]
    assert {h["creatorId"] for h in history} == {"c1", "c2"} and len(history) == 12


async def test_my_data_never_shows_coordinates_risk_or_anyone_else(api):
    await world(api)
    body = await api.post('mutation { setViewerRisk(viewerId: "viewer-md", level: WATCH, '
                          'reason: "test") { level } }', sub="safe", roles=("safety_team",))
    assert not body.get("errors"), body
    # even a safety-team member reading their own data gets no risk label
    body = await api.post("{ myData { segments { creatorId risk } } }", sub=V,
                          roles=("viewer", "safety_team"))
    assert not body.get("errors"), body
    assert [s["risk"] for s in body["data"]["myData"]["segments"]] == [None, None]
    assert codes(await api.post("{ myData { segments { risk } } }", sub=V,
                                roles=("viewer",))) == ["FORBIDDEN"] * 2  # one per segment
    data = await my_data(api)
    text = str(data)
    assert "48.137" not in text and "11.576" not in text
    assert "other" not in text
    for event in data["events"]["edges"]:
        fields = event["node"]["fields"]
        assert V in (fields.get("viewerId"), fields.get("viewer_id"), fields.get("user_id"),
                     fields.get("userId")), fields


async def test_events_are_paged(api):
    await world(api)
    seen, after = [], None
    while True:
        page = (await my_data(api, n=1, a=after))["events"]
        seen += [e["node"]["eventId"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert len(seen) == len(set(seen)) == 4


async def test_a_stranger_has_empty_data_and_no_token_is_unauthenticated(api):
    await world(api)
    data = await my_data(api, sub="stranger")
    assert data["events"]["edges"] == [] and data["segments"] == []
    assert data["profile"] is None and data["locationCell"] is None
    assert codes(await api.post(MY_DATA, sub=None)) == ["UNAUTHENTICATED"]
    body = await api.post(MY_DATA, {"a": "bogus"}, sub=V, roles=("viewer",))
    assert codes(body) == ["BAD_USER_INPUT"]
