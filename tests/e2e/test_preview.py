"""previewSegmentConfiguration through /graphql: what proposed thresholds would move, saved
nowhere."""

from __future__ import annotations

from typing import Any

from tests.conftest import codes
from tests.e2e.test_history import drain, feed
from tests.helpers import my_segment, send

PREVIEW = ("query($input: SegmentConfigurationInput!) { previewSegmentConfiguration("
           "input: $input) { pairsEvaluated pairsTotal complete moves { dimension from to "
           "pairs } } }")
CONFIG = "{ segmentConfiguration { budget { midTokens highTokens midPurchases } } }"


async def preview(api: Any, value: dict[str, Any]) -> dict[str, Any]:
    body = await api.post(PREVIEW, {"input": value}, sub="admin", roles=("admin",))
    assert not body.get("errors"), body
    return body["data"]["previewSegmentConfiguration"]


async def world(api: Any) -> None:
    # three LOW pairs at 3,000 tokens (one purchase), one at 500, one MID pair at 6,000
    for v in ("a", "b", "c"):
        await send(api, "transactionCompleted", viewerId=v, creatorId="c1", tokens=3_000)
    await send(api, "transactionCompleted", viewerId="d", creatorId="c1", tokens=500)
    await send(api, "transactionCompleted", viewerId="e", creatorId="c2", tokens=6_000)
    await drain(api)


async def test_a_lower_mid_threshold_lists_low_to_mid_moves_and_saves_nothing(api):
    await world(api)
    config = (await api.post(CONFIG, sub="admin", roles=("admin",)))["data"]
    changes_before = len((await feed(api, n=100))["edges"])
    result = await preview(api, {"budget": {"midTokens": 2_000}})
    assert result["pairsEvaluated"] == result["pairsTotal"] == 5 and result["complete"]
    assert result["moves"] == [{"dimension": "BUDGET", "from": "LOW", "to": "MID", "pairs": 3}]
    # nothing saved, nothing moved
    assert (await api.post(CONFIG, sub="admin", roles=("admin",)))["data"] == config
    assert (await my_segment(api, "a", "c1"))["budget"] == "LOW"
    assert len((await feed(api, n=100))["edges"]) == changes_before


async def test_a_higher_threshold_moves_the_other_way(api):
    await world(api)
    result = await preview(api, {"budget": {"midTokens": 7_000, "highTokens": 30_000}})
    assert result["moves"] == [{"dimension": "BUDGET", "from": "MID", "to": "LOW", "pairs": 1}]


async def test_thresholds_equal_to_the_live_ones_move_nothing(api):
    await world(api)
    assert (await preview(api, {"budget": {"midTokens": 5_000}}))["moves"] == []


async def test_a_large_audience_is_sampled_and_says_so(api, monkeypatch):
    import services.segments as segments_module

    monkeypatch.setattr(segments_module, "PREVIEW_MAX_PAIRS", 2)
    await world(api)
    result = await preview(api, {"budget": {"midTokens": 2_000}})
    assert result["pairsEvaluated"] == 2 and result["pairsTotal"] == 5
    assert result["complete"] is False


async def test_invalid_or_empty_proposals_are_bad_input(api):
    for value in ({"budget": {"midTokens": 30_000}}, {}, {"budget": {"midTokens": -1}}):
        body = await api.post(PREVIEW, {"input": value}, sub="admin", roles=("admin",))
        assert codes(body) == ["BAD_USER_INPUT"], body


async def test_only_admins_may_preview(api):
    for roles in (("viewer",), ("creator",), ("service",), ("safety_team",)):
        body = await api.post(PREVIEW, {"input": {"budget": {"midTokens": 1}}}, sub="x",
                              roles=roles)
        assert codes(body) == ["FORBIDDEN"] and body["data"] is None, body
