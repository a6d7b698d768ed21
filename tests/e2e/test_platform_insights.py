"""``platformInsights`` (admin): every creator's published figures summed, under the creators'
own privacy rules, computed by the daily run."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.daily import DailyRun
from tests.audience import RECORD, Segment, creator_events, join, record
from tests.conftest import Api, codes

LOW_CHAT_REMOTE: Segment = ("LOW", "CHAT", "REMOTE")
HIGH_CALL_LOCAL: Segment = ("HIGH", "CALL", "LOCAL")

PLATFORM = """{ platformInsights {
  withheld withheldReason asOf creators totalRevenue
  overview { totalAudience payingAudience averageRevenuePerViewer }
  breakdown { budget { key count percentage averageRevenue revenueShare }
              intent { key count percentage } }
  topSegments { key count }
} }"""


def fans(prefix: str, n: int, segment: Segment) -> list[tuple[str, Segment]]:
    return [(f"{prefix}-{i}", segment) for i in range(n)]


async def platform(api: Api) -> dict:
    body = await api.post(PLATFORM, sub="boss", roles=("admin",))
    assert not body.get("errors"), body
    return body["data"]["platformInsights"]


async def daily_run(services, days_later: int = 0) -> None:
    now = datetime.now(UTC) + timedelta(days=days_later)  # one run per day (its lock)
    assert await DailyRun(services, "test", lambda: now).run(now.date(), now) is not None


async def two_creators(api: Api) -> None:
    for creator in ("creator-1", "creator-2"):
        await record(api, creator_events(creator))
    await join(api, "creator-1", fans("chatter", 10, LOW_CHAT_REMOTE))
    await join(api, "creator-2", fans("caller", 10, HIGH_CALL_LOCAL))


async def test_the_daily_run_sums_every_published_release(api, services):
    await two_creators(api)
    before = await platform(api)
    assert before["withheld"] is True and before["asOf"] is None
    assert "daily run" in before["withheldReason"]
    await daily_run(services)
    got = await platform(api)
    assert got["withheld"] is False and got["creators"] == 2 and got["asOf"]
    assert got["overview"]["totalAudience"] == 20
    # nobody is MID: an empty tier cannot hide alone, so HIGH and MID are shown as OTHER
    budget = {row["key"]: row for row in got["breakdown"]["budget"]}
    assert budget["LOW"]["count"] == 10 and budget["OTHER"]["count"] == 10
    assert budget["LOW"]["percentage"] + budget["OTHER"]["percentage"] == 100
    # 10 chatters paying 10 tokens, 10 callers paying 6 × 100 + 50: 6,600 tokens in all
    assert got["totalRevenue"] == 6_600
    assert budget["OTHER"]["averageRevenue"] == 650 and budget["OTHER"]["revenueShare"] == 100
    # the 34 empty combinations cannot hide alone either: one full one joins them in Other
    assert [s["key"] for s in got["topSegments"]] == ["LOW|CHAT|REMOTE"]
    # each creator's own view shows the same figures for their part
    body = await api.post('{ creatorAudience(creatorId: "creator-2") { overview { '
                          'totalAudience } } }', sub="creator-2", roles=("creator",))
    assert body["data"]["creatorAudience"]["overview"]["totalAudience"] == 10


async def test_one_fan_paying_most_of_the_platform_hides_its_revenue(api, services):
    """The dominance rule counts a viewer once across every creator they paid."""
    for creator in ("creator-1", "creator-2"):
        await record(api, creator_events(creator))
    whale = [{"transactionCompleted": {"eventId": f"whale-{c}", "viewerId": "whale",
                                       "creatorId": c, "tokens": 40_000, "kind": "tip"}}
             for c in ("creator-1", "creator-2")]
    body = await api.as_service(RECORD, {"events": whale})
    assert not body.get("errors"), body
    await join(api, "creator-1", [("whale", HIGH_CALL_LOCAL),
                                  *fans("chatter", 9, LOW_CHAT_REMOTE)])
    await join(api, "creator-2", [("whale", HIGH_CALL_LOCAL),
                                  *fans("caller", 9, LOW_CHAT_REMOTE)])
    await daily_run(services)
    got = await platform(api)
    assert got["withheld"] is False and got["overview"]["totalAudience"] == 20
    assert got["totalRevenue"] is None
    assert got["overview"]["averageRevenuePerViewer"] is None
    assert all(row["averageRevenue"] is None and row["revenueShare"] is None
               for row in got["breakdown"]["budget"])


@pytest.mark.parametrize(("sub", "roles"), [
    ("creator-1", ("creator",)), ("v", ("viewer",)), ("svc", ("service",)),
    ("safety", ("safety_team",)),
])
async def test_only_an_admin_reads_the_platform(api, sub, roles):
    body = await api.post(PLATFORM, sub=sub, roles=roles)
    assert codes(body) == ["FORBIDDEN"]


async def test_one_fans_unreleased_payment_moves_nothing_after_the_next_daily_run(api, services):
    """The platform's dominance check reads released contributions only: a payment still held
    back (one viewer moved, fewer than ten) changes no figure, not even which are hidden."""
    await two_creators(api)
    await daily_run(services)
    before = await platform(api)
    body = await api.as_service(RECORD, {"events": [{"transactionCompleted": {
        "eventId": "late-whale", "viewerId": "caller-0", "creatorId": "creator-2",
        "tokens": 90_000, "kind": "tip"}}]})
    assert not body.get("errors"), body
    await daily_run(services, days_later=1)
    after = await platform(api)
    assert {k: v for k, v in after.items() if k != "asOf"} == {
        k: v for k, v in before.items() if k != "asOf"}
