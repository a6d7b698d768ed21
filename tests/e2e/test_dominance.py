"""The whale test (contract §7, issue 11 item 3): one known large payer in a creator's audience.

Seen: ``averageRevenue`` / ``revenueShare`` by cell told which cell the big payer was in and
roughly what they spent, 6 trials of 6. Now no revenue figure of any breakdown the payer
dominates is shown, the complementary cells included, so the answer is the same whichever cell
the payer sits in; without a dominant payer the figures are shown (the test can fail).
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.audience import Segment, audience, creator_events, join, record

C = "creator-1"
LOW_CHAT_REMOTE: Segment = ("LOW", "CHAT", "REMOTE")
MID_MEETING_NEARBY: Segment = ("MID", "MEETING", "NEARBY")
HIGH_CALL_LOCAL: Segment = ("HIGH", "CALL", "LOCAL")
GROUPS = {"LOW": LOW_CHAT_REMOTE, "MID": MID_MEETING_NEARBY, "HIGH": HIGH_CALL_LOCAL}


def revenue_figures(answer: dict[str, Any]) -> dict[str, Any]:
    """Every revenue figure of a ``creatorAudience`` answer, by where it appears."""
    out: dict[str, Any] = {"overview": answer["overview"]["averageRevenuePerViewer"]}
    for kind in ("budget", "intent", "proximity"):
        for row in answer["breakdown"][kind]:
            out[f"{kind}.{row['key']}"] = (row["averageRevenue"], row["revenueShare"])
    for row in answer["topSegments"]:
        out[f"top.{row['key']}"] = (row["averageRevenue"], row["revenueShare"])
    return out


def _shown(figures: dict[str, Any]) -> list[str]:
    return [k for k, v in figures.items()
            if v is not None and v != (None, None)]


async def _world(api: Any, whale_in: str | None) -> dict[str, Any]:
    await record(api, creator_events(C))
    fans = [(f"{tier.lower()}-{i}", segment) for tier, segment in GROUPS.items()
            for i in range(15)]
    await join(api, C, fans)
    if whale_in is not None:  # one fan of that cell spends far more than everyone else
        whale = f"{whale_in.lower()}-0"
        await record(api, [{"transactionCompleted": {
            "eventId": f"whale-{uuid.uuid4().hex[:8]}", "viewerId": whale, "creatorId": C,
            "tokens": 500_000, "kind": "tip"}}])
    # ten more fans join, so a release is cut that carries the payment
    await join(api, C, [(f"late-{i}", LOW_CHAT_REMOTE) for i in range(12)])
    return await audience(api, C)


async def test_without_a_dominant_payer_revenue_figures_are_shown(api):
    answer = await _world(api, None)
    shown = _shown(revenue_figures(answer))
    assert "overview" in shown
    assert any(k.startswith("budget.") for k in shown), revenue_figures(answer)


@pytest.mark.parametrize("cell", sorted(GROUPS))
async def test_a_whale_leaves_no_revenue_figure_anywhere(api, cell):
    answer = await _world(api, cell)
    figures = revenue_figures(answer)
    # complementary cells too: every cell's answer is null, so whichever cell the whale sits
    # in, the revenue figures read the same
    assert _shown(figures) == [], figures
    # counts and percentages are still there: the rule hides revenue only
    assert all(row["percentage"] is not None for row in answer["breakdown"]["budget"])
