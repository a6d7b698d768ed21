"""Migrating stored locations to cells: no exact coordinates stay in any collection.

Before locations were cells (``domain.locations``), three collections held reported latitude
and longitude: the ledger's ``locationUpdated`` events, the profiles and the creator index
cards; segments held the metre-precision distance computed from them. ``snap_stored_locations``
rewrites each such document once (a document already holding a cell is never matched again, so
running it at every start costs one query per collection that finds nothing) and
answers the pairs whose segments must be recomputed from the cells.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from domain.events import EventType
from domain.locations import LocationGrid, is_cell
from store.database import Collections, Store

#: legacy documents read per round trip (each is then rewritten by one update: a one-off
#: migration of the few location documents a store holds, run once per start until none is left)
MIGRATION_BATCH = 500


@dataclass(frozen=True)
class LocationMigration:
    events: int
    profiles: int
    cards: int
    #: (viewer, creator) of every segment whose stored distance came from exact coordinates
    stale_pairs: list[tuple[str, str]]


def _cell_of(location: Any, grid: LocationGrid) -> str | None:
    if not isinstance(location, dict):
        return None
    if is_cell(location.get("cell")):
        return str(location["cell"])
    lat, lon = location.get("latitude"), location.get("longitude")
    if isinstance(lat, int | float) and isinstance(lon, int | float):
        return grid.snap(float(lat), float(lon)).index
    return None


async def _rewrite(collection: Any, query: dict[str, Any], path: str,
                   grid: LocationGrid) -> int:
    """Replace the location object at ``path`` by ``{cell}`` in every matching document."""
    done = 0
    while True:
        docs = [d async for d in collection.find(query, {path: 1}).limit(MIGRATION_BATCH)]
        if not docs:
            return done
        for d in docs:
            node: Any = d
            for part in path.split("."):
                node = node.get(part) if isinstance(node, dict) else None
            cell = _cell_of(node, grid)
            await collection.update_one({"_id": d["_id"]},
                                        {"$set": {path: {"cell": cell}}} if cell else
                                        {"$unset": {path: ""}})
        done += len(docs)


async def snap_stored_locations(store: Store, grid: LocationGrid) -> LocationMigration:
    """Snap every stored coordinate to ``grid`` and drop the coordinates (idempotent)."""
    events = store.collection(Collections.EVENTS)

    moved_events = 0
    legacy = {"type": EventType.LOCATION_UPDATED.value, "fields.latitude": {"$exists": True}}
    while True:
        docs = [d async for d in events.find(legacy, {"fields": 1}).limit(MIGRATION_BATCH)]
        if not docs:
            break
        for d in docs:
            f = d["fields"]
            cell = grid.snap(float(f["latitude"]), float(f["longitude"])).index
            await events.update_one({"_id": d["_id"]}, {
                "$set": {"fields.cell": cell},
                "$unset": {"fields.latitude": "", "fields.longitude": ""}})
        moved_events += len(docs)
    profiles = await _rewrite(store.collection(Collections.PROFILES),
                              {"location.latitude": {"$exists": True}}, "location", grid)
    cards = await _rewrite(store.collection(Collections.CREATOR_INDEX),
                           {"location.latitude": {"$exists": True}}, "location", grid)
    segments = store.collection(Collections.SEGMENTS)
    stale: list[tuple[str, str]] = []
    # a distance stored as a double was computed from exact coordinates (cells give whole km)
    async for d in segments.find({"distance_km": {"$type": "double"}},
                                 {"viewer_id": 1, "creator_id": 1}):
        stale.append((d["viewer_id"], d["creator_id"]))
    return LocationMigration(moved_events, profiles, cards, stale)
