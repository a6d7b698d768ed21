"""Stores written before locations were cells are migrated at start: no coordinate survives."""

from __future__ import annotations

from datetime import UTC, datetime

from api.bootstrap import bootstrap
from domain.locations import DEFAULT_GRID
from store.database import Collections, Store

NOW = datetime(2026, 11, 27, 12, tzinfo=UTC)


async def _legacy(store: Store) -> None:
    """What the previous version stored for a creator and a viewer 3 km apart."""
    await store.collection(Collections.EVENTS).insert_many([
        {"_id": f"loc-{user}", "type": "locationUpdated", "occurred_at": NOW, "received_at": NOW,
         "fields": {"user_id": user, "latitude": lat, "longitude": 11.0}, "applied": True}
        for user, lat in (("c1", 48.0), ("v1", 48.027))])
    await store.collection(Collections.PROFILES).insert_many([
        {"_id": "c1", "location": {"latitude": 48.0, "longitude": 11.0}, "location_key": "a"},
        {"_id": "v1", "location": {"latitude": 48.027, "longitude": 11.0}, "location_key": "a"}])
    await store.collection(Collections.CREATOR_INDEX).insert_one(
        {"_id": "c1", "popularity": 0, "location": {"latitude": 48.0, "longitude": 11.0}})


def _no_coordinates(doc: object) -> bool:
    text = repr(doc)
    return "latitude" not in text and "longitude" not in text


async def test_start_snaps_every_stored_coordinate_and_is_idempotent(store: Store):
    await _legacy(store)
    services = bootstrap(store, config_cache_seconds=0)
    await services.start()
    await services.start()  # a second start finds nothing left to migrate
    for name in (Collections.EVENTS, Collections.PROFILES, Collections.CREATOR_INDEX):
        docs = [d async for d in store.collection(name).find({})]
        assert all(_no_coordinates(d) for d in docs), name
        assert docs or name == Collections.CREATOR_INDEX  # cards are rebuilt from cells
    profiles = await services.rollups.profiles(["c1", "v1"])
    assert [p.location for p in profiles if p] == [DEFAULT_GRID.snap(48.0, 11.0),
                                                   DEFAULT_GRID.snap(48.027, 11.0)]
    replayed = [e async for e in services.ledger.replay()]
    assert {e.fields["cell"] for e in replayed} == {p.location.index for p in profiles if p}

