"""Trilateration: moving one's own location around someone reveals no more than their cell.

The attack that located Tinder (2014) and Bumble (2021) users: an attacker reports their own
position at many points around a victim and reads every distance-derived answer (distance,
band, proximity weight, boosts, engagement advice). Here the attacker walks a grid around a
victim creator and reads them all through ``/graphql`` with a real token; the victim is then
moved a little *inside their cell* and the attacker walks the same grid again. Identical
answers everywhere mean nothing the attacker can read separates two points of one cell.
"""

from __future__ import annotations

from typing import Any

import h3

from domain.locations import DEFAULT_GRID
from tests.helpers import send

ATTACKER, VICTIM = "attacker-1", "victim-creator"
#: the victim's cell and two points inside it, a few hundred metres apart
CELL = DEFAULT_GRID.snap(48.0, 11.0)
CENTRE = CELL.centre
INSIDE = [(CENTRE[0] + 0.004, CENTRE[1] - 0.004), (CENTRE[0] - 0.005, CENTRE[1] + 0.006)]
#: attacker positions: a grid over ±0.6° (about ±65 km: across the LOCAL band edge) plus
#: fine steps near the victim, where a metre-precision distance gave them away
GRID = ([(CENTRE[0] + dlat * 0.15, CENTRE[1] + dlon * 0.2)
         for dlat in range(-4, 5) for dlon in range(-3, 4)]
        + [(CENTRE[0] + d, CENTRE[1]) for d in (0.0003, 0.001, 0.003, 0.44, 0.445, 0.45)])

READ = """query($c: ID!) {
  mySegment(creatorId: $c) { proximity distanceKm }
  filterDiscoveryFeed(candidates: [$c]) {
    creatorId matchScore boost finalScore proximity
    reasons { factor points description } boosts { factor percent description } }
  engagementSuggestion(creatorId: $c) { suggestedType confidence reasoning }
  creatorVisibilityBoost(creatorId: $c)
  segmentRecommendations(limit: 5) { creatorId matchScore proximity reasons { description } }
}"""


async def _walk(api: Any) -> list[dict[str, Any]]:
    answers = []
    for lat, lon in GRID:
        await send(api, "locationUpdated", userId=ATTACKER, latitude=lat, longitude=lon)
        body = await api.post(READ, {"c": VICTIM}, sub=ATTACKER, roles=("viewer",))
        assert not body.get("errors"), body
        answers.append(body["data"])
    return answers


async def test_an_attacker_walking_a_grid_learns_nothing_inside_the_victims_cell(api):
    for point in INSIDE:
        assert h3.latlng_to_cell(*point, DEFAULT_GRID.resolution) == CELL.index
    await send(api, "profileInterestsUpdated", userId=VICTIM, interests=["a", "b", "c"])
    await send(api, "profileInterestsUpdated", userId=ATTACKER, interests=["a", "b", "c"])
    await send(api, "firstInteraction", viewerId=ATTACKER, creatorId=VICTIM)

    walks = []
    for lat, lon in INSIDE:
        await send(api, "locationUpdated", userId=VICTIM, latitude=lat, longitude=lon)
        walks.append(await _walk(api))
    assert walks[0] == walks[1]

    # every distance is whole km between cell centres, so the attacker's own fine steps
    # inside one cell change nothing either
    distances = [a["mySegment"]["distanceKm"] for a in walks[0]]
    assert all(isinstance(d, int) for d in distances)
    by_cell: dict[str, dict[str, Any]] = {}
    for (lat, lon), answer in zip(GRID, walks[0], strict=True):
        seen = by_cell.setdefault(h3.latlng_to_cell(lat, lon, DEFAULT_GRID.resolution), answer)
        assert seen == answer
    # and the walk crossed the LOCAL band edge: the answers did depend on the attacker's cell
    assert {a["mySegment"]["proximity"] for a in walks[0]} >= {"LOCAL", "NEARBY"}


async def test_the_victims_stored_location_is_their_cell_alone(api, services):
    await send(api, "locationUpdated", userId=VICTIM, latitude=INSIDE[0][0],
               longitude=INSIDE[0][1])
    [profile] = await services.rollups.profiles([VICTIM])
    assert profile is not None and profile.location == CELL
    stored = [d async for d in services.store.collection("events").find({})]
    assert stored and all("latitude" not in d["fields"] for d in stored)
    assert stored[0]["fields"]["cell"] == CELL.index
