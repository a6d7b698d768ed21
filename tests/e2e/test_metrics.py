"""/metrics counts every event outcome and every round trip to the store (contract §8)."""

from __future__ import annotations

from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from store.database import Collections
from tests.conftest import codes
from tests.helpers import send

BATCH = ("mutation($events: [EventInput!]!) { recordEvents(events: $events) "
         "{ eventId duplicate } }")


def samples(text: str, name: str) -> dict[tuple[tuple[str, str], ...], float]:
    """The samples of one metric, keyed by their sorted labels."""
    return {tuple(sorted(s.labels.items())): s.value
            for family in text_string_to_metric_families(text) for s in family.samples
            if s.name == name}


def liked(event_id: str, **extra: Any) -> dict[str, Any]:
    return {"mediaLiked": {"eventId": event_id, "mediaId": "m1", "viewerId": "v1",
                           "creatorId": "c1", **extra}}


async def test_event_outcomes_are_counted_by_type(api):
    await api.as_service(BATCH, {"events": [liked("e1"), liked("e2")]})
    await api.as_service(BATCH, {"events": [liked("e1")]})
    refused = await api.as_service(BATCH, {"events": [liked("e3"), liked("e4", viewerId="")]})
    assert codes(refused) == ["BAD_USER_INPUT"]
    events = samples((await api.http.get("/metrics")).text, "audience_events_total")
    assert events == {
        (("outcome", "accepted"), ("type", "mediaLiked")): 2.0,
        (("outcome", "duplicate"), ("type", "mediaLiked")): 1.0,
        (("outcome", "refused"), ("type", "mediaLiked")): 2.0,
    }


async def test_every_round_trip_is_counted_by_collection_and_operation(api, store):
    before = store.counter.calls
    scraped = samples((await api.http.get("/metrics")).text, "audience_store_operations_total")
    await api.as_service(BATCH, {"events": [liked("e1")]})
    after = samples((await api.http.get("/metrics")).text, "audience_store_operations_total")
    moved = {k: v - scraped.get(k, 0.0) for k, v in after.items() if v != scraped.get(k, 0.0)}
    assert any(labels[0] == ("collection", "events") for labels in moved)  # the ledger
    # every round trip the store made shows up in /metrics, nothing else does
    assert sum(after.values()) - sum(scraped.values()) <= store.counter.calls - before
    assert sum(after.values()) == sum(
        n for (collection, _), n in store.counter.by_operation.items())


# --- the product's KPIs (contract §8) ---------------------------------------------------------
def value(text: str, name: str, **labels: str) -> float:
    found = samples(text, name).get(tuple(sorted(labels.items())))
    assert found is not None, f"{name}{labels} is not exported"
    return found


async def scrape(api) -> str:
    response = await api.http.get("/metrics")
    assert response.status_code == 200
    return response.text


async def test_discovery_kpis_count_impressions_and_paid_interactions_within_a_day(api):
    fans = [{"firstInteraction": {"eventId": f"f{i}", "viewerId": f"fan{i}",
                                  "creatorId": "c1"}} for i in range(10)]
    await api.as_service(BATCH, {"events": fans})  # ten viewers: c1 is released
    before = await scrape(api)
    body = await api.post("{ segmentRecommendations { creatorId } }", sub="v1",
                          roles=("viewer",))
    assert [r["creatorId"] for r in body["data"]["segmentRecommendations"]] == ["c1"]
    await api.as_service("mutation { flushDiscoveryImpressions }")
    shown = await scrape(api)
    assert (value(shown, "audience_discovery_impressions_total")
            - value(before, "audience_discovery_impressions_total")) == 1
    assert value(shown, "audience_discovery_conversions_total") == 0

    await send(api, "chatCompleted", viewerId="v1", creatorId="c1", tokens=0)  # free
    assert value(await scrape(api), "audience_discovery_conversions_total") == 0
    await send(api, "transactionCompleted", viewerId="v1", creatorId="c1", tokens=300)
    await send(api, "callCompleted", viewerId="v1", creatorId="c1", tokens=900)  # same one
    assert value(await scrape(api), "audience_discovery_conversions_total") == 1
    # never shown: paying for another creator converts nothing
    await send(api, "transactionCompleted", viewerId="v1", creatorId="c2", tokens=300)
    assert value(await scrape(api), "audience_discovery_conversions_total") == 1


async def test_computation_outcomes_coverage_and_refresh_age(api, store):
    fans = [{"firstInteraction": {"eventId": f"f{i}", "viewerId": f"fan{i}",
                                  "creatorId": "c1"}} for i in range(10)]
    await api.as_service(BATCH, {"events": fans})
    await api.as_service("mutation { processSegmentQueue { processed } }")
    text = await scrape(api)
    assert value(text, "audience_segment_computations_total", outcome="changed") >= 10
    assert value(text, "audience_segment_computations_total", outcome="failed") == 0
    assert value(text, "audience_segment_coverage_ratio") == 1.0
    assert 0 <= value(text, "audience_analytics_refresh_age_seconds") < 600  # just released
    assert value(text, "audience_queue_depth", priority="all", status="pending") == 0

    unchanged = value(text, "audience_segment_computations_total", outcome="unchanged")
    body = await api.as_service('mutation { refreshSegment(viewerId: "fan0", creatorId: "c1") '
                                "{ budget } }")
    assert not body.get("errors"), body
    text = await scrape(api)
    assert value(text, "audience_segment_computations_total",
                 outcome="unchanged") == unchanged + 1

    # a pair whose segment is missing (work lost or still queued) lowers coverage
    await store.collection(Collections.SEGMENTS).delete_one({"viewer_id": "fan0"})
    assert value(await scrape(api), "audience_segment_coverage_ratio") == 0.9
