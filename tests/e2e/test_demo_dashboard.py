"""The demo world fills every dashboard panel: 90 days of daily releases and discovery counts.

A creator opening the dashboard on ``make run`` should see growth over 7 and 30 days and how
each segment converts, not "not enough history". Driven through /graphql with a creator's
token, on a demo world loaded the way ``make run`` loads it (in the background, /readyz says
when).
"""

from __future__ import annotations

from typing import Any

import httpx

from api.app import create_app
from api.settings import Settings
from services.demo import creator_id
from tests.conftest import token, wait_until_ready

CREATORS, VIEWERS = 12, 400

DASHBOARD = """query($id: ID!) { creatorAudience(creatorId: $id) {
  withheld
  growth { last7Days { available audienceChange } last30Days { available audienceChange } }
  budget: segmentPerformance(segmentType: BUDGET, segmentValue: "LOW", days: 30) {
    withheld segment { impressions conversions } baseline { impressions conversions
    conversionRate } }
  intent: segmentPerformance(segmentType: INTENT, segmentValue: "CHAT", days: 7) {
    withheld baseline { impressions } }
} }"""


async def _dashboards(settings: Settings, store: Any) -> list[dict[str, Any]]:
    demo = Settings(**{**settings.model_dump(), "audience_demo": True,
                       "audience_demo_creators": CREATORS, "audience_demo_viewers": VIEWERS})
    app = create_app(demo, store=store)
    answers = []
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            await wait_until_ready(http, 120)
            for n in range(1, CREATORS + 1):
                creator = creator_id(n)
                response = await http.post(
                    "/graphql", json={"query": DASHBOARD, "variables": {"id": creator}},
                    headers={"Authorization": f"Bearer {token(creator, 'creator')}"})
                body = response.json()
                assert not body.get("errors"), body
                answers.append(body["data"]["creatorAudience"])
    return answers


async def test_growth_and_performance_are_available_for_most_demo_creators(settings, store):
    answers = await _dashboards(settings, store)
    shown = [a for a in answers if not a["withheld"]]
    assert len(shown) >= CREATORS * 3 // 4
    with_growth = [a for a in shown if a["growth"]["last7Days"]["available"]
                   and a["growth"]["last30Days"]["available"]]
    performing = [a for a in shown if not a["budget"]["withheld"]
                  and a["budget"]["baseline"]["impressions"] > 0
                  and a["budget"]["baseline"]["conversions"] > 0
                  and not a["intent"]["withheld"]]
    assert len(with_growth) >= len(shown) * 3 // 4, [a["growth"] for a in shown]
    assert len(performing) >= len(shown) * 3 // 4, [a["budget"] for a in shown]
    # a growing audience: the demo's viewers arrive over the 90 days
    assert sum(a["growth"]["last30Days"]["audienceChange"] for a in with_growth) > 0
    # impressions that did not convert exist: conversion rates (in %) are not 100
    rates = [a["budget"]["baseline"]["conversionRate"] for a in performing]
    assert rates and all(r is not None and 0 < r < 100 for r in rates), rates
