"""Who may read which segment field (contract §2), risk handling, paging and batching."""

from __future__ import annotations

import pytest

from tests.conftest import codes
from tests.helpers import SEGMENT_FIELDS, send

V, C = "viewer-1", "creator-1"
ROLES = ["viewer", "creator", "safety_team", "service", "admin"]
FIELDS = ["viewerId", "creatorId", "budget", "intent", "proximity", "lastUpdated",
          "budgetWindowTokens", "budgetWindowPurchases", "intentShare", "distanceKm",
          "passion { sharedInterests }", "creator { interests }", "risk"]


@pytest.fixture
async def pair(api):
    await send(api, "transactionCompleted", viewerId=V, creatorId=C, tokens=6000)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("field", FIELDS)
async def test_own_segment_fields_by_role(api, pair, role, field):
    body = await api.post(f'{{ mySegment(creatorId: "{C}") {{ {field} }} }}', sub=V,
                          roles=(role,))
    if field == "risk" and role != "safety_team":  # admin included (contract §4)
        assert codes(body) == ["FORBIDDEN"]
        assert body["data"]["mySegment"]["risk"] is None
    else:
        assert not body.get("errors"), body
        assert body["data"]["mySegment"] is not None


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("field", FIELDS)
async def test_individual_segment_lookup_by_role(api, pair, role, field):
    body = await api.post(f'{{ segment(viewerId: "{V}", creatorId: "{C}") {{ {field} }} }}',
                          sub="staff", roles=(role,))
    if role == "admin" and field == "risk":  # admin reads segments, never risk (contract §4)
        assert codes(body) == ["FORBIDDEN"]
        assert body["data"]["segment"] == {"risk": None}
    elif role in ("safety_team", "admin"):
        assert not body.get("errors"), body
        assert body["data"]["segment"] is not None
    else:  # a creator (or anyone else) never reads an individual's labels
        assert codes(body) == ["FORBIDDEN"]
        assert body["data"]["segment"] is None


async def test_creator_cannot_read_a_fans_segment_through_my_segment(api, pair):
    body = await api.post(f'{{ mySegment(creatorId: "{V}") {{ budget }} }}', sub=C,
                          roles=("creator",))
    assert body["data"]["mySegment"] is None  # their own (empty) viewer data, nothing of V's


async def test_viewer_never_sees_another_viewers_segment(api, pair):
    body = await api.post(f'{{ mySegment(creatorId: "{C}") {{ viewerId budget }} }}',
                          sub="viewer-2", roles=("viewer",))
    assert body["data"]["mySegment"] is None


async def test_safety_team_sets_risk_with_an_audit_trail(api, pair):
    body = await api.post(f'mutation {{ setViewerRisk(viewerId: "{V}", level: WATCH, '
                          'reason: "spam reports") { level previous setBy } }',
                          sub="safety-1", roles=("safety_team",))
    assert body["data"]["setViewerRisk"] == {"level": "WATCH", "previous": "NORMAL",
                                             "setBy": "safety-1"}
    body = await api.post(f'{{ segment(viewerId: "{V}", creatorId: "{C}") {{ risk }} '
                          f'viewerRiskHistory(viewerId: "{V}") {{ level reason }} }}',
                          sub="safety-1", roles=("safety_team",))
    assert body["data"]["segment"]["risk"] == "WATCH"
    assert body["data"]["viewerRiskHistory"] == [{"level": "WATCH", "reason": "spam reports"}]


@pytest.mark.parametrize("role", ["viewer", "creator", "service", "admin"])
async def test_only_the_safety_team_sets_risk(api, pair, role):
    body = await api.post(f'mutation {{ setViewerRisk(viewerId: "{V}", level: BLOCKED, '
                          'reason: "x") { level } }', sub="someone", roles=(role,))
    assert codes(body) == ["FORBIDDEN"]


async def test_risk_needs_a_reason(api, pair):
    body = await api.post(f'mutation {{ setViewerRisk(viewerId: "{V}", level: BLOCKED, '
                          'reason: "   ") { level } }', sub="s", roles=("safety_team",))
    assert codes(body) == ["BAD_USER_INPUT"]


@pytest.mark.parametrize("role", ["viewer", "creator", "safety_team", "service"])
async def test_thresholds_are_admin_only(api, role):
    body = await api.post("{ segmentConfiguration { budget { midTokens } } }", sub="x",
                          roles=(role,))
    assert codes(body) == ["FORBIDDEN"]
    body = await api.post("mutation { updateSegmentConfiguration(input: {budget: "
                          "{midTokens: 1}}) { budget { midTokens } } }", sub="x", roles=(role,))
    assert codes(body) == ["FORBIDDEN"]


@pytest.mark.parametrize(("role", "allowed"), [("service", True), ("admin", True),
                                               ("viewer", False), ("creator", False),
                                               ("safety_team", False)])
async def test_refresh_segment_roles(api, pair, role, allowed):
    body = await api.post(f'mutation {{ refreshSegment(viewerId: "{V}", creatorId: "{C}") '
                          '{ budget } }', sub="x", roles=(role,))
    if allowed:
        assert body["data"]["refreshSegment"] == {"budget": "MID"}
    else:
        assert codes(body) == ["FORBIDDEN"]


async def test_my_segments_pages_in_creator_order_with_cursors(api):
    creators = [f"creator-{i:02d}" for i in range(7)]
    for creator in reversed(creators):
        await send(api, "firstInteraction", viewerId=V, creatorId=creator)
    seen: list[str] = []
    after = None
    while True:
        args = "first: 3" + (f', after: "{after}"' if after else "")
        body = await api.post(f"{{ mySegments({args}) {{ totalCount edges {{ cursor node "
                              "{ creatorId } } pageInfo { hasNextPage endCursor } } }",
                              sub=V, roles=("viewer",))
        page = body["data"]["mySegments"]
        assert page["totalCount"] == 7
        seen += [e["node"]["creatorId"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == creators


@pytest.mark.parametrize("args", ["first: -1", "first: 101", 'after: "garbage!"'])
async def test_my_segments_rejects_bad_paging(api, args):
    body = await api.post(f"{{ mySegments({args}) {{ totalCount }} }}", sub=V,
                          roles=("viewer",))
    assert codes(body) == ["BAD_USER_INPUT"]


async def test_my_segments_costs_a_constant_number_of_store_calls(api, services):
    async def calls_for(n: int) -> int:
        viewer = f"fan-{n}"
        for i in range(n):
            await send(api, "firstInteraction", viewerId=viewer, creatorId=f"c-{i:03d}")
        before = services.store.counter.calls
        body = await api.post("{ mySegments(first: 100) { edges { node { " + SEGMENT_FIELDS
                              + " creator { interests } } } } }", sub=viewer,
                              roles=("viewer",))
        assert len(body["data"]["mySegments"]["edges"]) == n
        return services.store.counter.calls - before

    assert await calls_for(3) == await calls_for(100) <= 3
