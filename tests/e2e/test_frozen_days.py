"""Frozen performance days (contract §7, issue 11 item 4): ``segmentPerformance`` shows whole
ended UTC days, and what it shows for a day never moves afterwards.

Seen: ``segmentPerformance(days: 1)`` moved during the day, because a conversion today of
yesterday's impression was counted on yesterday; two reads minutes apart isolated one viewer's
purchase. Every count now goes to the day it is written on.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from store.database import Collections
from store.performance import performance_id
from tests.audience import Segment, audience, creator_events, join, record

C = "creator-1"
HIGH_CALL_LOCAL: Segment = ("HIGH", "CALL", "LOCAL")
LOW_CHAT_REMOTE: Segment = ("LOW", "CHAT", "REMOTE")
DAY_ONE = """query($id: ID!) { creatorAudience(creatorId: $id) {
  segmentPerformance(segmentType: BUDGET, segmentValue: "HIGH", days: 1) {
    since until withheld
    segment { impressions interactions conversions conversionRate revenuePerConversion }
    baseline { impressions conversions conversionRate revenuePerConversion } } } }"""


async def test_day_one_does_not_move_when_yesterdays_impressions_convert_today(api, store):
    await record(api, creator_events(C))
    highs = [(f"high-{i}", HIGH_CALL_LOCAL) for i in range(15)]
    await join(api, C, highs + [(f"low-{i}", LOW_CHAT_REMOTE) for i in range(15)]
               + [(f"mid-{i}", ("MID", "MEETING", "NEARBY")) for i in range(12)])
    shown = {row["key"] for row in (await audience(api, C))["breakdown"]["budget"]}
    assert "HIGH" in shown, shown
    # yesterday, 23:30 UTC: every fan was shown this creator (as discovery writes it)
    now = datetime.now(UTC)
    yesterday = (now - timedelta(days=1)).date()
    shown_at = datetime(yesterday.year, yesterday.month, yesterday.day, 23, 30, tzinfo=UTC)
    labels = {"HIGH": {"budget": "HIGH", "intent": "CALL", "proximity": "LOCAL"},
              "LOW": {"budget": "LOW", "intent": "CHAT", "proximity": "REMOTE"}}
    for viewer, segment in highs + [(f"low-{i}", LOW_CHAT_REMOTE) for i in range(15)]:
        await store.collection(Collections.IMPRESSIONS).update_one(
            {"_id": f"{viewer}|{C}"},
            {"$set": {"viewer_id": viewer, "creator_id": C, "labels": labels[segment[0]],
                      "context": "FEED", "last_impressed_at": shown_at,
                      "first_impressed_at": shown_at, "impressions": 1}}, upsert=True)
    for value, n in (("HIGH", 15), ("LOW", 15)):
        await store.collection(Collections.SEGMENT_PERFORMANCE).update_one(
            {"_id": performance_id(C, "budget", value, yesterday)},
            {"$setOnInsert": {"creator_id": C, "segment_type": "budget", "segment_value": value,
                              "day": yesterday.strftime("%Y%m%d"), "interactions": 0,
                              "conversions": 0, "revenue_tokens": 0},
             "$inc": {"impressions": n}}, upsert=True)

    async def day_one() -> dict:
        body = await api.post(DAY_ONE, {"id": C}, sub=C, roles=("creator",))
        assert not body.get("errors"), body
        return body["data"]["creatorAudience"]["segmentPerformance"]

    before = await day_one()
    assert before["until"] == yesterday.isoformat() and before["withheld"] is False
    # this morning every fan pays: within 24 h of yesterday's impression, so each converts
    await record(api, [{"transactionCompleted": {
        "eventId": f"pay-{uuid.uuid4().hex[:8]}", "viewerId": v, "creatorId": C,
        "tokens": 40 + i, "kind": "tip"}} for i, (v, _) in enumerate(highs * 1)]
        + [{"transactionCompleted": {
            "eventId": f"pay-{uuid.uuid4().hex[:8]}", "viewerId": f"low-{i}", "creatorId": C,
            "tokens": 30, "kind": "tip"}} for i in range(15)])
    after = await day_one()
    assert after == before
    # the conversions were counted, on today: they show once today has ended
    today_docs = await store.collection(Collections.SEGMENT_PERFORMANCE).find_one(
        {"_id": performance_id(C, "budget", "HIGH", now.date())})
    assert today_docs is not None and today_docs["conversions"] == 15
