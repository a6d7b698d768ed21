"""/metrics counts every event outcome and every round trip to the store (contract §8)."""

from __future__ import annotations

from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import codes

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
